"""Classification: scan labels from the wire, Bayesian fusion of labels and cues, end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas import wire
from cuas.config import TrackerConfig, load_config
from cuas.fusion.pipeline import FusionPipeline
from cuas.fusion.scans import ScanBuilder
from cuas.geodesy import LocalFrame
from cuas.tracking.classification import PRIOR, Classifier, label_loglik
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import RadarModel
from cuas.tracking.scan import CLASSES, Labels, Scan
from cuas.tracking.tracks import CONFIRMED, TrackTable
from simulators.benchmark_scenarios import SAMPLE_CONFIG

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
MODEL = RadarModel(
    SensorGeometry(FRAME.sensor_frame(8.65, 24.50, 615.0), 50.0, 3000.0, 0.0, 360.0, -10.0, 90.0),
    with_range_rate=False,
)
DRONE, BIRD, AIRCRAFT, CLUTTER, UNKNOWN = range(5)
BIRD_LIKE = (-800.0, 800.0, 60.0, 6.0, -8.0, 0.0)  # 10 m/s, 60 m up
AIRCRAFT_LIKE = (2000.0, 500.0, 800.0, -60.0, 0.0, 0.0)  # 60 m/s, 800 m up

# --- the Bayesian filter ----------------------------------------------------------


def tracks(*states: tuple[float, ...], vel_sigma: float = 1.0) -> TrackTable:
    """A table of tracks with well-known states (so the kinematic cues count in full)."""
    table = TrackTable(n_sensors=1)
    P = np.diag([25.0, 25.0, 25.0, vel_sigma**2, vel_sigma**2, 1.0])
    table.add(np.array(states, dtype=float), np.tile(P, (len(states), 1, 1)), T0, 0)
    return table


def look(
    table: TrackTable, probs: list[list[float]] | None = None, rcs: list[float] | None = None
) -> Scan:
    """A scan with one detection per track: class probabilities and RCS (None: absent)."""
    k = table.n
    labels = Labels(
        np.array(probs if probs is not None else [[math.nan] * 5] * k, dtype=float),
        np.array(rcs if rcs is not None else [math.nan] * k, dtype=float),
        [None] * k,
        [None] * k,
    )
    return Scan(0, T0, np.zeros((k, 3)), np.ones((k, 3)), MODEL, labels)


def update(clf: Classifier, table: TrackTable, scan: Scan) -> None:
    rows = np.arange(table.n)
    clf.updated(table, rows, scan, rows)


def probs(table: TrackTable) -> np.ndarray:
    return np.exp(table.class_logp[: table.n])


def peaked(index: int, p: float) -> list[float]:
    row = [(1.0 - p) / 4.0] * 5
    row[index] = p
    return row


def test_new_tracks_start_at_the_documented_prior() -> None:
    clf = Classifier(TrackerConfig(class_kinematic_weight=0.0))
    table = tracks(BIRD_LIKE)
    table.class_logp[0] = 0.0  # garbage the prior must replace
    rows = np.arange(1)
    clf.initiated(table, rows, Scan(0, T0, np.zeros((1, 3)), np.ones((1, 3)), MODEL), rows)
    np.testing.assert_allclose(probs(table)[0], [PRIOR[c] for c in CLASSES])


def test_a_track_born_in_a_flock_starts_as_its_bird() -> None:
    """A plot a flock's bird track missed starts a track beside it, and its first
    velocities, made of several birds' plots, say "drone" (random camp 551: called a drone at
    0.95 two seconds after its birth, and warned of). Born within the gate of a firm track
    likely a bird's, it starts from that bird's class; elsewhere, and beside a drone, at the
    prior."""
    clf = Classifier(TrackerConfig())
    drone_like = (900.0, -400.0, 80.0, -12.0, 5.0, 0.0)
    table = tracks(BIRD_LIKE, drone_like)
    table.status[:2] = CONFIRMED
    table.class_logp[0] = np.log(peaked(BIRD, 0.97))
    table.class_logp[1] = np.log(peaked(DRONE, 0.97))
    born = [
        (BIRD_LIKE[0] + 25.0, BIRD_LIKE[1] - 10.0, 55.0, 0.0, 0.0, 0.0),  # in the flock
        (BIRD_LIKE[0] + 600.0, BIRD_LIKE[1], 55.0, 0.0, 0.0, 0.0),  # far from it
        (drone_like[0] + 25.0, drone_like[1], 80.0, 0.0, 0.0, 0.0),  # beside the drone
    ]
    table.add(np.array(born), np.tile(np.diag([400.0] * 3 + [400.0] * 3), (3, 1, 1)), T0, 0)
    rows = np.arange(2, 5)
    clf.initiated(table, rows, Scan(0, T0, np.zeros((3, 3)), np.ones((3, 3)), MODEL), rows)
    assert probs(table)[2, BIRD] == pytest.approx(0.97)
    for row in (3, 4):
        np.testing.assert_allclose(probs(table)[row], [PRIOR[c] for c in CLASSES])


def test_a_sensor_that_does_not_know_says_nothing() -> None:
    """A detection's "unknown" is compatible with every class; NaN rows are absent."""
    ll = label_loglik(np.array([[0, 0, 0, 0, 1.0], [math.nan] * 5, [0.0] * 5]), 0.01)
    np.testing.assert_allclose(ll, 0.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.55, 0.95), min_size=15, max_size=15),
    st.lists(st.floats(0.01, 1.0), min_size=5, max_size=5),
)
def test_a_consistent_stream_of_bird_labels_converges_to_bird(
    confidences: list[float], start: list[float]
) -> None:
    clf = Classifier(TrackerConfig())
    table = tracks(BIRD_LIKE)
    table.class_logp[0] = np.log(np.array(start) / sum(start))  # wherever it was
    for c in confidences:
        update(clf, table, look(table, [peaked(BIRD, c)]))
    assert probs(table)[0, BIRD] > 0.9


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5).filter(lambda p: sum(p) > 0))
def test_one_contrary_frame_does_not_flip_a_confident_track(contrary: list[float]) -> None:
    cfg = TrackerConfig()
    clf = Classifier(cfg)
    table = tracks(BIRD_LIKE)
    for _ in range(10):
        update(clf, table, look(table, [peaked(BIRD, 0.8)]))
    update(clf, table, look(table, [contrary]))
    assert probs(table)[0].argmax() == BIRD
    assert probs(table)[0, BIRD] >= cfg.class_confidence


