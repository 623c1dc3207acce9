"""SAPIENT (BSI Flex 335 v2.0) on the wire: framing, identifiers and the ICD's mandatory rules.

Shared by `cuas gateway-sapient` (we are a FUSION_NODE child of a decision node) and by
`sensors/sapient` (sensor nodes are our children). The messages are Dstl's v2.0 protos as
compiled by `sapient-msg`.

- Framing: each message is a 4-byte little-endian length, then the serialized
  `SapientMessage`. Frames above 1 MiB are refused (Apex's `messageMaxSizeKb` default).
- `node_id` is a lower-case UUIDv4; `report_id`, `object_id`, `alert_id` are ULIDs.
- `icd_version` is sent as "BSI Flex 335 v2.0" (Dstl's validator wants exactly that; like
  Apex we accept "BSI_Flex_335_v2.0" too).
- `icd_errors` applies the ICD's own marks (`is_mandatory` on fields and oneofs, `is_ulid`,
  `is_uuid`, known enum values), read from the protos' field options, as Apex's validator
  does: a message that fails is answered with an `Error` naming every problem.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import struct
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from sapient_msg import proto_options_pb2
from sapient_msg.bsi_flex_335_v2_0 import (
    alert_pb2,
    detection_report_pb2,
    error_pb2,
    location_pb2,
    range_bearing_pb2,
    registration_ack_pb2,
    registration_pb2,
    sapient_message_pb2,
    status_report_pb2,
    velocity_pb2,
)

SapientMessage = sapient_message_pb2.SapientMessage
Registration = registration_pb2.Registration
RegistrationAck = registration_ack_pb2.RegistrationAck
StatusReport = status_report_pb2.StatusReport
DetectionReport = detection_report_pb2.DetectionReport
Alert = alert_pb2.Alert
Error = error_pb2.Error
Location = location_pb2.Location
RangeBearing = range_bearing_pb2.RangeBearing
ENUVelocity = velocity_pb2.ENUVelocity
LAT_LNG_DEG_M = location_pb2.LOCATION_COORDINATE_SYSTEM_LAT_LNG_DEG_M
WGS84_E = location_pb2.LOCATION_DATUM_WGS84_E
RB_DEGREES_M = range_bearing_pb2.RANGE_BEARING_COORDINATE_SYSTEM_DEGREES_M
RB_TRUE = range_bearing_pb2.RANGE_BEARING_DATUM_TRUE
SPEED_MS = velocity_pb2.SPEED_UNITS_MS

ICD_VERSION = "BSI Flex 335 v2.0"
MAX_FRAME = 1 << 20
HEADER = struct.Struct("<I")

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_RE = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
UUID4_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class FrameError(ValueError):
    """A frame that cannot be read; `reason` is a counter key, `fatal` when the stream is lost
    (an oversize length: where the next frame starts is unknown)."""

    def __init__(self, reason: str, detail: str, *, fatal: bool = False) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.fatal = fatal


def icd_version_ok(text: str) -> bool:
    return text.replace("_", " ").strip() == ICD_VERSION


def ulid(ms: int | None = None, entropy: bytes | None = None) -> str:
    """A ULID: 48 bits of milliseconds and 80 bits of `entropy` (random when not given)."""
    ms = int(time.time() * 1000) if ms is None else ms
    rest = entropy[:10] if entropy is not None else os.urandom(10)
    n = ((ms & ((1 << 48) - 1)) << 80) | int.from_bytes(rest, "big")
    return "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in reversed(range(26)))


def stable_ulid(ms: int, *key: object) -> str:
    """A ULID whose random part is a hash of `key`: the same thing gets the same id."""
    return ulid(ms, hashlib.sha256(repr(key).encode()).digest())


def uuid4_of(*key: object) -> str:
    """A lower-case UUIDv4-shaped id derived from `key` (stable, unlike `uuid.uuid4()`)."""
    return str(uuid.UUID(bytes=hashlib.sha256(repr(key).encode()).digest()[:16], version=4))


def envelope(node_id: str, t: float | None = None, **content: Any) -> SapientMessage:
    """A `SapientMessage` from `node_id`, stamped `t` (default now), around one content."""
    message = SapientMessage(node_id=node_id, **content)
    message.timestamp.FromDatetime(datetime.fromtimestamp(time.time() if t is None else t, UTC))
    return message


def frame(message: SapientMessage) -> bytes:
    body = message.SerializeToString()
    return HEADER.pack(len(body)) + body


def timestamp_of(message: SapientMessage) -> float:
    return message.timestamp.seconds + message.timestamp.nanos * 1e-9


class FrameReader:
    """Splits a byte stream into frames; `feed` returns the complete frames' bodies so far."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out = []
        while len(self._buffer) >= HEADER.size:
            (n,) = HEADER.unpack_from(self._buffer)
            if n > self.max_frame:
                self._buffer.clear()
                raise FrameError(
                    "oversize", f"frame of {n} bytes (at most {self.max_frame})", fatal=True
                )
            if len(self._buffer) < HEADER.size + n:
                break
            out.append(bytes(self._buffer[HEADER.size : HEADER.size + n]))
            del self._buffer[: HEADER.size + n]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buffer)


