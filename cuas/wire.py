"""The wire schema: typed messages of DESIGN.md and their MessagePack / JSON codecs.

Every message is a `msgspec.Struct`, so decoding validates types, required fields and
ranges in C at MessagePack speed. Every float on the wire is bounded, which also rejects
NaN and infinities. Anything that fails raises `WireError`, whose `reason` is a short,
stable key suitable for a reject counter and whose `detail` says exactly what and where.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec import Meta, Struct, field

from cuas.errors import WireError

VERSION = 1

Kind = Literal["radar", "rf", "camera", "remote_id"]
ClassName = Literal["drone", "bird", "aircraft", "clutter", "unknown"]
TrackStatus = Literal["tentative", "confirmed", "coasting", "deleted"]
Threat = Literal["none", "low", "medium", "high", "critical"]
AlertLevel = Literal["warning", "critical"]
AlertTransition = Literal["raised", "escalated", "updated", "acknowledged", "cleared"]
SensorState = Literal["ok", "degraded", "fault"]

# The same sets as tuples, in contract order (CLASSES is also the order of class vectors).
KINDS: tuple[str, ...] = get_args(Kind)
CLASSES: tuple[str, ...] = get_args(ClassName)
TRACK_STATUSES: tuple[str, ...] = get_args(TrackStatus)
THREATS: tuple[str, ...] = get_args(Threat)
ALERT_LEVELS: tuple[str, ...] = get_args(AlertLevel)
ALERT_TRANSITIONS: tuple[str, ...] = get_args(AlertTransition)
SENSOR_STATES: tuple[str, ...] = get_args(SensorState)

# Bounded scalar types. Bounds are generous physical limits; their real job is to turn
# garbage (NaN, inf, 1e308, negative ranges) into a precise rejection.
Time = Annotated[float, Meta(ge=0.0, le=1.0e11)]
Azimuth = Annotated[float, Meta(ge=0.0, le=360.0)]
Elevation = Annotated[float, Meta(ge=-90.0, le=90.0)]
Latitude = Annotated[float, Meta(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Meta(ge=-180.0, le=180.0)]
Altitude = Annotated[float, Meta(ge=-1000.0, le=100_000.0)]
Range = Annotated[float, Meta(gt=0.0, le=1.0e6)]
RangeRate = Annotated[float, Meta(ge=-3000.0, le=3000.0)]
Speed = Annotated[float, Meta(ge=0.0, le=3000.0)]
VerticalSpeed = Annotated[float, Meta(ge=-3000.0, le=3000.0)]
SigmaMetres = Annotated[float, Meta(gt=0.0, le=1.0e5)]
SigmaDegrees = Annotated[float, Meta(gt=0.0, le=180.0)]
Probability = Annotated[float, Meta(ge=0.0, le=1.0)]
Decibels = Annotated[float, Meta(ge=-300.0, le=300.0)]
Frequency = Annotated[float, Meta(gt=0.0, le=1.0e6)]
Metres = Annotated[float, Meta(ge=-1.0e8, le=1.0e8)]
MetresPerSecond = Annotated[float, Meta(ge=-1.0e5, le=1.0e5)]
Ident = Annotated[str, Meta(min_length=1, max_length=128)]
Text = Annotated[str, Meta(max_length=1024)]
ClassProbs = dict[ClassName, Probability]
Vec3 = Annotated[list[Metres], Meta(min_length=3, max_length=3)]
VelVec3 = Annotated[list[MetresPerSecond], Meta(min_length=3, max_length=3)]


class _Message(Struct, omit_defaults=True, forbid_unknown_fields=False):
    """Base of all wire messages: unknown fields are ignored (additive changes are fine)."""


# --- detections ---------------------------------------------------------------------


class RadarDetection(_Message):
    range_m: Range
    az_deg: Azimuth
    el_deg: Elevation
    range_rate_mps: RangeRate | None = None
    rcs_dbsm: Decibels | None = None
    sigma_range_m: SigmaMetres | None = None
    sigma_az_deg: SigmaDegrees | None = None
    sigma_el_deg: SigmaDegrees | None = None
    class_probs: ClassProbs | None = None
    t: Time | None = None
    object_id: Ident | None = None  # additive: the sensor's own track id (SAPIENT object_id)


class RfDetection(_Message):
    az_deg: Azimuth
    sigma_az_deg: SigmaDegrees | None = None
    freq_mhz: Frequency | None = None
    rssi_dbm: Decibels | None = None
    protocol: Text | None = None
    emitter_id: Ident | None = None
    class_probs: ClassProbs | None = None
    t: Time | None = None
    object_id: Ident | None = None  # additive: the sensor's own track id (SAPIENT object_id)


class CameraDetection(_Message):
    az_deg: Azimuth
    el_deg: Elevation
    sigma_az_deg: SigmaDegrees | None = None
    sigma_el_deg: SigmaDegrees | None = None
    label: Text | None = None
    confidence: Probability | None = None
    class_probs: ClassProbs | None = None
    t: Time | None = None
    object_id: Ident | None = None  # additive: the sensor's own track id (SAPIENT object_id)


class RemoteIdDetection(_Message):
    lat: Latitude
    lon: Longitude
    alt_m: Altitude
    uas_id: Ident
    speed_mps: Speed | None = None
    heading_deg: Azimuth | None = None
    vspeed_mps: VerticalSpeed | None = None
    operator_lat: Latitude | None = None
    operator_lon: Longitude | None = None
    t: Time | None = None


# --- sensor -> core -----------------------------------------------------------------


class _Report(_Message, tag_field="kind"):
    v: int
    sensor_id: Ident
    seq: Annotated[int, Meta(ge=0)]
    t: Time


class RadarReport(_Report, tag="radar"):
    detections: list[RadarDetection]


class RfReport(_Report, tag="rf"):
    detections: list[RfDetection]


class CameraReport(_Report, tag="camera"):
    detections: list[CameraDetection]


class RemoteIdReport(_Report, tag="remote_id"):
    detections: list[RemoteIdDetection]


Report = RadarReport | RfReport | CameraReport | RemoteIdReport
Detection = RadarDetection | RfDetection | CameraDetection | RemoteIdDetection

REPORT_TYPES: dict[str, type[_Report]] = {
    "radar": RadarReport,
    "rf": RfReport,
    "camera": CameraReport,
    "remote_id": RemoteIdReport,
}


DETECTION_TYPES: dict[str, type[_Message]] = {
    "radar": RadarDetection,
    "rf": RfDetection,
    "camera": CameraDetection,
    "remote_id": RemoteIdDetection,
}


def report_kind(report: Report) -> str:
    """The `kind` tag of a report (msgspec keeps it on the class, not the instance)."""
    return type(report).__struct_config__.tag  # type: ignore[return-value]


class Status(_Message):
    """Sensor heartbeat, topic `status.<sensor_id>`."""

    v: int
    sensor_id: Ident
    t: Time
    state: SensorState
    detail: Text = ""


# --- core -> consumers --------------------------------------------------------------


class Track(_Message, omit_defaults=False):
    track_id: int
    t: Time
    status: TrackStatus
    lat: Latitude
    lon: Longitude
    alt_m: Altitude
    enu: Vec3
    vel_enu: VelVec3
    pos_sigma_m: Annotated[float, Meta(ge=0.0, le=1.0e8)]
    class_: ClassName = field(name="class")
    class_probs: ClassProbs
    threat: Threat
    sensors: list[Ident]
    friendly: bool
    uas_id: Ident | None
    t_update: Time  # additive: measurement time of the last update (t is the cycle time)
    # Additive: coasting because every sensor that recently updated it is silent (fault), so
    # it is kept on the picture rather than deleted for want of updates.
    sensors_silent: bool = False
    # Additive: `pos_sigma_m` split into the horizontal (root of the east and north variances)
    # and the vertical (root of the up variance) parts; `pos_sigma_m` is their root sum of
    # squares. They differ by far: a bearings-only track's height is a prior (150 m), and a
    # radar's elevation noise (1-2.5 degrees: 50-130 m up at 3 km) is often worse than its
    # azimuth's. A map draws the horizontal one (TAK `ce`), a height band the vertical one
    # (TAK `le`). None from a producer older than these fields.
    horiz_sigma_m: Annotated[float, Meta(ge=0.0, le=1.0e8)] | None = None
    alt_sigma_m: Annotated[float, Meta(ge=0.0, le=1.0e8)] | None = None
    # Additive: whether anything vouches for its place (a radar or Remote ID, a second camera,
    # a second finder hearing its emitter). False where only two lines of sight cross on it,
    # a finder's bearing and a camera's line, which cross whether or not they are of one
    # object: its position is where they cross, its alert gives the line (Alert.seen_from).
    placed: bool = True

    def sigmas(self) -> tuple[float, float]:
        """(horizontal, vertical) sigma in metres; from a producer older than the split, the
        3-D `pos_sigma_m` for both (a bound on either)."""
        h = self.pos_sigma_m if self.horiz_sigma_m is None else self.horiz_sigma_m
        v = self.pos_sigma_m if self.alt_sigma_m is None else self.alt_sigma_m
        return h, v


class TrackCycle(_Message, omit_defaults=False):
    """One update cycle of the track stream (MQTT `tracks`, ZeroMQ `tracks`)."""

    v: int
    t: Time
    tracks: list[Track]


class TrackUpdate(_Message, omit_defaults=False):
    """The tracks that scans just updated, published as soon as they are fused (MQTT
    `tracks/updates`, ZeroMQ `track_updates`): additive beside the full cycles of `TrackCycle`.

    `t` is the tracker's time when it was taken (the newest scan fused); each track is the
    same `Track` as in a cycle, its state at `t` and its `t_update` the scan that updated it.
    Only updated tracks are carried: a consumer merges them into the picture by `track_id`
    and takes the next cycle as the whole picture (deletions come only with cycles).
    """

    v: int
    t: Time
    tracks: list[Track]


class Alert(_Message, omit_defaults=False):
    """An alert's current state; `state` is the transition that produced it."""

    v: int
    alert_id: Ident
    track_id: int | None
    level: AlertLevel
    state: AlertTransition
    zone: Ident | None
    reason: Text
    t_raised: Time
    t: Time
    lat: Latitude | None
    lon: Longitude | None
    alt_m: Altitude | None
    eta_s: Annotated[float, Meta(ge=0.0, le=1.0e9)] | None
    acknowledged_by: Ident | None
    # The journal's camp-wide transition number, strictly increasing across restarts: a
    # consumer drops a `seq` it has seen (MQTT QoS 1 may deliver twice). None until journaled.
    seq: Annotated[int, Meta(ge=1)] | None = None
    # A track alert whose place nothing vouches for (two lines of sight cross on it, and
    # lines of two objects cross too) gives no position (lat, lon, alt_m and eta_s null) but
    # the line it is on: `bearing_deg` from sensor `seen_from`. Null on every other alert.
    bearing_deg: Azimuth | None = None
    seen_from: Ident | None = None


