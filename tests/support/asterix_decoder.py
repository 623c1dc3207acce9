"""asterix-decoder (GPL, C): a second, independent ASTERIX decoder, in its own virtualenv.

It cannot share a venv with libasterix (both install a module `asterix`) and must not be a
dependency of the product, so the tests run it as a subprocess: datagrams go in on stdin
(each prefixed with its 4-byte little-endian length), one JSON list of records per datagram
comes out, in asterix-decoder's own names (`I040.TrkN`, `I105.Lat`, ...; leaves are
`{"val": ...}`).
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

from support.peers import ensure

SCRIPT = r"""
import json, struct, sys
import asterix
data = sys.stdin.buffer.read()
off = 0
while off < len(data):
    (n,) = struct.unpack_from("<I", data, off)
    print(json.dumps(asterix.parse(data[off + 4 : off + 4 + n], verbose=False)))
    off += 4 + n
"""


def decode(datagrams: list[bytes]) -> list[list[dict[str, Any]]]:
    """Each datagram's records as asterix-decoder reads them."""
    framed = b"".join(struct.pack("<I", len(d)) + d for d in datagrams)
    done = subprocess.run(
        [str(ensure("asterix-decoder")), "-c", SCRIPT],
        input=framed,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def sample_capture(name: str) -> bytes:
    """One of the real captures asterix-decoder ships (`cat048.raw`, `cat062cat065.raw`, ...)."""
    done = subprocess.run(
        [
            str(ensure("asterix-decoder")),
            "-c",
            "import asterix, sys; print(*asterix.list_sample_files(), sep='\\n')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    path = next(p for p in done.stdout.splitlines() if Path(p).name == name)
    return Path(path).read_bytes()
