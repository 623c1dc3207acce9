"""Simulated passive sensors (RF direction finders, cameras, Remote ID) and multi-sensor runs.

Statistics use many targets in one scan (every sensor is vectorised over targets), fixed seeds
and bounds of several standard errors, so they are exact and fast. Sensors stand at the camp
origin, where their own frame is the camp frame.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import cast

import msgspec
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.ingest_stub import BoundSub

from cuas.config import CampConfig, SensorConfig, load_config
from cuas.geodesy import LocalFrame, wrap_deg
from cuas.io.recording import Record, read_records
from cuas.service.replay import replay
from cuas.wire import (
    CameraDetection,
    Kind,
    RemoteIdDetection,
    RfDetection,
    decode_report,
    decode_status,
    to_msgpack,
)
from simulators.benchmark_scenarios import SAMPLE_CONFIG
from simulators.flight.realtime import ScanEvent, run_realtime
from simulators.flight.recording import record, truth_path
from simulators.flight.sensors import make_sensors
from simulators.passive import (
    DEFAULT_CONFUSION,
    PROTOCOLS,
    GilbertLink,
    Latency,
    RangePd,
    SimulatedCamera,
    SimulatedRemoteId,
    SimulatedRfSensor,
    wrap_bearing,
)
from simulators.scenario_library import (
    FRIENDLY_EMITTER_ID,
    FRIENDLY_UAS_ID,
    LIBRARY,
    MULTI_SENSOR,
    build_scenario,
)
from simulators.scoring import read_truth
from simulators.targets.behaviours import Racetrack
from simulators.targets.target_set import TargetStates

ORIGIN = (8.65, 24.5, 600.0)
FRAME = LocalFrame(*ORIGIN)
T = 1764000000.0


@pytest.fixture(scope="module")
def camp() -> CampConfig:
    return load_config(SAMPLE_CONFIG)


def config(kind: str, **overrides: object) -> SensorConfig:
    """A sensor of `kind` at the camp origin, with overridable settings."""
    base = SensorConfig(
        id=f"{kind}-test", kind=cast(Kind, kind), lat=ORIGIN[0], lon=ORIGIN[1], alt_m=ORIGIN[2]
    )
    return msgspec.structs.replace(base, **overrides)


def points(n: int, range_m: float, az_deg: float, el_deg: float) -> np.ndarray:
    """n copies of one point at (range, az, el) from the origin, in ENU."""
    az, el = np.radians(az_deg), np.radians(el_deg)
    p = range_m * np.array([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)])
    return np.tile(p, (n, 1))


def states(
    enu: np.ndarray,
    vel: np.ndarray | None = None,
    classes: list[str] | None = None,
    rf: list[str | None] | None = None,
    protocols: list[str | None] | None = None,
    remote_ids: list[str | None] | None = None,
) -> TargetStates:
    """Truth for n targets (ids t0..), drones unless told, emitting nothing unless told."""
    n = len(enu)
    return TargetStates(
        t=T,
        ids=tuple(f"t{i}" for i in range(n)),
        classes=tuple(classes or ["drone"] * n),
        rcs_dbsm=np.full(n, -12.0),
        enu=np.asarray(enu, dtype=np.float64),
        vel=np.zeros((n, 3)) if vel is None else vel,
        rf_emitters=tuple(rf or ()),
        protocols=tuple(protocols or ()),
        remote_ids=tuple(remote_ids or ()),
        operators=np.zeros((n, 2)),
    )


def roundtrip(report: object) -> object:
    """A report through the wire codec, as the core decodes it."""
    return decode_report(to_msgpack(report))


# --- angles -------------------------------------------------------------------------------


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
@example(-1e-17)
@example(-0.0)
@example(360.0)
@example(719.9999999999999)
def test_wrapped_bearings_are_in_range_and_the_same_direction(az: float) -> None:
    w = float(wrap_bearing(az))
    assert 0.0 <= w < 360.0
    assert abs(float(wrap_deg(w - az))) < 1e-6


# --- RF direction finder ------------------------------------------------------------------


@pytest.mark.parametrize("true_az", [0.4, 359.8, 123.0])
def test_rf_bearings_have_the_configured_noise_wrapped_at_north(true_az: float) -> None:
    rf = SimulatedRfSensor(
        config("rf", sigma_az_deg=3.0, max_range_m=5000.0),
        FRAME,
        np.random.default_rng(1),
        p_detection=1.0,
        false_alarms_per_scan=0.0,
    )
    n = 20000
    scan = rf.observe(T, states(points(n, 2000.0, true_az, 3.0), rf=["E1"] * n))
    az = np.array([d.az_deg for d in scan.detections])
    assert len(az) == n and np.all((az >= 0.0) & (az < 360.0))
    err = wrap_deg(az - true_az)
    assert np.std(err) == pytest.approx(3.0, rel=0.03)
    assert abs(np.mean(err)) < 4 * 3.0 / np.sqrt(n)
    if true_az < 1.0 or true_az > 359.0:  # noise crosses north: both sides are reported
        assert np.any(az < 10.0) and np.any(az > 350.0)
    roundtrip(rf.report(scan))


def test_rf_hears_emitters_in_range_only_never_birds_or_silent_drones() -> None:
    rf = SimulatedRfSensor(
        config("rf", max_range_m=5000.0, p_detection=0.9),
        FRAME,
        np.random.default_rng(2),
        false_alarms_per_scan=0.0,
    )
    k = 3000
    groups = [  # (range, class, emitter, protocol)
        (500.0, "drone", "OCU-1", "dji-ocusync"),
        (3000.0, "drone", "ELRS-1", "elrs"),
        (2000.0, "drone", "VTX-1", "wifi-fpv"),
        (1000.0, "drone", None, None),  # RF-silent
        (1000.0, "bird", None, None),
        (5500.0, "drone", "FAR-1", "elrs"),  # beyond max_range_m
    ]
    enu = np.concatenate([points(k, r, 40.0, 2.0) for r, *_ in groups])
    truth = states(
        enu,
        classes=[c for _, c, _, _ in groups for _ in range(k)],
        rf=[e for _, _, e, _ in groups for _ in range(k)],
        protocols=[p for *_, p in groups for _ in range(k)],
    )
    scan = rf.observe(T, truth)
    group = scan.truth_index // k
    assert set(group.tolist()) == {0, 1, 2}
    for g in (0, 1, 2):
        heard = np.count_nonzero(group == g) / k
        assert heard == pytest.approx(0.9, abs=4 * np.sqrt(0.09 / k))
    rssi = {g: [] for g in (0, 1, 2)}
    for i, d in zip(scan.truth_index.tolist(), scan.detections, strict=True):
        _, _, emitter, protocol = groups[i // k]
        assert isinstance(d, RfDetection)
        assert d.emitter_id == emitter and d.protocol == protocol
        assert d.class_probs == {"drone": 0.9, "unknown": 0.1}
        lo, hi = min(b[0] for b in PROTOCOLS[protocol].bands_mhz), 5850.0
        assert d.freq_mhz is not None and lo <= d.freq_mhz <= hi
        rssi[i // k].append(d.rssi_dbm)
    # Both at 2.4 GHz (ELRS) or hopping (OcuSync): RSSI falls ~20 log10(6) dB from 500 m to 3 km.
    assert np.mean(rssi[0]) - np.mean(rssi[1]) > 12.0
    # A fixed-channel video link stays on its channel; hopping links spread over their bands.
    channels = PROTOCOLS["wifi-fpv"].channels_mhz
    vtx = {d.freq_mhz for d in scan.detections if d.emitter_id == "VTX-1"}
    assert vtx == {channels[zlib.crc32(b"VTX-1") % len(channels)]}
    assert len({d.freq_mhz for d in scan.detections if d.emitter_id == "OCU-1"}) > 100
    roundtrip(rf.report(scan))


def test_rf_false_alarms_are_rare_spurious_bearings_of_no_emitter() -> None:
    rf = SimulatedRfSensor(config("rf"), FRAME, np.random.default_rng(3), false_alarms_per_scan=0.3)
    empty = states(np.empty((0, 3)))
    scans = [rf.observe(T + k, empty) for k in range(3000)]
    counts = np.array([len(s) for s in scans])
    assert counts.mean() == pytest.approx(0.3, abs=4 * np.sqrt(0.3 / 3000))
    detections = [d for s in scans for d in s.detections]
    assert all(d.emitter_id is None and d.protocol == "unknown" for d in detections)
    assert all(d.class_probs == {"unknown": 1.0} for d in detections)
    assert all(0.0 <= d.az_deg < 360.0 for d in detections)
    assert all(idx == -1 for s in scans for idx in s.truth_index.tolist())
    # The default rate is low: about one spurious bearing a minute at 2 Hz.
    assert (
        SimulatedRfSensor(config("rf"), FRAME, np.random.default_rng(0)).false_alarms_per_scan
        < 0.05
    )


# --- camera -------------------------------------------------------------------------------


def camera(seed: int, pd: float = 1.0, **overrides: object) -> SimulatedCamera:
    sector = {
        "boresight_az_deg": 330.0,  # the field of view spans north: 270..30
        "fov_az_deg": 120.0,
        "fov_el_min_deg": -5.0,
        "fov_el_max_deg": 45.0,
        "max_range_m": 2000.0,
        "sigma_az_deg": 0.2,
        "sigma_el_deg": 0.3,
        **overrides,
    }
    cfg = config("camera", **sector)
    return SimulatedCamera(
        cfg, FRAME, np.random.default_rng(seed), pd=RangePd(pd, pd, 2000.0), false_alarms_per_scan=0
    )


def test_the_camera_sees_only_inside_its_field_of_view_and_range() -> None:
    cam = camera(4)
    az, el, r = np.meshgrid(
        np.arange(0.0, 360.0, 5.0) + 1.0,
        [-20.0, -3.0, 10.0, 40.0, 60.0],
        [300.0, 1900.0, 2100.0],
        indexing="ij",
    )
    az, el, r = az.ravel(), el.ravel(), r.ravel()
    enu = np.concatenate([points(1, *x) for x in zip(r, az, el, strict=True)])
    inside = (np.abs(wrap_deg(az - 330.0)) <= 60.0) & (el >= -5.0) & (el <= 45.0) & (r <= 2000.0)
    scan = cam.observe(T, states(enu))
    assert sorted(scan.truth_index.tolist()) == np.flatnonzero(inside).tolist()
    assert np.any(az[inside] < 30.0) and np.any(az[inside] > 270.0)  # across north


def test_camera_pd_falls_with_range_and_angles_have_the_configured_noise() -> None:
    pd = RangePd.for_sensor(config("camera", max_range_m=2000.0, p_detection=0.6))
    assert pd(np.array([0.0, 1000.0, 2000.0])) == pytest.approx([0.98, 0.885, 0.6])
    cam = SimulatedCamera(
        config("camera", max_range_m=2000.0, p_detection=0.6, sigma_az_deg=0.2, sigma_el_deg=0.3),
        FRAME,
        np.random.default_rng(5),
        false_alarms_per_scan=0.0,
    )
    n = 20000
    near, far = points(n, 300.0, 20.0, 5.0), points(n, 1900.0, 20.0, 5.0)
    scan = cam.observe(T, states(np.concatenate((near, far))))
    for part, r in ((scan.truth_index < n, 300.0), (scan.truth_index >= n, 1900.0)):
        expected = float(pd(np.array([r]))[0])
        assert part.sum() / n == pytest.approx(
            expected, abs=4 * np.sqrt(expected * (1 - expected) / n)
        )
    az = np.array([d.az_deg for d in scan.detections])
    el = np.array([d.el_deg for d in scan.detections])
    assert np.std(az - 20.0) == pytest.approx(0.2, rel=0.03)
    assert np.std(el - 5.0) == pytest.approx(0.3, rel=0.03)


def test_camera_labels_follow_the_confusion_matrix() -> None:
    cam = camera(6)
    n = 20000
    enu = points(2 * n, 800.0, 0.0, 5.0)
    scan = cam.observe(T, states(enu, classes=["drone"] * n + ["bird"] * n))
    assert len(scan) == 2 * n
    by_class: dict[str, Counter[str]] = {"drone": Counter(), "bird": Counter()}
    confidence: dict[bool, list[float]] = {True: [], False: []}
    for i, d in zip(scan.truth_index.tolist(), scan.detections, strict=True):
        assert isinstance(d, CameraDetection) and d.label is not None and d.class_probs
        true = "drone" if i < n else "bird"
        by_class[true][d.label] += 1
        assert d.class_probs[d.label] == d.confidence  # type: ignore[index]
        assert sum(d.class_probs.values()) == pytest.approx(1.0)
        confidence[d.label == true].append(float(d.confidence or 0.0))
    for true, row in DEFAULT_CONFUSION.rows.items():
        for label, p in row.items():
            rate = by_class[true][label] / n
            assert rate == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / n) + 1e-9), (true, label)
    assert by_class["drone"]["drone"] / n == pytest.approx(0.85, abs=0.01)
    assert by_class["bird"]["drone"] / n == pytest.approx(0.15, abs=0.01)
    assert np.mean(confidence[True]) > np.mean(confidence[False])  # surer when right
    roundtrip(cam.report(scan))


# --- Remote ID ----------------------------------------------------------------------------


def test_remote_id_reports_positions_and_velocities_with_the_configured_noise() -> None:
    cfg = config("remote_id", sigma_pos_m=10.0, sigma_alt_m=15.0, sigma_vel_mps=1.0)
    rid = SimulatedRemoteId(cfg, FRAME, np.random.default_rng(7), link=GilbertLink(1.0))
    n = 20000
    enu, vel = points(n, 1500.0, 200.0, 5.0), np.tile([-0.4, 12.0, 0.5], (n, 1))
    truth = states(enu, vel, remote_ids=["UN-PKO-0001"] * n)
    scan = rid.observe(T, truth)
    dets = scan.detections
    assert len(dets) == n and all(isinstance(d, RemoteIdDetection) for d in dets)
    got = FRAME.to_enu(*np.array([[d.lat, d.lon, d.alt_m] for d in dets]).T)
    err = got - enu
    assert np.std(err, axis=0) == pytest.approx([10.0, 10.0, 15.0], rel=0.03)
    assert np.all(np.abs(np.mean(err, axis=0)) < 4 * np.array([10.0, 10.0, 15.0]) / np.sqrt(n))
    heading = np.array([d.heading_deg for d in dets])
    assert np.all((heading >= 0.0) & (heading < 360.0))
    assert np.any(heading > 350.0) and np.any(heading < 10.0)  # about north, both sides
    speed = np.array([d.speed_mps for d in dets])
    ve, vn = speed * np.sin(np.radians(heading)), speed * np.cos(np.radians(heading))
    vu = np.array([d.vspeed_mps for d in dets])
    v_err = np.column_stack((ve, vn, vu)) - vel
    assert np.std(v_err, axis=0) == pytest.approx([1.0, 1.0, 1.0], rel=0.03)
    assert {d.uas_id for d in dets} == {"UN-PKO-0001"}
    op = FRAME.to_enu(*np.array([[d.operator_lat, d.operator_lon, 600.0] for d in dets]).T)
    assert np.std(op[:, :2], axis=0) == pytest.approx([10.0, 10.0], rel=0.03)
    roundtrip(rid.report(scan))


def test_remote_id_hears_cooperative_targets_in_range_with_gaps() -> None:
    link = GilbertLink(0.85, mean_gap_msgs=3.0)
    cfg = config("remote_id", max_range_m=4000.0)
    rid = SimulatedRemoteId(cfg, FRAME, np.random.default_rng(8), link=link)
    k = 200
    enu = np.concatenate(
        (points(k, 1000.0, 10.0, 3.0), points(2, 1000.0, 10.0, 3.0), points(1, 4500.0, 0.0, 1.0))
    )
    truth = states(
        enu,
        classes=["drone"] * (k + 1) + ["bird", "drone"],
        remote_ids=[f"UN-X-{i:04d}" for i in range(k)] + [None, None, "UN-FAR"],
    )
    received = np.zeros((500, k), dtype=bool)
    for m in range(500):
        scan = rid.observe(T + m, truth)
        assert np.all(scan.truth_index < k)  # never the silent drone, the bird or the far one
        received[m, scan.truth_index] = True
    assert received.mean() == pytest.approx(0.85, abs=0.01)
    # Losses come in runs of about mean_gap_msgs messages.
    gaps = []
    for column in received.T:
        edges = np.flatnonzero(np.diff(np.concatenate(([1], column.astype(int), [1]))))
        gaps += (edges[1::2] - edges[::2]).tolist()
    assert np.mean(gaps) == pytest.approx(3.0, rel=0.1)
    assert max(gaps) >= 8  # now and then a long outage


# --- latency ------------------------------------------------------------------------------


def test_latency_is_jittered_in_order_and_within_the_declared_bound() -> None:
    assert Latency(0.2, 0.8).bounded(None) == Latency(0.2, 0.8)
    assert Latency(0.2, 0.8).bounded(0.5) == Latency(0.2, 0.3)
    assert Latency(0.25).bounded(0.1) == Latency(0.1, 0.0)
    rid = SimulatedRemoteId(config("remote_id"), FRAME, np.random.default_rng(9))
    assert rid.latency == Latency(0.2, 0.8)  # no bound declared, none given
    times = T + np.arange(2000) * 0.2  # faster than the jitter: order must be kept
    arrivals = np.array([rid.arrival_time(t) for t in times])
    assert np.all(np.diff(arrivals) >= 0.0)
    assert np.all(arrivals - times >= 0.2 - 1e-6) and np.all(arrivals - times <= 1.0 + 1e-6)
    declared = SimulatedRemoteId(
        config("remote_id", latency_s=0.6), FRAME, np.random.default_rng(9), latency_bound_s=0.3
    )
    assert declared.latency.max_s == pytest.approx(0.6)  # the sensor's own declaration wins
    camp_bound = SimulatedCamera(
        config("camera"), FRAME, np.random.default_rng(9), latency_bound_s=0.1
    )
    assert camp_bound.latency == Latency(0.1)


# --- targets ------------------------------------------------------------------------------


def test_a_racetrack_has_its_legs_turns_and_speed() -> None:
    r = Racetrack(
        target_id="f1",
        center=(50.0, -20.0),
        straight_m=500.0,
        radius_m=150.0,
        axis_deg=90.0,
        alt_m=120.0,
        speed_mps=12.0,
    )
    t = np.arange(0.0, 400.0, 0.05)
    pos, vel = r.state(t)
    assert np.linalg.norm(vel, axis=1) == pytest.approx(12.0)
    assert pos[0] == pytest.approx([50.0 - 250.0, -20.0 + 150.0, 120.0])  # clockwise: north leg
    assert vel[0] == pytest.approx([12.0, 0.0, 0.0])
    assert pos[:, 0].min() == pytest.approx(50.0 - 400.0, abs=0.1)
    assert pos[:, 1].max() == pytest.approx(-20.0 + 150.0)
    assert np.diff(pos, axis=0) / 0.05 == pytest.approx((vel[1:] + vel[:-1]) / 2, abs=0.05)
    lap = (2 * 500.0 + 2 * np.pi * 150.0) / 12.0
    assert r.state(lap)[0] == pytest.approx(pos[0])


def test_targets_carry_their_emissions_into_the_truth_states(camp: CampConfig) -> None:
    mixed = build_scenario("mixed", camp, seed=1)
    targets = mixed.targets
    friendly = targets.ids.index("f1")
    assert targets.remote_ids[friendly] == FRIENDLY_UAS_ID
    assert targets.rf_emitters[friendly] == FRIENDLY_EMITTER_ID
    assert FRIENDLY_UAS_ID in camp.friendly.uas_ids
    assert FRIENDLY_EMITTER_ID in camp.friendly.emitter_ids
    by_id = dict(zip(targets.ids, targets.rf_emitters, strict=True))
    assert by_id["h1"] is not None and by_id["q1"] is None
    assert all(by_id[x] is None for x in targets.ids if x.startswith("bird"))
    assert [r for r in targets.remote_ids if r is not None] == [FRIENDLY_UAS_ID]
    assert len([x for x in targets.ids if x.startswith("s")]) == 6
    pos, _ = targets.targets[targets.ids.index("q1")].state(np.arange(0.0, 100.0))
    assert np.all((pos[:, 2] >= 30.0) & (pos[:, 2] <= 40.0))
    now = targets.at(10.0)
    assert now.remote_ids[now.ids.index("f1")] == FRIENDLY_UAS_ID
    # Radar drills are unchanged: radar only, nothing emits.
    assert not set(LIBRARY) & set(MULTI_SENSOR)
    attack = build_scenario("attack", camp, seed=1)
    assert attack.sensors == () and set(attack.targets.rf_emitters) == {None}


# --- multi-sensor recordings --------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(camp: CampConfig, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Record]]:
    out = tmp_path_factory.mktemp("mixed") / "mixed.msgpack"
    record("mixed", camp, out, seed=3, duration_s=60.0)
    return out, list(read_records(out))


def test_the_mixed_recording_carries_every_sensor_with_its_latency(
    camp: CampConfig, mixed: tuple[Path, list[Record]]
) -> None:
    _, records = mixed
    received = [r.t_received for r in records]
    assert received == sorted(received)
    ids = {s.id for s in camp.sensors}
    assert len(ids) == 6
    assert {r.topic.split(".", 1)[1] for r in records if r.topic.startswith("report.")} == ids
    beats = Counter(r.topic for r in records if r.topic.startswith("status."))
    assert set(beats) == {f"status.{i}" for i in ids} and len(set(beats.values())) == 1
    for r in records:
        if r.topic.startswith("status."):
            status = decode_status(r.payload)
            assert status.t == r.t_received and status.state == "ok"
    latency: dict[str, list[float]] = {i: [] for i in ids}
    detections: Counter[str] = Counter()
    for r in records:
        if r.topic.startswith("report."):
            report = decode_report(r.payload)  # every report passes the wire schema
            latency[report.sensor_id].append(r.t_received - report.t)
            detections[report.sensor_id] += len(report.detections)
            if report.sensor_id == "rid-1":
                assert {d.uas_id for d in report.detections} <= {FRIENDLY_UAS_ID}
    expected = {"radar-1": 0.05, "rf-ne": 0.25, "rf-sw": 0.25, "cam-nw": 0.15, "cam-se": 0.15}
    for sensor_id, delay in expected.items():
        assert latency[sensor_id] == pytest.approx([delay] * len(latency[sensor_id]), abs=1e-6)
    rid = np.array(latency["rid-1"])  # jittered, within the bound the camp declares
    rid_config = camp.sensor("rid-1")
    assert rid_config is not None
    bound = rid_config.latency_s or camp.tracker.reorder_window_s
    assert rid.min() >= 0.2 - 1e-6 and rid.max() <= bound + 1e-6 and np.std(rid) > 0.03
    assert all(detections[i] > 0 for i in ids), detections
    # Reports of different sensors arrive out of measurement-time order, as in the field.
    t_measured = [decode_report(r.payload).t for r in records if r.topic.startswith("report.")]
    assert any(b < a for a, b in itertools.pairwise(t_measured))


def test_rf_reports_in_the_mixed_recording_are_of_emitting_drones_only(
    mixed: tuple[Path, list[Record]],
) -> None:
    out, records = mixed
    emitters = {"OCU-5F3A9C", "VTX-2E71", FRIENDLY_EMITTER_ID} | {
        f"ELRS-S0{i}" for i in range(1, 7)
    }
    heard = {
        d.emitter_id
        for r in records
        if r.topic.startswith("report.rf-")
        for d in decode_report(r.payload).detections
    }
    assert FRIENDLY_EMITTER_ID in heard and heard - {None} <= emitters
    truth = read_truth(truth_path(out))
    assert truth[0].ids and "f1" in truth[0].ids


def test_the_mixed_recording_is_byte_identical_for_the_same_seed(
    camp: CampConfig, mixed: tuple[Path, list[Record]], tmp_path: Path
) -> None:
    out, _ = mixed
    again, other = tmp_path / "again.msgpack", tmp_path / "other.msgpack"
    record("mixed", camp, again, seed=3, duration_s=60.0)
    record("mixed", camp, other, seed=4, duration_s=60.0)
    assert again.read_bytes() == out.read_bytes()
    assert truth_path(again).read_bytes() == truth_path(out).read_bytes()
    assert other.read_bytes() != out.read_bytes()


def test_the_mixed_recording_replays_without_rejects(
    camp: CampConfig, mixed: tuple[Path, list[Record]], tmp_path: Path
) -> None:
    out, records = mixed
    summary = replay(out, camp, tmp_path / "out.msgpack", progress=False)
    assert sum(summary.rejects.values()) == 0, summary.rejects
    assert summary.reports == sum(r.topic.startswith("report.") for r in records)
    assert summary.statuses == sum(r.topic.startswith("status.") for r in records)
    assert summary.cycles > 50 and summary.tracks_confirmed > 0


def test_the_rf_only_drone_is_beyond_the_radar_but_heard_by_both_finders(
    camp: CampConfig, tmp_path: Path
) -> None:
    scenario = build_scenario("rf-only", camp, seed=1)
    sensors = {s.sensor.id: s for s in make_sensors(scenario, camp, seed=1)}
    pos, _ = scenario.targets.targets[0].state(np.arange(0.0, scenario.duration_s, 1.0))
    radar = sensors["radar-1"]
    for sid, sim in sensors.items():
        frame = FRAME.sensor_frame(sim.sensor.lat, sim.sensor.lon, sim.sensor.alt_m)
        reach = frame.enu_to_aer(pos)[2]
        if sid == "radar-1":
            assert reach.min() > sim.sensor.max_range_m
        elif sim.sensor.kind == "rf":
            assert reach.max() < sim.sensor.max_range_m
    out = tmp_path / "rf-only.msgpack"
    record(scenario, camp, out, seed=1)
    heard: Counter[str] = Counter()
    for r in read_records(out):
        if r.topic.startswith("report."):
            report = decode_report(r.payload)
            for d in report.detections:
                if isinstance(d, RfDetection) and d.emitter_id == "ELRS-9C2E41":
                    heard[report.sensor_id] += 1
    assert heard["rf-ne"] > 100 and heard["rf-sw"] > 100
    assert radar.sensor.id not in heard


# --- real time ----------------------------------------------------------------------------


class Core(BoundSub):
    """Keeps every message with the time it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[float, str, bytes]] = []  # (time received, topic, payload)

    def received(self, topic: bytes, payload: bytes) -> None:
        self.messages.append((time.time(), topic.decode(), payload))