def test_consistent_contrary_evidence_changes_its_mind() -> None:
    clf = Classifier(TrackerConfig())
    table = tracks(BIRD_LIKE)
    for _ in range(30):
        update(clf, table, look(table, [peaked(BIRD, 0.9)]))
    for _ in range(8):  # under two seconds of a 5 Hz camera
        update(clf, table, look(table, [peaked(DRONE, 0.8)]))
    assert probs(table)[0].argmax() == DRONE


def test_a_bearing_naming_an_emitter_another_track_holds_says_nothing_of_this_one() -> None:
    """A direction finder's bearing fits anything on its line: one naming the emitter of a
    drone another track holds, given to a bird's track it crossed, is no drone evidence for
    the bird (random camp 52: the bird alerted as a drone). One naming an emitter nobody
    holds, or this track's own, still counts."""
    clf = Classifier(TrackerConfig())
    table = tracks(BIRD_LIKE, BIRD_LIKE, BIRD_LIKE)
    update(clf, table, look(table))
    table.emitter_id[0] = "OCU-HIDDEN"  # the hidden drone's track holds it
    table.emitter_id[2] = "OCU-MINE"
    before = probs(table)
    k = table.n
    labels = Labels(
        np.array([peaked(DRONE, 0.9)] * k),
        np.full(k, math.nan),
        [None] * k,
        ["OCU-HIDDEN", "OCU-HIDDEN", "OCU-MINE"],
    )
    scan = Scan(0, T0, np.zeros((k, 1)), np.ones((k, 1)), MODEL, labels)
    clf.updated(table, np.array([1]), scan, np.array([1]))  # the bird, crossed by the line
    after_kinematics = probs(table)[1]
    clf.kinematic_weight = 0.0
    clf.updated(table, np.array([1]), scan, np.array([1]))
    np.testing.assert_allclose(probs(table)[1], after_kinematics)  # the label said nothing
    clf.updated(table, np.array([0, 2]), scan, np.array([0, 2]))  # the holders' own bearings
    assert (probs(table)[[0, 2], DRONE] > before[[0, 2], DRONE] + 0.1).all()


