"""Simulators: radar statistics, target behaviours, the scenario library, recorded and live runs.

Statistical checks use many targets in one scan (the radar is vectorised over targets) and
bounds of several standard errors, with fixed seeds, so they are exact and fast.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import msgspec
import numpy as np
import pytest
from support.ingest_stub import BoundSub

from cuas.config import CampConfig, SensorConfig, load_config
from cuas.geodesy import LocalFrame, wrap_deg
from cuas.io.recording import read_records
from cuas.service.replay import replay
from cuas.wire import decode_report, decode_status
from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR, write_sample_recording
from simulators.flight.realtime import ScanEvent, run_realtime
from simulators.flight.recording import record, truth_path
from simulators.radar import ConstantPd, RadarEquationPd, SimulatedRadar, swerling1_pd
from simulators.scenario_library import LIBRARY, build_scenario, camp_radar
from simulators.scoring import read_track_snapshots, read_truth
from simulators.simulate_command import add_command
from simulators.targets.behaviours import BIRD_RCS_DBSM, Orbit, from_bearing, ingress, weave
from simulators.targets.birds import bird_flock
from simulators.targets.target_set import TargetSet


@pytest.fixture(scope="module")
def camp() -> CampConfig:
    return load_config(SAMPLE_CONFIG)


def radar_at_origin(
    pd: ConstantPd | RadarEquationPd | float, clutter: float = 0.0, seed: int = 0, **sensor: object
) -> SimulatedRadar:
    """A radar at the origin of a flat local frame (no camp offset), config overridable."""
    base = SensorConfig(
        id="radar-1",
        kind="radar",
        lat=8.65,
        lon=24.5,
        alt_m=600.0,
        max_range_m=3000.0,
        min_range_m=50.0,
        sigma_range_m=5.0,
        sigma_az_deg=1.0,
        sigma_el_deg=1.5,
        sigma_range_rate_mps=0.5,
    )
    cfg = msgspec.structs.replace(base, **sensor)
    frame = LocalFrame(8.65, 24.5, 600.0).sensor_frame(8.65, 24.5, 600.0)
    return SimulatedRadar(cfg, frame, np.random.default_rng(seed), pd, clutter_per_scan=clutter)


def points(n: int, range_m: float, az_deg: float, el_deg: float) -> np.ndarray:
    """n copies of one point at (range, az, el) from the origin, in ENU."""
    az, el = np.radians(az_deg), np.radians(el_deg)
    p = range_m * np.array([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)])
    return np.tile(p, (n, 1))


# --- the radar ----------------------------------------------------------------------------


def test_radar_equation_pd_has_its_documented_reference_numbers(camp: CampConfig) -> None:
    pd = RadarEquationPd()
    assert pd.ref_snr_db == pytest.approx(21.14, abs=0.01)
    assert pd(np.array([3000.0]), np.array([-10.0]))[0] == pytest.approx(0.9)
    table = pd(np.array([1000.0, 2000.0, 3000.0]), np.array([-15.0, -15.0, -15.0]))
    assert table == pytest.approx([0.996, 0.94, 0.72], abs=0.005)
    # Falls with range, rises with RCS; an unknown RCS is the reference target's.
    r = np.linspace(100.0, 5000.0, 50)
    assert np.all(np.diff(pd(r, np.full(50, -20.0))) < 0)
    assert np.all(pd(r, np.full(50, -25.0)) < pd(r, np.full(50, -15.0)))
    assert pd(np.array([3000.0]), None)[0] == pytest.approx(0.9)
    assert swerling1_pd(-100.0) == pytest.approx(1e-6, rel=0.01)  # noise alone: Pfa
    sensor = camp_radar(camp)
    anchored = RadarEquationPd.for_sensor(sensor)
    assert anchored(np.array([sensor.max_range_m]), np.array([-10.0]))[0] == pytest.approx(
        sensor.p_detection
    )


@pytest.mark.parametrize(
    ("range_m", "rcs_dbsm"), [(1000.0, -22.5), (2000.0, -25.0), (2800.0, -15.0), (3000.0, -10.0)]
)
def test_measured_pd_matches_the_model(range_m: float, rcs_dbsm: float) -> None:
    model = RadarEquationPd()
    radar = radar_at_origin(model, seed=int(range_m))
    n = 20000
    enu = points(n, range_m, 33.0, 4.0)
    scan = radar.measure(0.0, enu, np.zeros_like(enu), np.full(n, rcs_dbsm))
    expected = float(model(np.array([range_m]), np.array([rcs_dbsm]))[0])
    standard_error = np.sqrt(expected * (1 - expected) / n)
    assert len(scan) / n == pytest.approx(expected, abs=4 * standard_error + 1e-4)


def test_measurement_noise_has_the_configured_sigmas() -> None:
    radar = radar_at_origin(ConstantPd(1.0), seed=3)
    n = 20000
    enu = points(n, 1500.0, 60.0, 5.0)
    vel = np.tile([10.0, -4.0, 1.0], (n, 1))
    scan = radar.measure(0.0, enu, vel, np.full(n, -12.0))
    order = np.argsort(scan.truth_index)  # back into target order (they are all the same)
    rr_true = float(enu[0] @ vel[0] / np.linalg.norm(enu[0]))
    s = radar.sensor
    for values, truth, sigma in (
        (scan.range_m, 1500.0, s.sigma_range_m),
        (scan.az_deg, 60.0, s.sigma_az_deg),
        (scan.el_deg, 5.0, s.sigma_el_deg),
        (scan.range_rate_mps, rr_true, s.sigma_range_rate_mps),
        (scan.rcs_dbsm, -12.0, radar.rcs_sigma_db),
    ):
        assert values is not None
        err = values[order] - truth
        assert np.std(err) == pytest.approx(sigma, rel=0.03)
        assert abs(np.mean(err)) < 4 * sigma / np.sqrt(n)


def test_clutter_arrives_at_the_configured_rate_inside_the_coverage() -> None:
    radar = radar_at_origin(ConstantPd(1.0), clutter=4.0, seed=5)
    scans = [radar.measure(float(k), np.empty((0, 3)), np.empty((0, 3))) for k in range(2000)]
    counts = np.array([len(s) for s in scans])
    assert counts.mean() == pytest.approx(4.0, abs=4 * np.sqrt(4.0 / 2000))
    assert counts.var() == pytest.approx(4.0, rel=0.15)  # Poisson: variance = mean
    rng_m = np.concatenate([s.range_m for s in scans])
    el = np.concatenate([s.el_deg for s in scans])
    assert np.all(np.concatenate([s.truth_index for s in scans]) == -1)
    assert rng_m.min() >= 50.0 and rng_m.max() <= 3000.0
    assert el.min() >= 0.0 and el.max() <= 20.0
    # With target RCS in play, clutter reports an RCS too (so its absence gives nothing away).
    scan = radar.measure(0.0, points(1, 900.0, 10.0, 3.0), np.zeros((1, 3)), [-12.0])
    assert scan.rcs_dbsm is not None and len(scan.rcs_dbsm) == len(scan)
    assert all(d.rcs_dbsm is not None for d in radar.report(scan).detections)


def test_only_targets_inside_the_field_of_view_are_detected() -> None:
    sector = {
        "boresight_az_deg": 90.0,
        "fov_az_deg": 60.0,
        "fov_el_min_deg": -5.0,
        "fov_el_max_deg": 30.0,
        "min_range_m": 100.0,
        "max_range_m": 2000.0,
    }
    radar = radar_at_origin(ConstantPd(1.0), clutter=20.0, seed=9, **sector)
    az, el, r = np.meshgrid(
        np.arange(0.0, 360.0, 5.0) + 1.0,
        [-20.0, -3.0, 10.0, 25.0, 40.0],
        [60.0, 500.0, 1900.0, 2100.0],
        indexing="ij",
    )
    az, el, r = az.ravel(), el.ravel(), r.ravel()
    enu = np.concatenate([points(1, *x) for x in zip(r, az, el, strict=True)])
    inside = (
        (np.abs(wrap_deg(az - 90.0)) <= 30.0)
        & (el >= -5.0)
        & (el <= 30.0)
        & (r > 100.0)
        & (r <= 2000.0)
    )
    scan = radar.measure(0.0, enu, np.zeros_like(enu))
    seen = scan.truth_index[scan.truth_index >= 0]
    assert sorted(seen.tolist()) == np.flatnonzero(inside).tolist()
    clutter = scan.truth_index < 0
    assert clutter.sum() > 0
    assert np.all(np.abs(wrap_deg(scan.az_deg[clutter] - 90.0)) <= 30.0)
    assert np.all(scan.range_m[clutter] >= 100.0) and np.all(scan.range_m[clutter] <= 2000.0)


def test_scans_without_rcs_are_those_of_the_bundled_sample(tmp_path: Path) -> None:
    """The RCS extension draws no random numbers unless asked: old recordings regenerate.

    Same records, topics, keys and random draws; floats to 1e-9 relative, because another
    numpy or pymap3d release may round a trigonometric function's last bit differently.
    """
    files = write_sample_recording(tmp_path)
    made = [
        (r.t_received, r.topic, msgspec.msgpack.decode(r.payload))
        for r in read_records(files.recording)
    ]
    bundled = [
        (r.t_received, r.topic, msgspec.msgpack.decode(r.payload))
        for r in read_records(SAMPLE_DIR / "camp-ingress.msgpack")
    ]
    assert len(made) == len(bundled)
    for ours, theirs in zip(made, bundled, strict=True):
        assert _close(ours, theirs), (ours, theirs)


def _close(a: object, b: object) -> bool:
    """Equal structure and values, floats to 1e-9 relative."""
    if isinstance(a, float) or isinstance(b, float):
        return (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and a == pytest.approx(b, rel=1e-9)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# --- target behaviours --------------------------------------------------------------------


def test_a_straight_ingress_flies_from_its_bearing_to_the_aim_point() -> None:
    d = ingress("d1", 45.0, 2000.0, 100.0, 20.0, toward=(100.0, -50.0), t_start=10.0)
    assert d.t_end == pytest.approx(110.0)
    p0, v0 = d.state(10.0)
    assert p0 == pytest.approx(from_bearing(45.0, 2000.0, 100.0, (100.0, -50.0)))
    assert np.linalg.norm(v0) == pytest.approx(20.0)
    assert d.state(110.0)[0] == pytest.approx([100.0, -50.0, 100.0])
    targets = TargetSet([d])
    assert len(targets.at(9.9)) == 0 and len(targets.at(50.0)) == 1 and len(targets.at(111)) == 0


def test_a_weave_has_its_amplitude_and_period_about_the_course() -> None:
    w = weave("w1", 200.0, 2500.0, 80.0, 18.0, amplitude_m=120.0, period_s=24.0)
    t = np.arange(0.0, 120.0, 0.05)
    pos, vel = w.state(t)
    start, end = np.array(w.start), np.array(w.end)
    u = (end - start) / np.linalg.norm(end - start)
    lateral = (pos - start) @ w.lateral()
    along = (pos - start) @ u
    assert lateral.max() == pytest.approx(120.0, rel=1e-3)
    assert lateral.min() == pytest.approx(-120.0, rel=1e-3)
    crossings = np.flatnonzero(np.diff(np.sign(lateral)) != 0)
    assert np.diff(t[crossings]) == pytest.approx(12.0, abs=0.1)  # half a period apart
    assert np.diff(along) / 0.05 == pytest.approx(18.0)  # steady progress along the course
    assert np.all(pos[:, 2] == 80.0)
    # The velocity is the derivative of the position.
    assert np.diff(pos, axis=0) / 0.05 == pytest.approx((vel[1:] + vel[:-1]) / 2, abs=0.05)


def test_an_orbit_keeps_its_radius_speed_and_height() -> None:
    o = Orbit(target_id="o1", center=(700.0, -300.0), radius_m=250.0, alt_m=150.0, speed_mps=15.0)
    t = np.arange(0.0, 300.0, 0.5)
    pos, vel = o.state(t)
    radius = np.hypot(pos[:, 0] - 700.0, pos[:, 1] + 300.0)
    assert radius == pytest.approx(250.0)
    assert np.linalg.norm(vel, axis=1) == pytest.approx(15.0)
    assert np.all(pos[:, 2] == 150.0)
    assert pos[0, :2] == pytest.approx([700.0, -50.0])  # starts due north of the centre
    assert vel[0, 0] > 0  # clockwise: heading east from the north point
    assert o.t_end == np.inf


def test_birds_are_slow_low_erratic_and_stay_together_near_home() -> None:
    home = np.array([-800.0, 900.0])
    flock = bird_flock(np.random.default_rng(4), 6, home, 50.0, 300.0)
    targets = TargetSet(flock)
    t = np.arange(0.0, 300.0, 0.2)
    pos, vel, active = targets.sample(t)
    assert active.all()
    assert all(b.class_ == "bird" for b in flock)
    assert all(BIRD_RCS_DBSM[0] <= b.rcs_dbsm <= BIRD_RCS_DBSM[1] for b in flock)
    speed = np.linalg.norm(vel[..., :2], axis=-1)
    assert speed.min() > 5.0 - 1e-9 and speed.max() < 15.0 + 1e-9
    assert pos[..., 2].min() > 20.0 and pos[..., 2].max() < 80.0
    assert np.linalg.norm(pos[..., :2] - home, axis=-1).max() < 500.0
    centre = pos[..., :2].mean(axis=1, keepdims=True)
    assert np.linalg.norm(pos[..., :2] - centre, axis=-1).max() < 150.0
    heading = np.unwrap(np.arctan2(vel[..., 1], vel[..., 0]), axis=0)
    turn_dps = np.degrees(np.diff(heading, axis=0) / 0.2)
    assert np.std(turn_dps) > 10.0  # erratic, not straight lines
    # Position and velocity agree between grid points too.
    p0, v0 = flock[0].state(10.0)
    p1, _ = flock[0].state(10.1)
    assert (p1 - p0) / 0.1 == pytest.approx(v0)


def test_truth_frames_carry_each_targets_class() -> None:
    targets = TargetSet(
        [
            ingress("d1", 0.0, 1000.0, 50.0, 10.0),
            *bird_flock(np.random.default_rng(0), 2, (0.0, 0.0), 30.0, 60.0),
        ]
    )
    frame = targets.at(5.0).stamped(1764000005.0).truth_frame()
    assert frame.t == 1764000005.0
    assert [(x.target_id, x.class_) for x in frame.targets] == [
        ("d1", "drone"),
        ("bird01", "bird"),
        ("bird02", "bird"),
    ]
    with pytest.raises(ValueError, match="duplicate"):
        TargetSet([ingress("x", 0.0, 1000.0, 50.0, 10.0), ingress("x", 90.0, 1000.0, 50.0, 10.0)])


# --- recordings of library scenarios ------------------------------------------------------


def test_the_same_seed_gives_byte_identical_recordings(camp: CampConfig, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.msgpack", tmp_path / "b.msgpack", tmp_path / "c.msgpack"
    record("attack", camp, a, seed=11, duration_s=40.0)
    record("attack", camp, b, seed=11, duration_s=40.0)
    record("attack", camp, c, seed=12, duration_s=40.0)
    assert a.read_bytes() == b.read_bytes()
    assert truth_path(a).read_bytes() == truth_path(b).read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert truth_path(a) == tmp_path / "a.truth.msgpack"


def drone_coverage(scenario_drones: list[str], truth_file: Path, out: Path) -> dict[str, float]:
    """Per drone: the fraction of track cycles with a firm track within 50 m of it."""
    truth = {round(s.t, 3): s for s in read_truth(truth_file)}
    near: dict[str, list[bool]] = {d: [] for d in scenario_drones}
    for snap in read_track_snapshots(out):
        now = truth.get(round(snap.t, 3))
        if now is None:
            continue
        for target_id, p in zip(now.ids, now.enu, strict=True):
            if target_id in near:
                d = np.linalg.norm(snap.enu - p, axis=1) if len(snap) else np.array([np.inf])
                near[str(target_id)].append(bool(d.min() < 50.0))
    return {k: float(np.mean(v)) if v else 0.0 for k, v in near.items()}


@pytest.mark.parametrize("name", list(LIBRARY))
def test_every_library_scenario_replays_into_tracks_of_its_drones(
    name: str, camp: CampConfig, tmp_path: Path
) -> None:
    scenario = build_scenario(name, camp, seed=1)
    recording, out = tmp_path / f"{name}.msgpack", tmp_path / f"{name}.out.msgpack"
    stats = record(scenario, camp, recording, seed=1)
    assert stats.scans == round(scenario.duration_s / scenario.radar.update_period_s) + 1
    truth = read_truth(truth_path(recording))
    assert truth[-1].t - truth[0].t == pytest.approx(scenario.duration_s)
    summary = replay(recording, camp, out, progress=False)
    assert sum(summary.rejects.values()) == 0
    drones = [d.target_id for d in scenario.drones()]
    assert drones
    coverage = drone_coverage(drones, truth_path(recording), out)
    assert min(coverage.values()) > 0.5, coverage
    assert np.mean(list(coverage.values())) > 0.8, coverage
    if name == "attack":
        alerts = [
            msgspec.msgpack.decode(r.payload) for r in read_records(out) if r.topic == "alert"
        ]
        assert any(a["state"] == "raised" for a in alerts)
        assert any(a["level"] == "critical" for a in alerts)


# --- real time ----------------------------------------------------------------------------


class Core(BoundSub):
    """Keeps radar-1's reports (with the time they arrived) and heartbeats."""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[tuple[float, bytes]] = []  # (time received, payload)
        self.statuses: list[bytes] = []

    def received(self, topic: bytes, payload: bytes) -> None:
        if topic == b"report.radar-1":
            self.reports.append((time.time(), payload))
        elif topic == b"status.radar-1":
            self.statuses.append(payload)


