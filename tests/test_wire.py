"""Specification tests for the wire schema (DESIGN.md, "Sensor -> core" and "Core -> consumers").

Reports and heartbeats are built by hand or by hypothesis and encoded with the independent
`msgpack` package, so the decoder is checked against the contract, not against itself.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuas import wire
from cuas.wire import (
    Ack,
    Alert,
    CameraDetection,
    CameraReport,
    RadarDetection,
    RadarReport,
    RemoteIdDetection,
    RemoteIdReport,
    RfDetection,
    RfReport,
    SensorHealth,
    Status,
    Track,
    TrackCycle,
    WireError,
    decode_ack,
    decode_report,
    decode_status,
    from_json,
    from_msgpack,
    to_json,
    to_msgpack,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The contract's vocabularies, spelled out independently of cuas.wire.
KINDS = ("radar", "rf", "camera", "remote_id")
CLASSES = ("drone", "bird", "aircraft", "clutter", "unknown")
NAN, INF = math.nan, math.inf

# --- hand-written examples ------------------------------------------------------------

CLASS_PROBS = {"drone": 0.7, "bird": 0.2, "aircraft": 0.05, "clutter": 0.03, "unknown": 0.02}

FULL_DETECTIONS: dict[str, dict[str, Any]] = {
    "radar": {
        "range_m": 1234.5,
        "az_deg": 359.9,
        "el_deg": -3.25,
        "range_rate_mps": -12.5,
        "rcs_dbsm": -20.0,
        "sigma_range_m": 5.0,
        "sigma_az_deg": 1.0,
        "sigma_el_deg": 1.5,
        "class_probs": CLASS_PROBS,
        "t": 1764000000.125,
    },
    "rf": {
        "az_deg": 0.0,
        "sigma_az_deg": 3.0,
        "freq_mhz": 2437.0,
        "rssi_dbm": -71.5,
        "protocol": "DJI OcuSync 3",
        "emitter_id": "a1:b2:c3:d4",
        "class_probs": {"drone": 1.0},
        "t": 1764000000.2,
    },
    "camera": {
        "az_deg": 360.0,
        "el_deg": 90.0,
        "sigma_az_deg": 0.2,
        "sigma_el_deg": 0.2,
        "label": "quadcopter",
        "confidence": 0.93,
        "class_probs": {"drone": 0.9, "bird": 0.1},
        "t": 1764000000.3,
    },
    "remote_id": {
        "lat": 8.6512,
        "lon": 24.4991,
        "alt_m": 712.0,
        "uas_id": "1581F4XFC23A00000000",
        "speed_mps": 14.5,
        "heading_deg": 271.0,
        "vspeed_mps": -1.5,
        "operator_lat": 8.66,
        "operator_lon": 24.51,
        "t": 1764000000.4,
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "radar": ("range_m", "az_deg", "el_deg"),
    "rf": ("az_deg",),
    "camera": ("az_deg", "el_deg"),
    "remote_id": ("lat", "lon", "alt_m", "uas_id"),
}

REPORT_TYPE = {
    "radar": RadarReport,
    "rf": RfReport,
    "camera": CameraReport,
    "remote_id": RemoteIdReport,
}
DETECTION_TYPE = {
    "radar": RadarDetection,
    "rf": RfDetection,
    "camera": CameraDetection,
    "remote_id": RemoteIdDetection,
}


def report_dict(kind: str = "radar", *, full: bool = True, n: int = 2) -> dict[str, Any]:
    """A valid report as plain data, in the exact shape of DESIGN.md."""
    det = FULL_DETECTIONS[kind]
    if not full:
        det = {k: v for k, v in det.items() if k in REQUIRED[kind]}
    return {
        "v": 1,
        "sensor_id": f"{kind}-north",
        "seq": 1842,
        "t": 1764000000.25,
        "kind": kind,
        "detections": [copy.deepcopy(det) for _ in range(n)],
    }


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def rejected(data: bytes, decode: Callable[[bytes], Any] = decode_report) -> WireError:
    """Decode `data`, expecting a WireError (and nothing else)."""
    with pytest.raises(WireError) as info:
        decode(data)
    return info.value


def make_track(**overrides: Any) -> Track:
    fields: dict[str, Any] = {
        "track_id": 17,
        "t": 1764000001.0,
        "status": "confirmed",
        "lat": 8.6512,
        "lon": 24.4991,
        "alt_m": 712.5,
        "enu": [-99.25, 133.0, 112.5],
        "vel_enu": [4.0, -3.5, 0.25],
        "pos_sigma_m": 6.5,
        "class_": "drone",
        "class_probs": {"drone": 0.8, "bird": 0.2},
        "threat": "high",
        "sensors": ["radar-1", "rf-ne"],
        "friendly": False,
        "uas_id": None,
        "t_update": 1764000000.9,
    }
    fields.update(overrides)
    return Track(**fields)


def make_alert(**overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "v": 1,
        "alert_id": "A-0001",
        "track_id": 17,
        "level": "critical",
        "state": "raised",
        "zone": "perimeter",
        "reason": "Unidentified drone inside the perimeter.",
        "t_raised": 1764000001.0,
        "t": 1764000002.0,
        "lat": 8.6512,
        "lon": 24.4991,
        "alt_m": 712.5,
        "eta_s": None,
        "acknowledged_by": None,
    }
    fields.update(overrides)
    return Alert(**fields)


def make_health(**overrides: Any) -> SensorHealth:
    fields: dict[str, Any] = {
        "v": 1,
        "sensor_id": "radar-1",
        "kind": "radar",
        "t": 1764000005.0,
        "state": "degraded",
        "detail": "high reject rate",
        "t_last_report": 1764000004.5,
        "t_last_status": None,
        "reports": 120,
        "detections": 37,
        "report_rate_hz": 1.0,
        "rejects": {"out_of_range": 3, "malformed": 1},
    }
    fields.update(overrides)
    return SensorHealth(**fields)


# --- exact round trips ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("full", [True, False], ids=["all-optional", "required-only"])
def test_report_decodes_from_the_documented_shape(kind: str, full: bool) -> None:
    data = report_dict(kind, full=full)
    report = decode_report(pack(data))
    assert isinstance(report, REPORT_TYPE[kind])
    assert wire.report_kind(report) == kind
    assert (report.v, report.sensor_id, report.seq, report.t) == (
        1,
        f"{kind}-north",
        1842,
        data["t"],
    )
    assert len(report.detections) == 2
    for det in report.detections:
        assert isinstance(det, DETECTION_TYPE[kind])
        for key, value in data["detections"][0].items():
            assert getattr(det, key) == value
    # and back: our encoding is the documented map, which decodes to the same message
    assert decode_report(to_msgpack(report)) == report
    assert msgpack.unpackb(to_msgpack(report)) == data


@pytest.mark.parametrize("kind", KINDS)
def test_empty_detections_is_a_valid_report(kind: str) -> None:
    report = decode_report(pack(report_dict(kind, n=0)))
    assert isinstance(report, REPORT_TYPE[kind])
    assert report.detections == []
    assert decode_report(to_msgpack(report)) == report


@pytest.mark.parametrize("kind", KINDS)
def test_explicit_nil_for_an_optional_field_means_absent(kind: str) -> None:
    data = report_dict(kind)
    optional = next(k for k in data["detections"][0] if k not in REQUIRED[kind])
    data["detections"][0][optional] = None
    report = decode_report(pack(data))
    assert getattr(report.detections[0], optional) is None


def test_kind_may_appear_anywhere_in_the_map() -> None:
    data = report_dict("camera")
    reordered = {"detections": data["detections"], "t": data["t"], "seq": 1, "sensor_id": "c"}
    reordered |= {"kind": "camera", "v": 1}
    assert isinstance(decode_report(pack(reordered)), CameraReport)


def test_decode_report_accepts_memoryview() -> None:
    data = pack(report_dict("rf"))
    assert decode_report(memoryview(data)) == decode_report(data)


def test_encoded_report_carries_kind_and_version() -> None:
    report = decode_report(pack(report_dict("remote_id")))
    raw = msgpack.unpackb(to_msgpack(report))
    assert raw["kind"] == "remote_id"
    assert raw["v"] == 1


def test_status_round_trip() -> None:
    status = Status(v=1, sensor_id="radar-1", t=1764000000.0, state="degraded", detail="rain")
    assert decode_status(to_msgpack(status)) == status
    raw = {"v": 1, "sensor_id": "cam-nw", "t": 1764000000.5, "state": "ok"}
    decoded = decode_status(pack(raw))
    assert decoded == Status(v=1, sensor_id="cam-nw", t=1764000000.5, state="ok")
    assert decode_status(to_msgpack(decoded)) == decoded


@pytest.mark.parametrize("state", ["ok", "degraded", "fault"])
def test_status_states(state: str) -> None:
    raw = {"v": 1, "sensor_id": "rf-ne", "t": 1.0, "state": state, "detail": "x"}
    assert decode_status(pack(raw)).state == state


def test_track_wire_name_of_class_is_class() -> None:
    track = make_track()
    as_json = json.loads(to_json(track))
    assert as_json["class"] == "drone"
    assert "class_" not in as_json
    as_msgpack = msgpack.unpackb(to_msgpack(track))
    assert as_msgpack["class"] == "drone"
    assert "class_" not in as_msgpack


def test_track_json_has_every_documented_field() -> None:
    documented = {
        "track_id", "t", "status", "lat", "lon", "alt_m", "enu", "vel_enu", "pos_sigma_m",
        "class", "class_probs", "threat", "sensors", "friendly", "uas_id",
    }  # fmt: skip
    as_json = json.loads(to_json(make_track()))
    assert documented <= as_json.keys()
    assert as_json["uas_id"] is None  # present as null, not omitted
    assert as_json["enu"] == [-99.25, 133.0, 112.5]


def test_a_track_from_a_core_older_than_the_sigmas_split_still_decodes_and_bounds_both() -> None:
    old = json.loads(to_json(make_track()))
    del old["horiz_sigma_m"], old["alt_sigma_m"]
    track = from_json(json.dumps(old).encode(), Track)
    assert (track.horiz_sigma_m, track.alt_sigma_m) == (None, None)
    assert track.sigmas() == (6.5, 6.5)
    split = make_track(pos_sigma_m=150.1, horiz_sigma_m=5.2, alt_sigma_m=150.0)
    assert from_msgpack(to_msgpack(split), Track).sigmas() == (5.2, 150.0)


def test_a_track_from_a_core_older_than_placed_decodes_as_placed() -> None:
    """`placed` (false where only two crossing lines of sight place a track) is additive: a
    track without it is placed, as every track was before it."""
    old = json.loads(to_json(make_track()))
    del old["placed"]
    assert from_json(json.dumps(old).encode(), Track).placed is True
    crossing = make_track(placed=False)
    assert from_msgpack(to_msgpack(crossing), Track).placed is False
    assert json.loads(to_json(crossing))["placed"] is False


def test_alert_json_has_every_documented_field() -> None:
    documented = {
        "v", "alert_id", "track_id", "level", "state", "zone", "reason", "t_raised", "t",
        "lat", "lon", "alt_m", "eta_s", "acknowledged_by",
    }  # fmt: skip
    as_json = json.loads(to_json(make_alert()))
    assert documented <= as_json.keys()
    assert as_json["bearing_deg"] is None and as_json["seen_from"] is None  # a place, no line
    assert as_json["v"] == 1
    assert as_json["eta_s"] is None
    assert as_json["acknowledged_by"] is None


@pytest.mark.parametrize(
    "message",
    [
        make_track(),
        make_track(uas_id="UN-PKO-0001", friendly=True, class_="unknown", status="coasting"),
        make_track(pos_sigma_m=150.1, horiz_sigma_m=5.2, alt_sigma_m=150.0),
        TrackCycle(v=1, t=1764000001.0, tracks=[make_track(), make_track(track_id=18)]),
        TrackCycle(v=1, t=1764000001.0, tracks=[]),
        make_alert(),
        make_alert(state="acknowledged", acknowledged_by="ops-2", eta_s=12.5, level="warning"),
        make_alert(track_id=None, zone=None, lat=None, lon=None, alt_m=None, state="cleared"),
        make_health(),
        make_health(t_last_report=None, rejects={}, state="fault", kind="remote_id"),
    ],
    ids=lambda m: type(m).__name__,
)
def test_consumer_messages_round_trip_json_and_msgpack(message: Any) -> None:
    assert from_json(to_json(message), type(message)) == message
    assert from_msgpack(to_msgpack(message), type(message)) == message
    json.loads(to_json(message))  # plain, standard JSON


def test_track_decoded_from_json_with_class_under_its_python_name_is_refused() -> None:
    as_json = json.loads(to_json(make_track()))
    as_json["class_"] = as_json.pop("class")
    with pytest.raises(WireError) as info:
        from_json(json.dumps(as_json), Track)
    assert info.value.reason == "missing_field"
    assert "class" in info.value.detail


def test_ack_decodes() -> None:
    assert decode_ack(b'{"by": "ops-1", "t": 1764000003.5}') == Ack(by="ops-1", t=1764000003.5)
    with pytest.raises(WireError):
        decode_ack(b'{"t": 1764000003.5}')
    with pytest.raises(WireError):
        decode_ack(b"not json")


CONSUMER_FLOATS = [
    pytest.param(make, where, id=f"{type(make()).__name__}-{'.'.join(map(str, where))}")
    for make, fields in [
        (make_track, ["t", "lat", "lon", "alt_m", "pos_sigma_m", "t_update", ("enu", 0),
                      ("vel_enu", 2), ("class_probs", "drone")]),
        (make_alert, ["t_raised", "t", "lat", "lon", "alt_m", "eta_s"]),
        (make_health, ["t", "t_last_report", "t_last_status", "report_rate_hz"]),
    ]
    for where in [f if isinstance(f, tuple) else (f,) for f in fields]
]  # fmt: skip


@pytest.mark.parametrize("bad", [NAN, INF, -INF], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(("make", "where"), CONSUMER_FLOATS)
def test_consumer_messages_reject_non_finite_floats(
    make: Callable[[], Any], where: tuple[Any, ...], bad: float
) -> None:
    """Every float on the wire is bounded: no NaN or infinity in a published message either."""
    message = make()
    plain = msgpack.unpackb(to_msgpack(message))
    _set(*where, value=bad)(plain)
    with pytest.raises(WireError) as info:
        from_msgpack(pack(plain), type(message))
    assert info.value.reason == "out_of_range"


# --- forward compatibility --------------------------------------------------------------


def test_unknown_fields_are_ignored_everywhere() -> None:
    data = report_dict("radar")
    data["priority"] = {"nested": [1, 2, {"deep": None}]}
    data["detections"][0]["snr_db"] = 17.5
    data["detections"][1]["doppler_bins"] = [1, 2, 3]
    report = decode_report(pack(data))
    assert report == decode_report(pack(report_dict("radar")))

    status = {"v": 1, "sensor_id": "s", "t": 1.0, "state": "ok", "uptime_s": 12}
    assert decode_status(pack(status)).state == "ok"

    track = json.loads(to_json(make_track()))
    track["heading_deg"] = 90.0
    assert from_json(json.dumps(track), Track) == make_track()


# --- precise reasons --------------------------------------------------------------------


def _pop(*path: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        target: Any = d
        for p in path[:-1]:
            target = target[p]
        del target[path[-1]]

    return mutate


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        target: Any = d
        for p in path[:-1]:
            target = target[p]
        target[path[-1]] = value

    return mutate


REASON_CASES: list[tuple[str, str, Callable[[dict[str, Any]], None], str, tuple[str, ...]]] = [
    # (id, kind, mutation, reason, substrings the detail must contain)
    ("no-v", "radar", _pop("v"), "missing_field", ("`v`",)),
    ("no-sensor_id", "radar", _pop("sensor_id"), "missing_field", ("sensor_id",)),
    ("no-seq", "rf", _pop("seq"), "missing_field", ("seq",)),
    ("no-t", "camera", _pop("t"), "missing_field", ("`t`",)),
    ("no-detections", "radar", _pop("detections"), "missing_field", ("detections",)),
    ("no-kind", "radar", _pop("kind"), "missing_field", ("kind",)),
    ("no-range", "radar", _pop("detections", 1, "range_m"), "missing_field",
     ("range_m", "$.detections[1]")),
    ("no-az", "rf", _pop("detections", 0, "az_deg"), "missing_field",
     ("az_deg", "$.detections[0]")),
    ("no-el", "camera", _pop("detections", 0, "el_deg"), "missing_field",
     ("el_deg", "$.detections[0]")),
    ("no-uas_id", "remote_id", _pop("detections", 0, "uas_id"), "missing_field",
     ("uas_id", "$.detections[0]")),
    ("rf-detections-in-radar", "radar", _set("detections", value=[{"az_deg": 10.0}]),
     "missing_field", ("range_m", "$.detections[0]")),
    ("az-str", "radar", _set("detections", 0, "az_deg", value="12"), "wrong_type",
     ("$.detections[0].az_deg",)),
    ("lat-bool", "remote_id", _set("detections", 1, "lat", value=True), "wrong_type",
     ("$.detections[1].lat",)),
    ("uas_id-int", "remote_id", _set("detections", 0, "uas_id", value=42), "wrong_type",
     ("$.detections[0].uas_id",)),
    ("seq-float", "radar", _set("seq", value=1.5), "wrong_type", ("$.seq",)),
    ("seq-str", "radar", _set("seq", value="1"), "wrong_type", ("$.seq",)),
    ("v-str", "radar", _set("v", value="1"), "wrong_type", ("$.v",)),
    ("v-bool", "radar", _set("v", value=True), "wrong_type", ("$.v",)),
    ("sensor_id-int", "rf", _set("sensor_id", value=7), "wrong_type", ("$.sensor_id",)),
    ("t-nil", "rf", _set("t", value=None), "wrong_type", ("$.t",)),
    ("detections-map", "radar", _set("detections", value={}), "wrong_type", ("$.detections",)),
    ("detection-array", "camera", _set("detections", 0, value=[1.0, 2.0]), "wrong_type",
     ("$.detections[0]",)),
    ("class_probs-array", "radar", _set("detections", 0, "class_probs", value=[0.5]),
     "wrong_type", ("$.detections[0].class_probs",)),
    ("label-bytes", "camera", _set("detections", 0, "label", value=b"x"), "wrong_type",
     ("$.detections[0].label",)),
    ("az-361", "radar", _set("detections", 0, "az_deg", value=361.0), "out_of_range",
     ("$.detections[0].az_deg",)),
    ("el-91", "camera", _set("detections", 1, "el_deg", value=-91.0), "out_of_range",
     ("$.detections[1].el_deg",)),
    ("range-negative", "radar", _set("detections", 0, "range_m", value=-1.0), "out_of_range",
     ("$.detections[0].range_m",)),
    ("range-nan", "radar", _set("detections", 0, "range_m", value=NAN), "out_of_range",
     ("$.detections[0].range_m",)),
    ("lat-inf", "remote_id", _set("detections", 0, "lat", value=INF), "out_of_range",
     ("$.detections[0].lat",)),
    ("t-negative", "rf", _set("t", value=-1.0), "out_of_range", ("$.t",)),
    ("seq-negative", "rf", _set("seq", value=-1), "out_of_range", ("$.seq",)),
    ("sensor_id-empty", "radar", _set("sensor_id", value=""), "out_of_range", ("$.sensor_id",)),
    ("sensor_id-long", "radar", _set("sensor_id", value="x" * 129), "out_of_range",
     ("$.sensor_id",)),
    ("prob-1.5", "camera", _set("detections", 0, "class_probs", value={"drone": 1.5}),
     "out_of_range", ("$.detections[0].class_probs",)),
    ("kind-sonar", "radar", _set("kind", value="sonar"), "unknown_kind", ("$.kind",)),
    ("kind-upper", "radar", _set("kind", value="RADAR"), "unknown_kind", ("$.kind",)),
    ("kind-empty", "radar", _set("kind", value=""), "unknown_kind", ("$.kind",)),
    ("class-ufo", "radar", _set("detections", 0, "class_probs", value={"ufo": 0.5}),
     "unknown_class", ("$.detections[0].class_probs",)),
    ("class-capitalised", "rf", _set("detections", 1, "class_probs", value={"Drone": 0.5}),
     "unknown_class", ("$.detections[1].class_probs",)),
    ("v2", "radar", _set("v", value=2), "bad_version", ("2",)),
    ("v0", "remote_id", _set("v", value=0), "bad_version", ("0",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "mutate", "reason", "in_detail"),
    [case[1:] for case in REASON_CASES],
    ids=[case[0] for case in REASON_CASES],
)
def test_rejection_reason_and_path(
    kind: str,
    mutate: Callable[[dict[str, Any]], None],
    reason: str,
    in_detail: tuple[str, ...],
) -> None:
    data = report_dict(kind)
    mutate(data)
    err = rejected(pack(data))
    assert err.reason == reason, err.detail
    for fragment in in_detail:
        assert fragment in err.detail
    assert isinstance(err, ValueError)


def malformed_cases(valid: bytes) -> dict[str, bytes]:
    return {
        "empty": b"",
        "truncated": valid[:-3],
        "truncated-header": valid[:1],
        "invalid-opcode": b"\xc1",
        "invalid-opcode-inside": b"\x82\xa1v\x01\xa1t\xc1",
        "trailing-bytes": valid + b"\x00",
        "two-messages": valid + valid,
    }


VALID_STATUS = pack({"v": 1, "sensor_id": "radar-1", "t": 1.0, "state": "ok"})
MALFORMED_CASES = [
    pytest.param(decode, data, id=f"{name}-{case}")
    for name, decode, valid in [
        ("report", decode_report, pack(report_dict("radar"))),
        ("status", decode_status, VALID_STATUS),
    ]
    for case, data in malformed_cases(valid).items()
]


@pytest.mark.parametrize(("decode", "data"), MALFORMED_CASES)
def test_malformed_payloads(decode: Callable[[bytes], Any], data: bytes) -> None:
    assert rejected(data, decode).reason == "malformed"


@pytest.mark.parametrize("obj", [[1, 2, 3], 5, "radar", None, b"\x80"], ids=repr)
def test_top_level_must_be_a_map(obj: Any) -> None:
    assert rejected(pack(obj)).reason == "wrong_type"
    assert rejected(pack(obj), decode_status).reason == "wrong_type"


@pytest.mark.parametrize(
    ("mutate", "reason", "path"),
    [
        (_pop("state"), "missing_field", "state"),
        (_set("state", value="broken"), None, "$.state"),
        (_set("t", value=NAN), "out_of_range", "$.t"),
        (_set("detail", value=3), "wrong_type", "$.detail"),
        (_set("detail", value="x" * 1025), "out_of_range", "$.detail"),
        (_set("v", value=2), "bad_version", "2"),
    ],
)
def test_status_rejections(
    mutate: Callable[[dict[str, Any]], None], reason: str | None, path: str
) -> None:
    data = {"v": 1, "sensor_id": "radar-1", "t": 1.0, "state": "ok", "detail": ""}
    mutate(data)
    err = rejected(pack(data), decode_status)
    if reason is not None:
        assert err.reason == reason
    assert path in err.detail


def test_deeply_nested_unknown_field_is_a_wire_error() -> None:
    """A hostile 5 kB payload must not escape as RecursionError (it would kill the ingest)."""
    depth = 5000
    data = (
        b"\x85\xa1v\x01\xa9sensor_id\xa1s\xa3seq\x00\xa1t\x00\xa5extra" + b"\x91" * depth + b"\x00"
    )
    rejected(data)
    status = b"\x81\xa5extra" + b"\x81\xa1x" * depth + b"\x00"
    rejected(status, decode_status)


@pytest.mark.parametrize(
    ("where", "decode"),
    [
        pytest.param(("sensor_id",), decode_report, id="report-sensor_id"),
        pytest.param(("kind",), decode_report, id="report-kind"),
        pytest.param(("detections", 0, "uas_id"), decode_report, id="report-uas_id"),
        pytest.param(("sensor_id",), decode_status, id="status-sensor_id"),
        pytest.param(("state",), decode_status, id="status-state"),
    ],
)
def test_invalid_utf8_in_a_string_field_is_a_wire_error(
    where: tuple[Any, ...], decode: Callable[[bytes], Any]
) -> None:
    """A corrupt byte inside a string must be a WireError, not a UnicodeDecodeError."""
    marker = "\u2603MARK\u2603"
    if decode is decode_report:
        data: dict[str, Any] = report_dict("remote_id", n=1)
    else:
        data = {"v": 1, "sensor_id": "radar-1", "t": 1.0, "state": "ok"}
    _set(*where, value=marker)(data)
    raw = pack(data).replace(marker.encode(), b"\xff\xfe\xffMARK\xff\xfe\xff")  # same length
    rejected(raw, decode)


# --- hypothesis: valid messages round-trip exactly --------------------------------------

_chars = st.characters(exclude_categories=("Cs",))  # any encodable code point
idents = st.text(_chars, min_size=1, max_size=128)
texts = st.text(_chars, max_size=64)


def floats(
    lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False
) -> st.SearchStrategy[float]:
    return st.floats(
        lo, hi, exclude_min=lo_open, exclude_max=hi_open, allow_nan=False, allow_infinity=False
    )


times = floats(0.0, 1.0e11)
azimuths = floats(0.0, 360.0)
elevations = floats(-90.0, 90.0)
lats = floats(-90.0, 90.0)
lons = floats(-180.0, 180.0)
alts = floats(-1000.0, 100_000.0)
probs = floats(0.0, 1.0)
sigma_m = floats(0.0, 1.0e5, lo_open=True)
sigma_deg = floats(0.0, 180.0, lo_open=True)
decibels = floats(-300.0, 300.0)
class_probs = st.dictionaries(st.sampled_from(CLASSES), probs, max_size=5)


def opt(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | s


detections: dict[str, st.SearchStrategy[Any]] = {
    "radar": st.builds(
        RadarDetection,
        range_m=floats(0.0, 1.0e6, lo_open=True),
        az_deg=azimuths,
        el_deg=elevations,
        range_rate_mps=opt(floats(-3000.0, 3000.0)),
        rcs_dbsm=opt(decibels),
        sigma_range_m=opt(sigma_m),
        sigma_az_deg=opt(sigma_deg),
        sigma_el_deg=opt(sigma_deg),
        class_probs=opt(class_probs),
        t=opt(times),
    ),
    "rf": st.builds(
        RfDetection,
        az_deg=azimuths,
        sigma_az_deg=opt(sigma_deg),
        freq_mhz=opt(floats(0.0, 1.0e6, lo_open=True)),
        rssi_dbm=opt(decibels),
        protocol=opt(texts),
        emitter_id=opt(idents),
        class_probs=opt(class_probs),
        t=opt(times),
    ),
    "camera": st.builds(
        CameraDetection,
        az_deg=azimuths,
        el_deg=elevations,
        sigma_az_deg=opt(sigma_deg),
        sigma_el_deg=opt(sigma_deg),
        label=opt(texts),
        confidence=opt(probs),
        class_probs=opt(class_probs),
        t=opt(times),
    ),
    "remote_id": st.builds(
        RemoteIdDetection,
        lat=lats,
        lon=lons,
        alt_m=alts,
        uas_id=idents,
        speed_mps=opt(floats(0.0, 3000.0)),
        heading_deg=opt(azimuths),
        vspeed_mps=opt(floats(-3000.0, 3000.0)),
        operator_lat=opt(lats),
        operator_lon=opt(lons),
        t=opt(times),
    ),
}


def reports_of(kind: str) -> st.SearchStrategy[Any]:
    return st.builds(
        REPORT_TYPE[kind],
        v=st.just(1),
        sensor_id=idents,
        seq=st.integers(0, 2**64 - 1),
        t=times,
        detections=st.lists(detections[kind], max_size=3),
    )


reports = st.one_of(*(reports_of(k) for k in KINDS))
statuses = st.builds(
    Status,
    v=st.just(1),
    sensor_id=idents,
    t=times,
    state=st.sampled_from(["ok", "degraded", "fault"]),
    detail=texts,
)
metres = floats(-1.0e8, 1.0e8)
speeds = floats(-1.0e5, 1.0e5)
ints = st.integers(-(2**63), 2**63 - 1)
tracks = st.builds(
    Track,
    track_id=ints,
    t=times,
    status=st.sampled_from(["tentative", "confirmed", "coasting", "deleted"]),
    lat=lats,
    lon=lons,
    alt_m=alts,
    enu=st.lists(metres, min_size=3, max_size=3),
    vel_enu=st.lists(speeds, min_size=3, max_size=3),
    pos_sigma_m=floats(0.0, 1.0e8),
    class_=st.sampled_from(CLASSES),
    class_probs=class_probs,
    threat=st.sampled_from(["none", "low", "medium", "high", "critical"]),
    sensors=st.lists(idents, max_size=4),
    friendly=st.booleans(),
    uas_id=opt(idents),
    t_update=times,
)
cycles = st.builds(TrackCycle, v=st.just(1), t=times, tracks=st.lists(tracks, max_size=3))
alerts = st.builds(
    Alert,
    v=st.just(1),
    alert_id=idents,
    track_id=opt(ints),
    level=st.sampled_from(["warning", "critical"]),
    state=st.sampled_from(["raised", "escalated", "updated", "acknowledged", "cleared"]),
    zone=opt(idents),
    reason=texts,
    t_raised=times,
    t=times,
    lat=opt(lats),
    lon=opt(lons),
    alt_m=opt(alts),
    eta_s=opt(floats(0.0, 1.0e9)),
    acknowledged_by=opt(idents),
    seq=opt(st.integers(1, 2**62)),
)
healths = st.builds(
    SensorHealth,
    v=st.just(1),
    sensor_id=idents,
    kind=st.sampled_from(KINDS),
    t=times,
    state=st.sampled_from(["ok", "degraded", "fault"]),
    detail=texts,
    t_last_report=opt(times),
    t_last_status=opt(times),
    reports=st.integers(0, 2**63 - 1),
    detections=st.integers(0, 2**63 - 1),
    report_rate_hz=floats(0.0, 1.0e6),
    rejects=st.dictionaries(idents, st.integers(0, 2**63 - 1), max_size=4),
)


@SETTINGS
@given(reports)
def test_any_valid_report_round_trips_exactly(report: Any) -> None:
    data = to_msgpack(report)
    assert decode_report(data) == report
    # the independent codec sees the documented map and re-encodes it equivalently
    plain = msgpack.unpackb(data)
    assert plain["kind"] in KINDS
    assert decode_report(pack(plain)) == report


@SETTINGS
@given(statuses)
def test_any_valid_status_round_trips_exactly(status: Status) -> None:
    assert decode_status(to_msgpack(status)) == status
    assert decode_status(pack(msgpack.unpackb(to_msgpack(status)))) == status


@SETTINGS
@given(st.one_of(cycles, alerts, healths, tracks))
def test_any_consumer_message_round_trips_through_json_and_msgpack(message: Any) -> None:
    assert from_json(to_json(message), type(message)) == message
    assert from_msgpack(to_msgpack(message), type(message)) == message
    if isinstance(message, Track):
        assert json.loads(to_json(message))["class"] == message.class_


# --- hypothesis: garbage never escapes as anything but WireError -----------------------

FIELD_NAMES = sorted(
    {"v", "sensor_id", "seq", "t", "kind", "detections", "state", "detail", "class_probs"}
    | {k for det in FULL_DETECTIONS.values() for k in det}
)
texts_any = st.text(_chars, max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | texts_any
    | st.sampled_from([*KINDS, *CLASSES, *FIELD_NAMES])
    | st.binary(max_size=16)
    | st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=12))
    | st.builds(msgpack.Timestamp, st.integers(0, 2**34 - 1), st.integers(0, 999_999_999))
)
keys = st.sampled_from(FIELD_NAMES) | texts_any | st.integers(-5, 5) | st.binary(max_size=4)
garbage = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=6),
    max_leaves=20,
)


def decodes_or_wire_error(data: bytes) -> None:
    for decode in (decode_report, decode_status):
        try:
            decode(data)
        except WireError as err:
            assert err.reason and err.detail


@SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_wire_error(data: bytes) -> None:
    decodes_or_wire_error(data)


@SETTINGS
@given(garbage)
def test_arbitrary_msgpack_raises_only_wire_error(obj: Any) -> None:
    decodes_or_wire_error(pack(obj))


def _nodes(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every replaceable position (dict value or list item) inside plain data."""
    out: list[tuple[Any, ...]] = []
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for key, value in items:
        out.append((*path, key))
        out += _nodes(value, (*path, key))
    return out


