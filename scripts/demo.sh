#!/usr/bin/env bash
# Sets up cuas and runs the demo: a simulated drone raid on camp "alpha", end to end
# (every simulated sensor of the camp -> ZeroMQ -> fusion core -> MQTT -> the operations
# console's page and the terminal view), about 2 minutes. Open the printed URL in a browser.
# Extra arguments go to `cuas demo` (e.g. --duration 30, --scenario swarm).
# CUAS_CONSOLE=HOST:PORT moves the page (default 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
listen="${CUAS_CONSOLE:-127.0.0.1:8080}"
echo "Operations console: http://${listen}/  (open it in a browser; it follows the demo live)"
scripts/setup.sh dev
exec .venv/bin/cuas demo --console "$listen" "$@"
