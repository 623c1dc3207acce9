#!/usr/bin/env bash
# Sets up cuas and runs the demo: a simulated drone raid on camp "alpha", end to end
# (simulated radar -> ZeroMQ -> fusion core -> MQTT -> the operator's view), about 2 minutes.
# Extra arguments go to `cuas demo` (e.g. --duration 30, --scenario swarm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
exec .venv/bin/cuas demo "$@"
