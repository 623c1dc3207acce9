#!/usr/bin/env bash
# Sets up cuas and replays the bundled recording of a simulated attack on camp "alpha".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh dev
mkdir -p out
.venv/bin/cuas replay simulators/recordings/camp-ingress.msgpack \
    --config config/camp.example.toml --out out/camp-ingress.tracks.msgpack
echo "tracks, alerts and sensor health written to out/camp-ingress.tracks.msgpack"