def test_a_sped_up_realtime_run_delivers_wall_clock_reports(camp: CampConfig) -> None:
    events: list[ScanEvent] = []

    async def scenario() -> None:
        async with Core() as core:
            started = time.time()
            stats = await run_realtime(
                "attack",
                camp,
                asyncio.Event(),
                speed=10.0,
                seed=2,
                on_scan=events.append,
                endpoint=core.endpoint,
                duration_s=25.0,
                connect_timeout_s=5.0,
            )
            ended = time.time()
            await asyncio.sleep(0.1)  # the last report is on its way
        assert stats.completed
        assert 2.3 < stats.wall_s < 3.5
        assert stats.scans == len(events) and 15 <= stats.scans <= 27
        assert stats.reports_sent == stats.scans and stats.dropped == 0
        assert len(core.reports) == stats.reports_sent
        reports = [decode_report(p) for _, p in core.reports]
        assert [r.seq for r in reports] == list(range(len(reports)))
        times = np.array([r.t for r in reports])
        assert started <= times[0] and times[-1] <= ended
        assert np.median(np.diff(times)) == pytest.approx(0.1, abs=0.02)  # 1 s scans at 10x
        latency = np.array([received for received, _ in core.reports]) - times
        assert np.all((latency >= 0.0) & (latency < 1.0))
        assert sum(len(r.detections) for r in reports) == stats.detections
        assert all(d.rcs_dbsm is not None for r in reports for d in r.detections)
        assert [e.t for e in events] == times.tolist()
        scenario_t = np.array([e.scenario_t for e in events])
        assert np.median(np.diff(scenario_t)) == pytest.approx(1.0, abs=0.2)
        assert all(e.truth.t == e.t for e in events)
        # Velocities are per wall-clock second: the range-rates agree with the sped-up motion.
        orbit = next(
            x for x in build_scenario("attack", camp, seed=2).targets if x.target_id == "a3"
        )
        v = events[3].truth.vel[events[3].truth.ids.index("a3")]
        assert np.linalg.norm(v) == pytest.approx(10.0 * np.linalg.norm(orbit.state(0.0)[1]))
        assert core.statuses and decode_status(core.statuses[0]).state == "ok"

    asyncio.run(asyncio.wait_for(scenario(), 15))