def test_a_bearing_in_a_tracks_gate_says_nothing_of_it_unless_it_names_its_emitter() -> None:
    """A contested bearing that updated no track (`observed`: in the gates of a flock's
    tracks) names an emitter somewhere on its line: no drone evidence for a bird's track in
    its gate that does not hold that emitter id (random camp 308: a swarm's four links, heard
    across a flock, called a bird a drone at 0.96 in 1.5 s). The track holding it learns."""
    clf = Classifier(TrackerConfig())
    table = tracks(BIRD_LIKE, BIRD_LIKE)
    update(clf, table, look(table))
    table.emitter_id[1] = "ELRS-1"
    before = probs(table)
    labels = Labels(
        np.array([peaked(DRONE, 0.9)] * 2),
        np.full(2, math.nan),
        [None] * 2,
        ["ELRS-2", "ELRS-1"],  # no track holds ELRS-2 yet: its swarm drone is not tracked
    )
    scan = Scan(0, T0, np.zeros((2, 1)), np.ones((2, 1)), MODEL, labels)
    clf.observed(table, np.array([0, 1]), scan, np.array([0, 1]))
    after = probs(table)
    np.testing.assert_allclose(after[0], before[0])
    assert after[1, DRONE] > before[1, DRONE] + 0.1


def test_a_track_that_loses_its_emitter_gives_back_what_its_bearings_said() -> None:
    """A bearing's drone label is its emitter's, and the track has it only while the
    emitter is on the track. Random camp 188: a flock's radar track took the hidden drone's
    id from two finders nearly in line with both, and was called a drone at 0.97 within 3 s;
    a third finder's bearings of it passed 4.5 sigmas to one side, and the track lost the id
    5 s later, but was still a drone at 0.9 six seconds on, and warned of for 22 s. Losing
    the emitter, it is what every other look made it: here the same as a twin that no
    bearing reached."""
    clf = Classifier(TrackerConfig())
    table = tracks(BIRD_LIKE, BIRD_LIKE)  # track 1: the twin
    radar = look(table, rcs=[-23.0, -23.0])
    update(clf, table, radar)
    labels = Labels(np.array([peaked(DRONE, 0.9)]), np.full(1, math.nan), [None], ["OCU-HIDDEN"])
    bearing = Scan(1, T0, np.zeros((1, 1)), np.ones((1, 1)), MODEL, labels)
    for _ in range(6):
        clf.updated(table, np.array([0]), bearing, np.array([0]))
        table.emitter_id[0] = "OCU-HIDDEN"  # identity gives it the emitter (identity.py)
        update(clf, table, radar)
    clf.reidentified(table, np.array([0, 1]))  # still its emitter: nothing changes
    assert probs(table)[0, DRONE] > 0.9 > probs(table)[1, DRONE]
    table.emitter_id[0] = None  # released: its bearings did not fit (emitter_ids.py)
    clf.reidentified(table, np.array([0]))
    np.testing.assert_allclose(probs(table)[0], probs(table)[1])
    update(clf, table, radar)  # and it goes on as the twin does
    np.testing.assert_allclose(probs(table)[0], probs(table)[1])


def test_speed_and_height_separate_a_low_slow_track_from_an_aircraft() -> None:
    clf = Classifier(TrackerConfig())
    table = tracks(BIRD_LIKE, AIRCRAFT_LIKE)
    for _ in range(15):
        update(clf, table, look(table))
    slow, fast = probs(table)
    assert slow[AIRCRAFT] < 0.01 and slow[BIRD] + slow[DRONE] > 0.95
    assert slow[BIRD] == pytest.approx(slow[DRONE])  # kinematics alone cannot tell those two
    assert fast.argmax() == AIRCRAFT and fast[AIRCRAFT] > 0.9


def test_radar_cross_section_separates_birds_from_drones() -> None:
    clf = Classifier(TrackerConfig())
    table = tracks(BIRD_LIKE, BIRD_LIKE)
    for _ in range(8):
        update(clf, table, look(table, rcs=[-22.5, -12.5]))
    bird, drone = probs(table)
    assert bird.argmax() == BIRD and bird[BIRD] > 0.8
    assert drone.argmax() == DRONE and drone[DRONE] > 0.8


def test_a_cross_section_a_small_drone_and_a_large_bird_share_says_nothing() -> None:
    """From -20 to -17 dBsm a small drone and a large bird are both plausible: a minute of
    looks there leaves the two even. A drone box that began at -18 dBsm called drones of
    -20..-18 dBsm birds for sure: loiterers circling warning zones unalerted on random camps
    (session 31)."""
    clf = Classifier(TrackerConfig())
    shared = [-20.0, -19.0, -18.0, -17.0]
    table = tracks(*[BIRD_LIKE] * len(shared))
    for _ in range(60):
        update(clf, table, look(table, rcs=shared))
    for p in probs(table):
        assert p[BIRD] == pytest.approx(p[DRONE])


