"""A radar track that a camera's lines drag onto another target is found by the radar's
plots, which keep seeing it to one side, and waits for the radar (cuas/tracking/camera_drag.py).
A track the camera sees where the radar does is left alone."""

from __future__ import annotations

import numpy as np

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking import camera_drag
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.gating import Hypotheses
from cuas.tracking.measurements import CameraModel, RadarModel
from cuas.tracking.scan import Scan
from cuas.tracking.tracker import Tracker, TrackerStages
from cuas.tracking.tracks import TrackTable

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
S0 = np.sqrt((1.0 - camera_drag.LEAN_MEMORY) / (1.0 + camera_drag.LEAN_MEMORY))


def place(lat: float, lon: float, alt: float = 612.0) -> SensorGeometry:
    return SensorGeometry(FRAME.sensor_frame(lat, lon, alt), 0.0, 5000.0, 0.0, 360.0, -10.0, 90.0)


RADAR = RadarModel(place(8.65, 24.50, 615.0), with_range_rate=False)
CAMERA = CameraModel(place(8.65, 24.50027))  # 30 m east of the radar: its lines run alike
RADAR_SIGMA = np.array([5.0, np.radians(1.0), np.radians(1.5)])
CAMERA_SIGMA = np.radians([0.2, 0.2])
DRONE = np.array([-150.0, 450.0, 60.0, 0.0, 0.0, 0.0])  # hovering, 480 m out


# --- the lean itself ----------------------------------------------------------------------


def plot(azimuth_sigmas: float) -> Hypotheses:
    """A radar plot given to track 0, `azimuth_sigmas` of its innovation's sigma off in
    azimuth."""
    S = np.diag([25.0, 4e-4, 4e-4])[None]
    y = np.array([[0.0, azimuth_sigmas * 0.02, 0.0]])
    return Hypotheses(
        np.zeros(1, np.intp), np.zeros(1, np.intp), np.ones(1), y, S, np.zeros((1, 3, 6))
    )


def one_track() -> TrackTable:
    table = TrackTable(n_sensors=2)
    table.add(np.zeros((1, 6)), np.eye(6)[None], 0.0, 0)
    return table


def test_a_camera_fed_track_the_radar_sees_to_one_side_is_barred_from_cameras() -> None:
    table, fed = one_track(), np.array([True])
    n = int(np.ceil(np.log(1.0 - camera_drag.LEAN_SIGMAS * S0 / 1.5) / np.log(0.9)))
    for k in range(n - 1):
        assert camera_drag.check(table, plot(1.5), fed, T0 + k, 5.0).size == 0
    assert not camera_drag.barred(table, T0 + n).any()
    assert camera_drag.check(table, plot(1.5), fed, T0 + n, 5.0).tolist() == [0]
    assert camera_drag.barred(table, T0 + n + 4.9).all()
    assert not camera_drag.barred(table, T0 + n + 5.1).any()
    assert table.camera_lean[0] == 0.0  # it starts over


def test_plots_scattered_about_a_camera_fed_track_seldom_bar_it() -> None:
    """Twenty hours of 1 s radar plots, normally scattered about the track: a bar about once
    an hour (0.8 on average), each costing the camera's lines 5 s, a thousandth of the
    time. The lean's bar, 3.5 of its sigmas, is lower than the emitter's 5 (which never
    trips on such plots): a camera's lines held the track before the lean could reach that."""
    rng = np.random.default_rng(0)
    bars = 0
    for _ in range(20):
        table, fed = one_track(), np.array([True])
        for k, z in enumerate(rng.normal(0.0, 1.0, 3600)):
            bars += camera_drag.check(table, plot(float(z)), fed, T0 + k, 5.0).size
    assert bars <= 1.5 * 20, bars


def test_a_track_no_camera_feeds_has_no_lean() -> None:
    table = one_track()
    for k in range(100):
        assert camera_drag.check(table, plot(3.0), np.array([False]), T0 + k, 5.0).size == 0
    assert table.camera_lean[0] == 0.0


# --- in the tracker -----------------------------------------------------------------------


def fly(first: list[np.ndarray], then: list[np.ndarray], drag: bool) -> tuple[Tracker, float]:
    """The radar plots `DRONE` each second for a minute; the camera, from 10 s on, four times
    a second, sees the targets `first`, and from 25 s on those `then`. Returns the tracker and
    its first track's mean miss of the drone over the last 20 s."""
    tracker = Tracker(TrackerStages.from_config(TrackerConfig()), n_sensors=2)
    rng = np.random.default_rng(5)
    lean = camera_drag.LEAN_SIGMAS
    if not drag:
        camera_drag.LEAN_SIGMAS = np.inf
    misses = []
    try:
        for k in range(60):
            z, _ = RADAR.predict(DRONE[None])
            z = z + rng.normal(size=z.shape) * RADAR_SIGMA
            tracker.process(Scan(0, T0 + k, z, (RADAR_SIGMA**2)[None].copy(), RADAR))
            seen = [] if k < 10 else first if k < 25 else then
            for q in range(4 if seen else 0):
                z, _ = CAMERA.predict(np.array(seen))
                z = z + rng.normal(size=z.shape) * CAMERA_SIGMA
                var = np.repeat((CAMERA_SIGMA**2)[None], len(seen), axis=0)
                tracker.process(Scan(1, T0 + k + 0.1 + 0.25 * q, z, var, CAMERA))
            if k >= 40:
                misses.append(float(np.linalg.norm(tracker.tracks.x[0, :3] - DRONE[:3])))
    finally:
        camera_drag.LEAN_SIGMAS = lean
    assert tracker.tracks.track_id[0] == 1  # the radar's track, first made, still alive
    return tracker, float(np.mean(misses))


def neighbour(degrees: float, nearer_m: float) -> np.ndarray:
    """A hovering drone `degrees` to the right of the drone as the camera sees it, and
    `nearer_m` nearer the camera."""
    site = CAMERA.geometry.frame.position
    v = DRONE[:3] - site
    c, s = np.cos(np.radians(-degrees)), np.sin(np.radians(-degrees))
    u = np.array([c * v[0] - s * v[1], s * v[0] + c * v[1], v[2]])
    return np.r_[site + u * (1.0 - nearer_m / np.linalg.norm(v)), 0.0, 0.0, 0.0]


def test_a_camera_that_took_a_neighbours_line_lets_go_of_it() -> None:
    """For 15 s the camera misses the drone and sees a neighbour 2.5 degrees aside, 80 m
    nearer, which the radar does not see: its lines pull the radar track onto the
    neighbour's line, at the drone's range, with a sigma of metres. Then the camera sees
    both. Without the rule the track stays on the neighbour's line, which fits it best; with
    it the radar's lean says the track is dragged, the camera waits, the radar places the
    track again, and the drone's own line fits it from then on."""
    other = neighbour(2.5, 80.0)
    dragged, held = fly([other], [DRONE, other], drag=False)
    found, kept = fly([other], [DRONE, other], drag=True)
    assert dragged.stats.camera_drags == 0
    assert found.stats.camera_drags > 0
    assert held > 15.0, held
    assert kept < 8.0, kept


def test_a_camera_that_sees_the_drone_itself_is_never_barred() -> None:
    tracker, miss = fly([DRONE], [DRONE], drag=True)
    assert tracker.stats.camera_drags == 0
    assert miss < 5.0, miss
