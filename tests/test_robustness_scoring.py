"""The robustness benchmark's second GOSPA: on what the radar can see.

The radar-hidden RF drone is left out of the truth, and with it the camera/RF-only tracks on
it (within 300 m or three of their sigmas); every other track stays, so a ghost or a radar
track anywhere still counts. And how well the finders' geometry can place that drone at all.
"""

from __future__ import annotations

import math
from pathlib import Path

import msgspec
import numpy as np
import pytest
from support.wire_alerts import transition
from support.wire_tracks import confirmed_drone

from benchmarks.robustness import (
    SWARM_NEAR_M,
    CampResult,
    _alerts_on_no_drone,
    _default_json,
    _detail,
    _rf_crossing_sigmas,
    _rf_line,
    _swarm_untracked,
    _unplaced,
    _visible_gospa,
    _zone_presence,
    _zone_unalerted,
    render,
    run_camp,
    without_radar,
)
from cuas import wire
from cuas.config import SensorConfig
from cuas.fusion.zones import ZoneSet
from cuas.io.recording import RecordingWriter, read_records
from cuas.topics import report_topic
from cuas.tracking.coverage import SensorGeometry
from simulators.random_camp import random_camp
from simulators.scoring import TRUTH_TOPIC, TruthFrame, TruthTarget, read_truth, read_truth_frames

T0 = 1_764_000_000.0
DRONE = [1000.0, 0.0, 100.0]
HIDDEN = [0.0, 2000.0, 50.0]


def track(track_id: int, enu: list[float], sensors: list[str], sigma: float = 10.0) -> wire.Track:
    return confirmed_drone(track_id, T0, enu, sensors=sensors, pos_sigma_m=sigma)


@pytest.fixture
def truth_file(tmp_path: Path) -> Path:
    camp = random_camp(0, 10.0)
    frame = TruthFrame(
        v=1,
        t=T0,
        targets=[
            TruthTarget("in0", DRONE, [0.0, 0.0, 0.0]),
            TruthTarget(camp.rf_only_id, HIDDEN, [0.0, 0.0, 0.0]),
        ],
    )
    path = tmp_path / "truth.msgpack"
    with RecordingWriter(path) as w:
        w.write(T0, TRUTH_TOPIC, frame)
    return path


def gospa_of(truth_file: Path, tracks: list[wire.Track]) -> float:
    truth = read_truth(truth_file)
    return _visible_gospa(random_camp(0, 10.0), truth, [wire.TrackCycle(1, T0, tracks)])


def test_the_hidden_drone_and_the_bearings_only_track_on_it_are_left_out(truth_file) -> None:
    on_drone = track(1, [1010.0, 0.0, 100.0], ["radar"])
    off_hidden = track(2, [0.0, 2200.0, 100.0], ["rf-0", "rf-1"], sigma=150.0)
    assert gospa_of(truth_file, [on_drone, off_hidden]) == pytest.approx(10.0)
    assert gospa_of(truth_file, [on_drone]) == pytest.approx(10.0)


def test_a_radar_track_at_the_hidden_drone_and_a_distant_ghost_still_count(truth_file) -> None:
    on_drone = track(1, [1010.0, 0.0, 100.0], ["radar"])
    radar_there = track(2, [0.0, 2000.0, 50.0], ["radar"])
    ghost = track(3, [-1500.0, -1500.0, 100.0], ["rf-0", "cam-0"])
    assert gospa_of(truth_file, [on_drone, radar_there]) == pytest.approx(60.0)
    assert gospa_of(truth_file, [on_drone, ghost]) == pytest.approx(60.0)


def test_a_cycle_between_truth_records_leaves_out_the_track_on_the_hidden_drone(
    tmp_path: Path,
) -> None:
    """Truth is recorded every 2 s and tracks every second: the cycle in between is scored
    against the nearest record, and the hidden drone is found there too."""
    camp = random_camp(0, 10.0)
    path = tmp_path / "truth.msgpack"
    with RecordingWriter(path) as w:
        for dt in (0.0, 2.0):
            targets = [
                TruthTarget("in0", DRONE, [0.0, 0.0, 0.0]),
                TruthTarget(camp.rf_only_id, HIDDEN, [0.0, 0.0, 0.0]),
            ]
            w.write(T0 + dt, TRUTH_TOPIC, TruthFrame(v=1, t=T0 + dt, targets=targets))
    on_drone = confirmed_drone(
        1, T0 + 1.0, [1010.0, 0.0, 100.0], sensors=["radar"], pos_sigma_m=10.0
    )
    off_hidden = confirmed_drone(
        2, T0 + 1.0, [0.0, 2200.0, 100.0], sensors=["rf-0", "rf-1"], pos_sigma_m=150.0
    )
    cycle = wire.TrackCycle(1, T0 + 1.0, [on_drone, off_hidden])
    assert _visible_gospa(camp, read_truth(path), [cycle]) == pytest.approx(10.0)