def test_uncertain_velocity_says_little() -> None:
    """A newborn track's velocity is a guess: a 60 m/s guess must not rule out a bird."""
    clf = Classifier(TrackerConfig())
    table = tracks((-800.0, 800.0, 60.0, 60.0, 0.0, 0.0), vel_sigma=20.0)
    update(clf, table, look(table))
    assert probs(table)[0, BIRD] > 0.8 * PRIOR["bird"]


rows = st.one_of(
    st.just([math.nan] * 5),
    st.just([0.0] * 5),
    st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5),
    st.lists(st.one_of(st.floats(0.0, 1.0), st.just(math.nan)), min_size=5, max_size=5),
)
looks = st.tuples(
    rows,
    st.one_of(st.just(math.nan), st.floats(-100.0, 100.0)),
    st.floats(0.0, 300.0),  # speed
    st.floats(-500.0, 20_000.0),  # height
    st.floats(0.01, 1000.0),  # velocity sigma
)


@settings(max_examples=150, deadline=None)
@given(st.lists(looks, min_size=1, max_size=25))
def test_probabilities_stay_normalised_and_finite(sequence: list) -> None:
    cfg = TrackerConfig()
    clf = Classifier(cfg)
    table = tracks(BIRD_LIKE)
    rows_ = np.arange(1)
    clf.initiated(table, rows_, look(table), rows_)
    for row, rcs, speed, height, vel_sigma in sequence:
        table.x[0, 2:5] = (height, speed, 0.0)
        table.P[0, 3, 3] = table.P[0, 4, 4] = vel_sigma**2
        update(clf, table, look(table, [row], [rcs]))
        logp = table.class_logp[0]
        assert np.isfinite(logp).all()
        assert np.exp(logp).sum() == pytest.approx(1.0)
        assert logp.max() - logp.min() <= cfg.class_max_log_odds + 1e-9


# --- scan labels from the wire ----------------------------------------------------

CONFIG = load_config(SAMPLE_CONFIG)
BUILDER = ScanBuilder(CONFIG.sensors, FRAME)


def build(report: wire.Report) -> Scan:
    (scan,) = BUILDER.build(report)
    return scan


def report(kind: type, sensor: str, detections: list) -> wire.Report:
    return kind(v=1, sensor_id=sensor, seq=0, t=T0, detections=detections)


def test_plain_radar_plots_carry_no_labels() -> None:
    plot = wire.RadarDetection(range_m=900.0, az_deg=10.0, el_deg=3.0)
    assert build(report(wire.RadarReport, "radar-1", [plot, plot])).labels is None


def test_radar_rcs_and_class_probs_become_labels() -> None:
    dets = [
        wire.RadarDetection(range_m=900.0, az_deg=10.0, el_deg=3.0, rcs_dbsm=-21.0),
        wire.RadarDetection(
            range_m=800.0, az_deg=20.0, el_deg=3.0, class_probs={"drone": 0.3, "bird": 0.1}
        ),
    ]
    labels = build(report(wire.RadarReport, "radar-1", dets)).labels
    assert labels is not None
    np.testing.assert_array_equal(labels.rcs_dbsm, [-21.0, math.nan])
    assert np.isnan(labels.class_probs[0]).all()
    np.testing.assert_allclose(labels.class_probs[1], [0.75, 0.25, 0.0, 0.0, 0.0])


def test_camera_labels_map_to_classes_unless_class_probs_are_given() -> None:
    def det(**kw: object) -> wire.CameraDetection:
        return wire.CameraDetection(az_deg=300.0, el_deg=5.0, **kw)  # type: ignore[arg-type]

    dets = [
        det(label="Quadcopter", confidence=0.8),
        det(label="helicopter", confidence=0.6),
        det(label="person", confidence=0.9),
        det(label="bird"),
        det(label="bird", confidence=0.9, class_probs={"drone": 1.0}),
        det(),
    ]
    labels = build(report(wire.CameraReport, "cam-nw", dets)).labels
    assert labels is not None
    p = labels.class_probs
    np.testing.assert_allclose(p[0], [0.8, 0.05, 0.05, 0.05, 0.05])
    np.testing.assert_allclose(p[1], [0.1, 0.1, 0.6, 0.1, 0.1])
    assert p[2].argmax() == UNKNOWN and p[2, UNKNOWN] == pytest.approx(0.9)
    assert p[3].argmax() == BIRD and 0.5 < p[3, BIRD] < 1.0
    np.testing.assert_allclose(p[4], [1.0, 0.0, 0.0, 0.0, 0.0])
    assert np.isnan(p[5]).all()
    np.testing.assert_allclose(p[:5].sum(axis=1), 1.0)


