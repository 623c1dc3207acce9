#!/usr/bin/env bash
# Prepares a Debian machine for cuas: system packages it lacks, then a virtualenv in .venv
# with cuas installed (editable) and its extras. Idempotent: re-running is quick.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev   or   scripts/setup.sh dev,bench
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dev}"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null; then
    echo "setup: $python not found; install Python 3.11 or newer" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: cuas needs Python 3.11 or newer ($("$python" --version) found)" >&2
    exit 1
fi

# Debian ships venv/ensurepip separately from the interpreter; the MQTT tests run a real
# Mosquitto broker (Debian keeps it in /usr/sbin, which is not on every user's PATH).
packages=()
"$python" -c 'import ensurepip, venv' 2>/dev/null || packages+=("python3-venv")
PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v mosquitto >/dev/null || packages+=("mosquitto")
# The console's browser tests (dev extra) drive Debian's headless Chromium through its own
# chromedriver (same source package, so the versions match; nothing is downloaded at test time).
if [[ ",$extras," == *",dev,"* ]] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
    packages+=("chromium" "chromium-driver")
fi
if [ "${#packages[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "setup: installing ${packages[*]} with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=".venv/.cuas-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1) $extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing cuas[$extras] into .venv (log: .venv/pip.log)"
    if ! { .venv/bin/python -m pip install --upgrade pip \
           && .venv/bin/python -m pip install -e ".[$extras]"; } > .venv/pip.log 2>&1; then
        tail -n 30 .venv/pip.log >&2
        echo "setup: pip install failed (full log: .venv/pip.log)" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

# The independent peers the interface tests talk to (taky, sapient-pydantic, asterix-decoder),
# each in a virtualenv of its own under .venv-peers/ (tests/support/peers.py; idempotent).
.venv/bin/python tests/support/peers.py >/dev/null

# The tracker's compiled kernels (numba, cuas/tracking/kernels.py): compile them now, once per
# machine (~15 s; then cached beside the module), so that neither the first service start nor a
# timed test pays for it. Quick when the cache is already there.
.venv/bin/python -c "from cuas.tracking import kernels; kernels.warm_up()"