def test_the_finders_geometry_says_where_the_hidden_drone_s_range_is_unobservable() -> None:
    """Random camp 58's two finders, 335 m apart, stand nearly in line with its hidden drone
    2 km out: their lines meet at 1.7 degrees there, under their bearings' noise, so no
    tracker can tell its range from their crossing. Camp 1's meet at 26 degrees. A camp with
    one finder has no crossing at all."""
    assert _rf_crossing_sigmas(random_camp(58, 150.0)) < 0.5
    assert _rf_crossing_sigmas(random_camp(1, 150.0)) > 3.0
    single = next(
        s
        for s in range(40)
        if sum(x.kind == "rf" for x in random_camp(s, 10.0).config.sensors) == 1
    )
    assert math.isnan(_rf_crossing_sigmas(random_camp(single, 10.0)))


def test_a_bearings_only_track_on_the_hidden_drone_is_scored_against_its_own_sigma(
    truth_file,
) -> None:
    """A track of finders alone 200 m from the hidden drone scores (200 / sigma)^2: 4 with a
    published sigma of 100 m, beyond three sigmas with 50 m. A radar track there, and a
    passive track nearer another object, are not scored."""
    camp = random_camp(0, 10.0)
    truth = read_truth_frames(truth_file)
    radar_there = track(3, [0.0, 2000.0, 50.0], ["radar"])
    near_drone = track(4, [1000.0, 50.0, 100.0], ["rf-0", "rf-1"], sigma=10.0)
    for sigma, score, beyond in ((100.0, 4.0, 0.0), (50.0, 16.0, 1.0)):
        off = track(2, [0.0, 2200.0, 50.0], ["rf-0", "rf-1"], sigma=sigma)
        cycle = wire.TrackCycle(1, T0, [off, radar_there, near_drone])
        detail = _detail(camp, truth, [cycle], [])
        assert detail["rf_track_cycles"] == 1
        assert detail["rf_track_nees"] == pytest.approx(score)
        assert detail["rf_track_beyond_3_sigma"] == beyond


def test_the_hidden_drone_s_misses_are_split_across_and_up_each_against_its_own_sigma(
    truth_file,
) -> None:
    """Bearings place the hidden drone across; its height is a prior. A track 60 m east and
    80 m above it, publishing 30 m horizontally and 160 m vertically, misses by 60 m across
    ((60 / 30)^2 = 4) and 80 m up ((80 / 160)^2 = 0.25); the 3-D score mixes them."""
    camp = random_camp(0, 10.0)
    truth = read_truth_frames(truth_file)
    split = msgspec.structs.replace(
        track(2, [60.0, 2000.0, 130.0], ["rf-0", "rf-1"], sigma=162.8),
        horiz_sigma_m=30.0,
        alt_sigma_m=160.0,
    )
    detail = _detail(camp, truth, [wire.TrackCycle(1, T0, [split])], [])
    assert detail["rf_track_horizontal_m"] == pytest.approx(60.0)
    assert detail["rf_track_vertical_m"] == pytest.approx(80.0)
    assert detail["rf_track_horizontal_nees"] == pytest.approx(4.0)
    assert detail["rf_track_vertical_nees"] == pytest.approx(0.25)
    assert detail["rf_track_nees"] == pytest.approx(100.0**2 / 162.8**2)


def in_the_approach_zone(camp) -> list[float]:
    """A point of the camp's warning zone outside its perimeter, along some bearing."""
    zones = ZoneSet(camp.config.zones, camp.config.local_frame())
    for r in range(200, 4000, 50):
        for az in range(0, 360, 30):
            x = [r * math.sin(math.radians(az)), r * math.cos(math.radians(az)), 100.0]
            if _zone_presence(zones, np.array([x]))[0][0]:
                return x
    raise AssertionError("no warning zone")


