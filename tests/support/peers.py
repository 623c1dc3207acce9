"""Independent peers for the interface tests, each in a virtualenv of its own.

The interface tests check our SAPIENT, CoT and ASTERIX output against programs written by
others: `taky` (a TAK server), `sapient-pydantic` (a SAPIENT validator on protobuf 7, which
cannot share a venv with our sapient-msg on protobuf 6) and `asterix-decoder` (GPL, and
installs a module `asterix` like our libasterix). None of them may be a dependency of cuas,
so each lives in `.venv-peers/<name>/`, created here idempotently (a stamp records what was
installed; a re-run with the same packages does nothing).

    python tests/support/peers.py            # every peer venv (scripts/setup.sh runs it)
    python tests/support/peers.py taky       # just one
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / ".venv-peers"

# name -> the packages it needs (pinned to the versions the tests were written against).
PEERS: dict[str, tuple[str, ...]] = {
    # taky needs the redis *package* even with `redis = false`, and pins Flask 2.
    "taky": ("taky==0.10", "redis"),
    "sapient-pydantic": ("sapient-pydantic==0.1.0",),
    "asterix-decoder": ("asterix-decoder==0.7.11",),
}


class PeerError(RuntimeError):
    """A peer's virtualenv could not be created; the message has the tail of pip's log."""


def python_of(name: str) -> Path:
    return ROOT / name / "bin" / "python"


def ensure(name: str) -> Path:
    """The python of peer `name`'s virtualenv, created first if missing or out of date."""
    packages = PEERS[name]
    home = ROOT / name
    ROOT.mkdir(parents=True, exist_ok=True)
    want = " ".join(packages)
    stamp = home / ".cuas-peer"
    with open(ROOT / f".{name}.lock", "w") as lock:  # parallel test workers wait for one
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == want and python_of(name).exists():
            return python_of(name)
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        done = subprocess.run(
            [str(python_of(name)), "-m", "pip", "install", "-q", *packages],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise PeerError(f"pip install {want} failed:\n{done.stderr[-2000:]}")
        stamp.write_text(want)
    return python_of(name)


def main(argv: list[str]) -> int:
    for name in argv or list(PEERS):
        if name not in PEERS:
            print(f"peers: unknown peer {name!r}; known: {', '.join(PEERS)}", file=sys.stderr)
            return 2
        print(f"peers: {name}: {ensure(name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