def parse(body: bytes) -> SapientMessage:
    """A `SapientMessage` from a frame's body, or `FrameError` (not protobuf, or no content)."""
    try:
        message = SapientMessage.FromString(body)
    except (DecodeError, RuntimeWarning, ValueError) as exc:
        raise FrameError("malformed", f"not a SapientMessage: {exc}") from None
    return message


def _repeated(fd: FieldDescriptor) -> bool:
    flag = getattr(fd, "is_repeated", None)  # protobuf >= 6.31 deprecates `label`
    return flag if isinstance(flag, bool) else fd.label == FieldDescriptor.LABEL_REPEATED


@dataclass(frozen=True, slots=True)
class _FieldRule:
    fd: FieldDescriptor
    mandatory: bool
    ulid: bool
    uuid: bool
    repeated: bool
    enum: bool
    nested: bool  # a SAPIENT message: its own rules apply inside


@functools.cache
def _rules(desc: Descriptor) -> tuple[tuple[str, ...], tuple[_FieldRule, ...]]:
    """A message type's mandatory oneofs and field rules, read from its options once."""
    oneofs = tuple(
        od.name
        for od in desc.oneofs
        if od.GetOptions().Extensions[proto_options_pb2.oneof_options].is_mandatory
    )
    fields = []
    for fd in desc.fields:
        options = fd.GetOptions().Extensions[proto_options_pb2.field_options]
        fields.append(
            _FieldRule(
                fd=fd,
                mandatory=options.is_mandatory,
                ulid=options.is_ulid,
                uuid=options.is_uuid,
                repeated=_repeated(fd),
                enum=fd.type == FieldDescriptor.TYPE_ENUM,
                nested=fd.type == FieldDescriptor.TYPE_MESSAGE
                and fd.message_type.full_name.startswith("sapient_msg."),
            )
        )
    return oneofs, tuple(fields)


def icd_errors(message: Message, path: str = "") -> list[str]:
    """Every breach of the ICD's marks in `message`, as `path: problem` (empty: valid)."""
    errors: list[str] = []
    desc = message.DESCRIPTOR
    oneofs, rules = _rules(desc)
    for name in oneofs:
        if message.WhichOneof(name) is None:
            errors.append(f"{path or desc.name}: mandatory oneof {name!r} not set")
    present = dict(message.ListFields())
    for rule in rules:
        value = present.get(rule.fd)
        if value is None:
            if rule.mandatory:
                where = f"{path}.{rule.fd.name}" if path else rule.fd.name
                errors.append(f"{where}: mandatory field missing")
            continue
        if not (rule.ulid or rule.uuid or rule.enum or rule.nested):
            continue
        where = f"{path}.{rule.fd.name}" if path else rule.fd.name
        values = list(value) if rule.repeated else [value]
        if rule.ulid:
            errors += [f"{where}: not a ULID: {v!r}" for v in values if not ULID_RE.fullmatch(v)]
        if rule.uuid:
            errors += [
                f"{where}: not a lower-case UUIDv4: {v!r}"
                for v in values
                if not UUID4_RE.fullmatch(v)
            ]
        if rule.enum:
            known = rule.fd.enum_type.values_by_number
            errors += [f"{where}: unknown enum value {v}" for v in values if v not in known]
        if rule.nested:
            for i, sub in enumerate(values):
                errors += icd_errors(sub, f"{where}[{i}]" if rule.repeated else where)
    return errors


def error_message(node_id: str, destination: str | None, packet: bytes, *problems: str) -> bytes:
    """A framed `Error` naming `problems` about `packet` (cut to 1 KiB: it is for a person)."""
    message = envelope(
        node_id, error=Error(packet=packet[:1024] or b"\x00", error_message=list(problems))
    )
    if destination is not None and UUID4_RE.fullmatch(destination):
        message.destination_id = destination
    return frame(message)


def duration(seconds: float) -> Registration.Duration:
    return Registration.Duration(units=Registration.TIME_UNITS_SECONDS, value=seconds)


def fusion_node_id(camp_id: str, configured: str | None) -> str:
    """The camp's SAPIENT node_id: `[sapient] node_id`, or one derived from the camp id."""
    return configured.lower() if configured else uuid4_of("cuas fusion node", camp_id)