def test_a_drone_loitering_in_a_warning_zone_must_have_had_an_alert_on_it_there() -> None:
    """A loiterer 30 s in the approach zone, never in the perimeter: alerted on by a track on
    it, it counts as alerted; alerted on by a vague track of a bird 150 m away (within three
    of its sigmas, but nearer the bird), or not at all, it does not. 10 s there is too short
    to count either way."""
    camp = random_camp(0, 10.0)
    x = in_the_approach_zone(camp)
    bird = [x[0] + 150.0, x[1], x[2]]
    frames = {
        T0 + k: TruthFrame(
            v=1,
            t=T0 + k,
            targets=[TruthTarget("loiter", x, [0.0] * 3), TruthTarget("b", bird, [0.0] * 3)],
        )
        for k in range(30)
    }
    on_it = track(1, [x[0] + 10.0, x[1], x[2]], ["radar"])
    vague = track(2, [bird[0] + 20.0, bird[1], bird[2]], ["rf-0"], sigma=100.0)
    cycles = [wire.TrackCycle(1, t, [on_it, vague]) for t in frames]

    def alert_on(track_id: int):
        return transition(f"a{track_id}", "raised", T0, track_id=track_id).alert

    assert _zone_unalerted(camp, frames, cycles, [alert_on(1)]) == (1, 0)
    assert _zone_unalerted(camp, frames, cycles, [alert_on(2)]) == (1, 1)
    assert _zone_unalerted(camp, frames, cycles, []) == (1, 1)
    assert _zone_unalerted(camp, dict(list(frames.items())[:10]), cycles[:10], []) == (0, 0)


def camera_and_drone(camp) -> tuple[SensorConfig, np.ndarray, list[float]]:
    """The camp's first camera, its site (camp ENU), and a point of the warning zone within
    its range."""
    camera = next(s for s in camp.config.sensors if s.kind == "camera")
    at = camp.config.local_frame().to_enu(camera.lat, camera.lon, camera.alt_m).reshape(3)
    x = in_the_approach_zone(camp)
    assert math.hypot(x[0] - at[0], x[1] - at[1]) < camera.max_range_m
    return camera, at, x


def line_alert(t: float, bearing_deg: float, seen_from: str) -> wire.Alert:
    """Alert `a1` on track 1, raised at `t`, giving the line `bearing_deg` from `seen_from`
    and no place."""
    return msgspec.structs.replace(
        transition("a1", "raised", t, track_id=1).alert,
        lat=None, lon=None, alt_m=None, eta_s=None, zone=None,
        bearing_deg=bearing_deg % 360.0, seen_from=seen_from,
    )  # fmt: skip


def test_an_alert_that_gives_a_line_is_judged_by_its_line() -> None:
    """A line alert (a track only two crossing lines place) claims the line, not a place: it
    is on a hostile drone within three of its sensor's configured azimuth sigmas (at least 1
    degree) of the line and within the sensor's range, wherever the track was, and on no
    drone otherwise; it counts for the drones on its line in the warning zone."""
    camp = random_camp(0, 10.0)
    camera, at, x = camera_and_drone(camp)
    d = np.array(x) - at
    bearing = math.degrees(math.atan2(d[0], d[1]))
    frames = {
        T0 + k: TruthFrame(v=1, t=T0 + k, targets=[TruthTarget("loiter", x, [0.0] * 3)])
        for k in range(30)
    }
    # The track, half-way along the camera's line to the drone: far from it, on its line.
    crossing = track(1, list(at + 0.5 * d), ["rf-0", camera.id])
    cycles = [wire.TrackCycle(1, t, [crossing]) for t in frames]

    def line(off_deg: float) -> wire.Alert:
        return line_alert(T0, bearing + off_deg, camera.id)

    tolerance = max(3.0 * camera.sigma_az_deg, 1.0)
    assert _alerts_on_no_drone(camp, frames, [line(0.0)], cycles) == 0
    assert _alerts_on_no_drone(camp, frames, [line(0.9 * tolerance)], cycles) == 0
    assert _alerts_on_no_drone(camp, frames, [line(1.5 * tolerance)], cycles) == 1
    assert _alerts_on_no_drone(camp, frames, [line(180.0)], cycles) == 1
    assert _zone_unalerted(camp, frames, cycles, [line(0.0)]) == (1, 0)
    turn = math.radians(10.0)  # the track 10 degrees off the line to the drone, as seen
    rot = np.array([[math.cos(turn), math.sin(turn)], [-math.sin(turn), math.cos(turn)]])
    off = [*(at[:2] + 0.5 * rot @ d[:2]), x[2]]
    aside = [
        msgspec.structs.replace(c, tracks=[track(1, off, ["rf-0", camera.id])]) for c in cycles
    ]
    assert _zone_unalerted(camp, frames, aside, [line(0.0)]) == (1, 1)