@SETTINGS
@given(reports, st.data())
def test_valid_report_with_one_node_replaced_by_garbage(report: Any, data: st.DataObject) -> None:
    plain = msgpack.unpackb(to_msgpack(report))
    where = data.draw(st.sampled_from(_nodes(plain)))
    _set(*where, value=data.draw(garbage))(plain)
    decodes_or_wire_error(pack(plain))


@SETTINGS
@given(reports, st.data())
def test_valid_report_with_one_byte_corrupted(report: Any, data: st.DataObject) -> None:
    raw = bytearray(to_msgpack(report))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] = data.draw(st.integers(0, 255))
    decodes_or_wire_error(bytes(raw))
    decodes_or_wire_error(bytes(raw[:i]))


# --- hypothesis: one bad float rejects the report as out_of_range -----------------------

# Values outside the contract for each float field. Natural bounds where the contract has
# them (angles, probabilities, positive ranges and sigmas); absurd magnitudes elsewhere.
HUGE = [1.0e30, -1.0e30]
OUT_OF_RANGE: dict[str, list[float]] = {
    "t": [-1.0, -1.0e-9, *HUGE],
    "range_m": [0.0, -1.0, *HUGE],
    "az_deg": [-0.5, 360.5, *HUGE],
    "heading_deg": [-0.5, 360.5, *HUGE],
    "el_deg": [-90.5, 90.5, *HUGE],
    "lat": [-90.5, 90.5, *HUGE],
    "operator_lat": [-90.5, 90.5],
    "lon": [-180.5, 180.5, *HUGE],
    "operator_lon": [-180.5, 180.5],
    "alt_m": HUGE,
    "range_rate_mps": HUGE,
    "rcs_dbsm": HUGE,
    "rssi_dbm": HUGE,
    "vspeed_mps": HUGE,
    "speed_mps": [-1.0, 1.0e30],
    "freq_mhz": [0.0, -2437.0, 1.0e30],
    "sigma_range_m": [0.0, -5.0, 1.0e30],
    "sigma_az_deg": [0.0, -1.0, 1.0e30],
    "sigma_el_deg": [0.0, -1.0, 1.0e30],
    "confidence": [-0.01, 1.01, *HUGE],
    "class_probs": [-0.01, 1.01, *HUGE],
}