class SensorHealth(_Message, omit_defaults=False):
    """Sensor health as the core sees it (MQTT `sensors/<id>`, recording topic `sensor`)."""

    v: int
    sensor_id: Ident
    kind: Kind
    t: Time
    state: SensorState
    detail: Text
    t_last_report: Time | None
    t_last_status: Time | None
    reports: int
    detections: int
    report_rate_hz: Annotated[float, Meta(ge=0.0, le=1.0e6)]
    rejects: dict[str, int]


class ServiceStatus(_Message, omit_defaults=False):
    """The core's own liveness, MQTT `status` (retained; `offline` is also the last will)."""

    v: int
    camp_id: Ident
    state: Literal["online", "offline"]
    t: Time | None  # wall-clock time of the change; None in the last will


class Ack(_Message):
    """An operator's acknowledgement, MQTT `alerts/<alert_id>/ack`."""

    by: Ident
    t: Time


# --- errors -------------------------------------------------------------------------


_RANGE = re.compile(r"^Expected `\w+` (?:>=|<=|>|<) |^Expected `(?:array|str|object)` of length")
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"missing required field"), "missing_field"),
    (re.compile(r"at `\$\.kind`|tag field|tagged"), "unknown_kind"),
    (re.compile(r"Invalid enum value .* at `key`"), "unknown_class"),
    (re.compile(r"Invalid enum value"), "invalid_value"),
    (_RANGE, "out_of_range"),
    (re.compile(r"^Expected "), "wrong_type"),
)