def test_a_line_alert_between_truth_records_is_judged_where_the_drone_was_then() -> None:
    """Truth is recorded every second or two, and a drone flies further than a camera's
    degree at a kilometre in that time: a line alert is judged against the drone moved along
    its velocity to the alert's time."""
    camp = random_camp(0, 10.0)
    camera, at, x = camera_and_drone(camp)
    d = np.array(x) - at
    across = np.array([d[1], -d[0], 0.0]) / math.hypot(d[0], d[1])  # square to the line
    vel = list(60.0 * across)
    frames = {T0: TruthFrame(v=1, t=T0, targets=[TruthTarget("loiter", x, vel)])}
    later = np.array(x) + 60.0 * across  # where it is a second after the record
    a = line_alert(
        T0 + 1.0, math.degrees(math.atan2(later[0] - at[0], later[1] - at[1])), camera.id
    )
    cycles = [wire.TrackCycle(1, T0 + 1.0, [track(1, list(at + 0.5 * (later - at)), [])])]
    assert math.degrees(math.atan2(60.0, math.hypot(d[0], d[1]))) > max(
        3.0 * camera.sigma_az_deg, 1.0
    )  # the record's position alone would be off the line
    assert _alerts_on_no_drone(camp, frames, [a], cycles) == 0


def test_only_the_reference_run_writes_the_kept_results_by_default() -> None:
    """`results/robustness.json` is kept in the repository (seeds 0-29): a run of one camp to
    look into it, or of other seeds, writes a file of its own."""
    kept = "benchmarks/results/robustness.json"
    assert _default_json(0, 30, 150.0, False) == kept
    others = {
        _default_json(56, 1, 150.0, False),
        _default_json(0, 30, 150.0, True),
        _default_json(0, 30, 60.0, False),
        _default_json(30, 30, 150.0, False),
    }
    assert kept not in others and len(others) == 4


def test_a_camp_without_its_radar_is_flown_and_scored_with_nothing_to_compare(
    tmp_path: Path,
) -> None:
    """`--no-radar`: the camp a contingent could not buy a radar for. The camp file the core
    is given lists no radar, the recording it replays holds none of its reports, and the
    figures only a radar-alone run gives are NaN, not zeros that would read as results."""
    result = run_camp(random_camp(9, 20.0), tmp_path, radar=False)
    passive = tmp_path / "camp-9.no-radar.msgpack"
    topics = {r.topic for r in read_records(passive)}
    assert report_topic("radar") not in topics and any(t.startswith("report.rf") for t in topics)
    assert result.description.startswith("no radar, ")
    assert math.isfinite(result.gospa_all) and result.faults == 0
    assert math.isnan(result.gospa_radar) and math.isnan(result.swarm_switches_radar_per_drone)
    table = render([result])
    assert "nothing to compare with" in table and "beat radar alone" not in table
    assert _default_json(0, 30, 150.0, False, no_radar=True).endswith("-no-radar.json")