def test_a_realtime_run_waits_for_the_core_and_stops_on_request(camp: CampConfig) -> None:
    async def scenario() -> None:
        with socket.socket() as s:  # a free loopback port that nobody listens on
            s.bind(("127.0.0.1", 0))
            endpoint = f"tcp://127.0.0.1:{s.getsockname()[1]}"
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.3, stop.set)
        stats = await run_realtime("weave", camp, stop, endpoint=endpoint)
        assert stats.scans == 0 and not stats.completed
        with pytest.raises(TimeoutError):
            await run_realtime(
                "weave", camp, asyncio.Event(), endpoint=endpoint, connect_timeout_s=0.3
            )

    asyncio.run(asyncio.wait_for(scenario(), 10))


# --- command line -------------------------------------------------------------------------


def test_the_simulate_command_lists_and_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="cuas")
    add_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--list"])
    assert args.func(args) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in LIBRARY)
    out = tmp_path / "drill.msgpack"
    args = parser.parse_args(
        [
            *("simulate", "swarm", "--config", str(SAMPLE_CONFIG), "--record", str(out)),
            *("--seed", "3", "--duration", "10", "--t0", "1700000000"),
        ]
    )
    assert args.func(args) == 0
    reports = [r for r in read_records(out) if r.topic == "report.radar-1"]
    assert len(reports) == 11
    assert decode_report(reports[0].payload).t == 1700000000.0
    assert truth_path(out).is_file()
    args = parser.parse_args(["simulate", "nonesuch", "--config", str(SAMPLE_CONFIG)])
    assert args.func(args) == 2