def _classify(err: msgspec.ValidationError) -> WireError:
    text = str(err)
    for pattern, reason in _RULES:
        if pattern.search(text):
            return WireError(reason, text)
    return WireError("invalid", text)


def _wrap(exc: Exception) -> WireError:
    if isinstance(exc, msgspec.ValidationError):
        return _classify(exc)
    if isinstance(exc, RecursionError):
        return WireError("malformed", "nested too deeply")
    if isinstance(exc, UnicodeDecodeError):
        return WireError("malformed", f"invalid UTF-8 in a string: {exc.reason}")
    return WireError("malformed", str(exc) or type(exc).__name__)


# Everything a decoder may raise on hostile bytes: msgspec's own errors, plus a recursion
# limit on absurd nesting inside skipped fields and invalid UTF-8 in typed strings.
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, ValueError)


# --- codecs -------------------------------------------------------------------------

_report_decoder = msgspec.msgpack.Decoder(Report)


class _LooseRadarReport(_Report, tag="radar"):
    detections: list[Any]


class _LooseRfReport(_Report, tag="rf"):
    detections: list[Any]


class _LooseCameraReport(_Report, tag="camera"):
    detections: list[Any]


class _LooseRemoteIdReport(_Report, tag="remote_id"):
    detections: list[Any]