def _float_positions(plain: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    """(position, field name, JSON path prefix msgspec reports) of every float in a report."""
    out = [(("t",), "t", "$.t")]
    for i, det in enumerate(plain["detections"]):
        for key, value in det.items():
            if key == "class_probs":
                out += [
                    (("detections", i, key, cls), key, f"$.detections[{i}].class_probs")
                    for cls in value
                ]
            elif isinstance(value, float):
                out.append((("detections", i, key), key, f"$.detections[{i}].{key}"))
    return out


@SETTINGS
@given(reports, st.data())
def test_one_bad_float_is_out_of_range(report: Any, data: st.DataObject) -> None:
    plain = msgpack.unpackb(to_msgpack(report))
    where, name, path = data.draw(st.sampled_from(_float_positions(plain)))
    bad = data.draw(st.sampled_from([NAN, INF, -INF, *OUT_OF_RANGE[name]]))
    _set(*where, value=bad)(plain)
    err = rejected(pack(plain))
    assert err.reason == "out_of_range", err.detail
    assert path in err.detail


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
@pytest.mark.parametrize("kind", KINDS)
def test_non_finite_floats_rejected_in_every_field(kind: str, bad: float) -> None:
    base = report_dict(kind, n=1)
    for where, name, path in _float_positions(base):
        data = copy.deepcopy(base)
        _set(*where, value=bad)(data)
        err = rejected(pack(data))
        assert (err.reason, name) == ("out_of_range", name), err.detail
        assert path in err.detail


json_scalars = st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
json_garbage = st.recursive(  # any strict JSON value (json.dumps of NaN is not JSON)
    json_scalars | st.integers() | st.text(max_size=40),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=5)
    ),
    max_leaves=20,
)


@SETTINGS
@given(
    st.binary(max_size=300)
    | json_garbage.map(lambda o: json.dumps(o).encode())
    | st.sampled_from([b'{"by": "x", "t": NaN}', b'{"by": "x", "t": 1e999}', b"[" * 100_000])
)
def test_a_hostile_acknowledgement_is_an_ack_or_a_wire_error_never_anything_else(
    data: bytes,
) -> None:
    try:
        ack = decode_ack(data)
    except WireError as err:
        assert err.reason and err.detail
    else:
        assert 1 <= len(ack.by) <= 128 and 0.0 <= ack.t <= 1.0e11


@SETTINGS
@given(st.dictionaries(idents, json_garbage, max_size=6))
def test_an_ack_with_any_extra_or_wrong_fields_is_decoded_only_if_by_and_t_are_sound(
    extra: dict[str, Any],
) -> None:
    payload = json.dumps({"by": "ops-1", "t": 1764000003.5} | extra).encode()
    try:
        decode_ack(payload)
    except WireError:
        assert "by" in extra or "t" in extra  # only the two fields it reads can spoil it