def test_rf_protocols_and_emitters_become_labels() -> None:
    dets = [
        wire.RfDetection(az_deg=40.0, protocol="elrs", emitter_id="E-1"),
        wire.RfDetection(az_deg=50.0, protocol="unknown"),
        wire.RfDetection(az_deg=60.0, class_probs={"unknown": 1.0}, protocol="elrs"),
    ]
    labels = build(report(wire.RfReport, "rf-ne", dets)).labels
    assert labels is not None
    assert labels.class_probs[0, DRONE] == pytest.approx(0.9)
    assert np.isnan(labels.class_probs[1]).all()
    np.testing.assert_allclose(labels.class_probs[2], [0, 0, 0, 0, 1.0])
    assert labels.emitter_id == ["E-1", None, None]
    bare = [wire.RfDetection(az_deg=40.0)]
    assert build(report(wire.RfReport, "rf-ne", bare)).labels is None


def test_remote_id_is_a_cooperative_drone_naming_itself() -> None:
    det = wire.RemoteIdDetection(lat=8.66, lon=24.51, alt_m=700.0, uas_id="UN-PKO-0001")
    labels = build(report(wire.RemoteIdReport, "rid-1", [det])).labels
    assert labels is not None
    assert labels.uas_id == ["UN-PKO-0001"] and labels.emitter_id == [None]
    assert labels.class_probs[0, DRONE] > 0.95


# --- end to end --------------------------------------------------------------------


def aer(sensor_id: str, enu: np.ndarray) -> tuple[float, float, float]:
    s = CONFIG.sensor(sensor_id)
    assert s is not None
    az, el, r = FRAME.sensor_frame(s.lat, s.lon, s.alt_m).enu_to_aer(enu)
    return float(az), float(el), float(r)


def fly_past_the_camera(camera: bool, seconds: int = 20) -> list[wire.TrackCycle]:
    """A bird-like target in the north-west, seen by the radar at 1 Hz and, if `camera`,
    labelled "bird" by cam-nw at 5 Hz; returns the published track cycles."""
    rng = np.random.default_rng(4)
    pipeline = FusionPipeline(CONFIG)
    start, vel = np.array(BIRD_LIKE[:3]), np.array(BIRD_LIKE[3:])
    messages = []
    for k in range(seconds * 5):
        t = k / 5.0
        enu = start + vel * t
        if k % 5 == 0:
            az, el, r = aer("radar-1", enu)
            plot = wire.RadarDetection(
                range_m=r + rng.normal(0, 5), az_deg=az + rng.normal(0, 1), el_deg=el
            )
            messages.append(("radar-1", wire.RadarReport, t, [plot]))
        if camera:
            az, el, _ = aer("cam-nw", enu)
            det = wire.CameraDetection(
                az_deg=az + rng.normal(0, 0.2), el_deg=el, label="bird", confidence=0.8
            )
            messages.append(("cam-nw", wire.CameraReport, t + 0.01, [det]))
    cycles = []
    for seq, (sensor, kind, t, dets) in enumerate(messages):
        msg = kind(v=1, sensor_id=sensor, seq=seq, t=T0 + t, detections=dets)
        for out in pipeline.submit(f"report.{sensor}", wire.to_msgpack(msg)):
            if isinstance(out, wire.TrackCycle):
                cycles.append(out)
    return cycles


def test_a_camera_labelling_a_target_bird_makes_its_published_class_bird() -> None:
    cycles = fly_past_the_camera(camera=True)
    last = [t for t in cycles[-1].tracks if t.status == "confirmed"]
    assert len(last) == 1 and last[0].class_ == "bird"
    assert last[0].class_probs["bird"] > 0.9
    # Before any classification evidence the published class is unknown.
    assert all(t.class_ == "unknown" for t in cycles[0].tracks)


def test_without_the_camera_the_radar_alone_cannot_tell_bird_from_drone() -> None:
    cycles = fly_past_the_camera(camera=False)
    (track,) = [t for t in cycles[-1].tracks if t.status == "confirmed"]
    assert track.class_ == "unknown"
    assert track.class_probs["bird"] == pytest.approx(track.class_probs["drone"], abs=0.01)