# A report's envelope with its detections undecoded, to validate them one at a time.
_loose_decoder = msgspec.msgpack.Decoder(
    _LooseRadarReport | _LooseRfReport | _LooseCameraReport | _LooseRemoteIdReport
)
_status_decoder = msgspec.msgpack.Decoder(Status)
_msgpack = msgspec.msgpack.Encoder()
_json = msgspec.json.Encoder()
_ack_decoder = msgspec.json.Decoder(Ack)


def _decode(decode: Callable[[Any], Any], data: Any) -> Any:
    """Run a msgspec decode, turning anything hostile bytes can raise into `WireError`."""
    try:
        return decode(data)
    except _DECODE_ERRORS as exc:
        raise _wrap(exc) from None


def _decode_sensor_message(decoder: msgspec.msgpack.Decoder, data: bytes | memoryview) -> Any:
    """A sensor message: non-empty, decodable, and of the schema version we speak."""
    if not data:
        raise WireError("malformed", "empty payload")
    message = _decode(decoder.decode, data)
    if message.v != VERSION:
        raise WireError(
            "bad_version", f"schema version {message.v} is not supported (expected {VERSION})"
        )
    return message


def decode_report(data: bytes | memoryview) -> Report:
    """Decode and validate one sensor report from MessagePack bytes."""
    return _decode_sensor_message(_report_decoder, data)


def decode_report_detections(data: bytes | memoryview) -> tuple[Report, list[WireError]]:
    """A sensor report with its valid detections, and why each other detection was refused.

    A report whose envelope (`v`, `sensor_id`, `seq`, `t`, `kind`, not a map) is bad raises
    `WireError` as a whole. A detection that fails validation (a field out of range, of the
    wrong type, missing) is left out alone, with its reason prefixed `detection_`, so that
    one drone passing over the radar at an elevation of 90.3 degrees does not cost the
    scan's other detections.
    """
    try:
        return decode_report(data), []
    except WireError as exc:
        if "$.detections[" not in exc.detail:
            raise
    loose = _decode_sensor_message(_loose_decoder, data)
    kind = report_kind(loose)
    detection_type = DETECTION_TYPES[kind]
    good: list[Any] = []
    refused: list[WireError] = []
    for i, raw in enumerate(loose.detections):
        try:
            good.append(msgspec.convert(raw, detection_type))
        except _DECODE_ERRORS as exc:
            err = _wrap(exc)
            detail = err.detail.replace("`$", f"`$.detections[{i}]", 1)
            refused.append(WireError(f"detection_{err.reason}", detail))
    report = REPORT_TYPES[kind](
        v=loose.v, sensor_id=loose.sensor_id, seq=loose.seq, t=loose.t, detections=good
    )
    return report, refused  # type: ignore[return-value]


def decode_status(data: bytes | memoryview) -> Status:
    """Decode and validate one sensor heartbeat from MessagePack bytes."""
    return _decode_sensor_message(_status_decoder, data)


def decode_ack(data: bytes) -> Ack:
    """Decode an operator acknowledgement from its MQTT JSON payload."""
    return _decode(_ack_decoder.decode, data)


def to_msgpack(message: Any) -> bytes:
    """Encode a wire message (or plain data) as MessagePack."""
    return _msgpack.encode(message)


def to_json(message: Any) -> bytes:
    """Encode a wire message as compact UTF-8 JSON (the MQTT payload form)."""
    return _json.encode(message)


def from_msgpack(data: bytes, type_: type) -> Any:
    """Decode MessagePack into `type_`, raising `WireError` on any failure."""
    return _decode(lambda d: msgspec.msgpack.decode(d, type=type_), data)


def from_json(data: bytes | str, type_: type) -> Any:
    """Decode JSON into `type_`, raising `WireError` on any failure."""
    return _decode(lambda d: msgspec.json.decode(d, type=type_), data)


def to_builtins(message: Any) -> Any:
    """A wire message as plain dicts/lists (for tests, logs and JSON tooling)."""
    return msgspec.to_builtins(message)