def test_a_realtime_mixed_run_publishes_every_sensor_after_its_latency(camp: CampConfig) -> None:
    events: list[ScanEvent] = []

    async def scenario() -> None:
        async with Core() as core:
            stats = await run_realtime(
                "mixed",
                camp,
                asyncio.Event(),
                speed=5.0,
                seed=1,
                on_scan=events.append,
                endpoint=core.endpoint,
                duration_s=8.0,
                connect_timeout_s=5.0,
            )
            await asyncio.sleep(0.1)
        assert stats.completed and stats.dropped == 0
        reports = [
            (at, decode_report(p)) for at, topic, p in core.messages if topic.startswith("report.")
        ]
        assert len(reports) == stats.reports_sent == len(events)
        ids = {s.id for s in camp.sensors}
        assert {r.sensor_id for _, r in reports} == ids
        assert {topic for _, topic, _ in core.messages if topic.startswith("status.")} == {
            f"status.{i}" for i in ids
        }
        floor = {"radar-1": 0.0, "rf-ne": 0.25, "rf-sw": 0.25, "cam-nw": 0.15, "cam-se": 0.15}
        floor["rid-1"] = 0.2
        for at, r in reports:
            assert at - r.t >= floor[r.sensor_id] - 0.01, r.sensor_id
            assert at - r.t < 1.5
        for sensor_id in ids:  # each sensor's own reports in order, numbered from 0
            seqs = [r.seq for _, r in reports if r.sensor_id == sensor_id]
            assert seqs == list(range(len(seqs)))
        assert stats.by_sensor["cam-nw"] > stats.by_sensor["rf-ne"] > stats.by_sensor["rid-1"]

    asyncio.run(asyncio.wait_for(scenario(), 20))
