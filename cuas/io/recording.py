"""Recording files: consecutive MessagePack arrays `[t_received, topic, payload]`.

The same format carries sensor traffic (topics `report.<id>`, `status.<id>`) and the core's
outputs (topics `tracks`, `alert`, `sensor`). Payloads are embedded as MessagePack maps.
The reader hands back each payload as its raw MessagePack bytes, so the typed wire decoder
validates it exactly as it would a live ZeroMQ frame; the writer embeds bytes verbatim.

A payload that is not one well-formed MessagePack object (a faulty sensor's garbage, an
empty frame) cannot be embedded without breaking the file's framing, so it is stored as a
MessagePack `bin` instead, and the reader hands back its bytes exactly as they were received:
a replay sees, and rejects, precisely what the live core saw.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgpack
import msgspec

from cuas.errors import CuasError

_CHUNK = 1 << 20
_BIN_TYPES = (0xC4, 0xC5, 0xC6)  # MessagePack bin 8/16/32
_encoder = msgspec.msgpack.Encoder()


def _is_one_object(data: bytes) -> bool:
    """Whether `data` is exactly one well-formed MessagePack object (and not a bin)."""
    if not data or data[0] in _BIN_TYPES:
        return False
    try:
        msgspec.msgpack.decode(data)
    except msgspec.DecodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Record:
    t_received: float
    topic: str
    payload: bytes  # the payload map, as raw MessagePack


class RecordingError(CuasError, ValueError):
    """A recording that cannot be read further (corrupt framing, not a recording)."""


class RecordingWriter:
    """Appends records to a recording file; use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self.count = 0

    def write(self, t_received: float, topic: str, payload: Any) -> None:
        """Write one record; `payload` is a wire struct, plain data, or raw MessagePack bytes."""
        body = payload
        if isinstance(payload, (bytes, bytearray, memoryview)):
            data = bytes(payload)
            body = msgspec.Raw(data) if _is_one_object(data) else data
        self._file.write(_encoder.encode((float(t_received), topic, body)))
        self.count += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RecordingReader:
    """Iterates over the records of a recording file.

    Records that are arrays of the wrong length or with fields of the wrong type are skipped
    and counted in `skipped`; a truncated tail ends the iteration and sets `truncated`; a
    top-level object that is not an array, or bytes that are not MessagePack, mean the file
    is not a recording (or is corrupt beyond resynchronising): `RecordingError`, with the
    byte offset.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.skipped = 0
        self.truncated = False
        self.size = self.path.stat().st_size
        self.offset = 0

    def __iter__(self) -> Iterator[Record]:
        if self.size == 0:
            return
        with open(self.path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            unpacker = msgpack.Unpacker(mm, raw=False, read_size=_CHUNK, max_buffer_size=0)
            while True:
                start = unpacker.tell()
                try:
                    n = unpacker.read_array_header()
                except msgpack.OutOfData:
                    if start < self.size:
                        self.truncated = True
                    return
                except (msgpack.UnpackValueError, ValueError) as exc:
                    raise RecordingError(
                        f"{self.path}: not a recording at byte {start}: {exc}"
                    ) from None
                try:
                    if n != 3:
                        for _ in range(n):
                            unpacker.skip()
                        self.skipped += 1
                        continue
                    t_received = unpacker.unpack()
                    topic = unpacker.unpack()
                    p0 = unpacker.tell()
                    unpacker.skip()
                    p1 = unpacker.tell()
                except msgpack.OutOfData:
                    self.truncated = True
                    return
                except (msgpack.UnpackValueError, ValueError) as exc:
                    raise RecordingError(
                        f"{self.path}: corrupt record at byte {start}: {exc}"
                    ) from None
                self.offset = p1
                if not isinstance(topic, str) or not isinstance(t_received, (int, float)):
                    self.skipped += 1
                    continue
                payload = mm[p0:p1]
                if payload[0] in _BIN_TYPES:  # stored as received: not a MessagePack object
                    payload = msgpack.unpackb(payload)
                yield Record(float(t_received), topic, payload)


def read_records(path: str | Path) -> Iterator[Record]:
    """Convenience: iterate the records of a recording."""
    return iter(RecordingReader(path))