def test_a_swarm_drone_whose_neighbour_holds_every_track_near_it_has_no_track_of_its_own() -> None:
    """Two swarm drones 40 m apart near the camp, and a third beyond `SWARM_NEAR_M`. With both
    tracks gathered on the first drone the second has none of its own, although one is 30 m
    from it (CLEAR-MOT would let it keep that one): it is nearer the first. With one track on
    each, neither goes without; the far drone is not counted either way."""
    frame = TruthFrame(
        v=1,
        t=T0,
        targets=[
            TruthTarget("sw0", [500.0, 0.0, 80.0], [0.0, 0.0, 0.0]),
            TruthTarget("sw1", [540.0, 0.0, 80.0], [0.0, 0.0, 0.0]),
            TruthTarget("sw2", [SWARM_NEAR_M + 100.0, 0.0, 80.0], [0.0, 0.0, 0.0]),
            TruthTarget("in0", [-800.0, 0.0, 80.0], [0.0, 0.0, 0.0]),
        ],
    )
    objects = np.array([t.enu for t in frame.targets])
    swarm = ("sw0", "sw1", "sw2")

    def distances(tracks: list[list[float]]) -> np.ndarray:
        return np.linalg.norm(objects[:, None] - np.array(tracks)[None], axis=2)

    gathered = distances([[505.0, 0.0, 80.0], [510.0, 0.0, 80.0]])
    assert _swarm_untracked(frame, gathered, swarm) == (2, 1)
    apart = distances([[505.0, 0.0, 80.0], [545.0, 0.0, 80.0]])
    assert _swarm_untracked(frame, apart, swarm) == (2, 0)
    assert _swarm_untracked(frame, None, swarm) == (2, 2)


def covered_by(camp, kinds: set[str], count: int, emitting: bool = False) -> list[float] | None:
    """A point at 100 m that exactly `count` of the camp's sensors of `kinds` cover (finders
    only when `emitting`) and no other sensor of those kinds, or None."""
    frame = camp.config.local_frame()
    sites = [
        SensorGeometry.from_config(s, frame)
        for s in camp.config.sensors
        if s.kind in kinds and (s.kind != "rf" or emitting)
    ]
    for r in range(300, 6000, 100):
        for az in range(0, 360, 5):
            x = np.array([[r * math.sin(math.radians(az)), r * math.cos(math.radians(az)), 100.0]])
            if sum(bool(g.covers(x)[0]) for g in sites) == count:
                return x[0].tolist()
    return None


def test_a_drone_no_two_sites_covered_could_not_have_been_placed() -> None:
    """`_unplaced`: a silent drone that one camera alone covered for the minute before it
    entered could not have been placed; one that two cameras covered together for 3 s, or a
    radar, could. A finder counts only for a drone that flies a link (the swarm's)."""
    camp = without_radar(random_camp(4))
    one = covered_by(camp, {"camera"}, 1)
    two = covered_by(camp, {"camera"}, 2)
    assert one is not None and two is not None  # camp 4 has three cameras, two overlapping

    def path(*points: list[float]) -> list[tuple[float, np.ndarray]]:
        return [(T0 + k, np.array(p)) for k, p in enumerate(points)]

    assert _unplaced(camp, {"in0": path(*[one] * 60)}) == 1
    assert _unplaced(camp, {"in0": path(*([one] * 57 + [two] * 3))}) == 0
    assert _unplaced(camp, {"in0": path(*([two] * 2 + [one] * 58))}) == 1  # too short
    assert _unplaced(camp, {"in0": path(*([two] * 3 + [one] * 60))}) == 1  # over a minute ago
    heard = covered_by(camp, {"camera", "rf"}, 2, emitting=True)
    swarm_member = next(iter(camp.swarm_ids))
    assert heard is not None
    assert _unplaced(camp, {swarm_member: path(*[heard] * 10)}) == 0
    with_radar = random_camp(4)
    seen = covered_by(with_radar, {"radar"}, 1)
    assert seen is not None
    assert _unplaced(with_radar, {"in0": path(*[seen] * 5)}) == 0


def test_the_rf_line_names_the_camps_short_of_what_their_sensors_allow() -> None:
    """Of the camps whose bound allows the hidden drone within 300 m 80 % of the time, those
    where the tracker was not are named, with both shares; a camp whose bound does not allow
    it is not named, whatever the tracker did there."""

    def camp(seed: int, tracker: float, bound: float) -> CampResult:
        return CampResult(seed, "radar", rf_only_within_300m=tracker, rf_bound_within_300m=bound)

    line = _rf_line([camp(1, 0.9, 0.95), camp(2, 0.5, 0.9), camp(3, 0.2, 0.4)])
    assert "or more on 2/3" in line
    assert "the tracker was on 1/2, camp 2: 50% (bound 90%)" in line
    assert "camp 3" not in line.split("an efficient tracker")[1]
