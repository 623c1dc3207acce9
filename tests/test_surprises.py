"""A camera sighting that fits its radar-placed track badly waits for the camera to see the
same again (cuas/tracking/surprises.py): clutter at the edge of the gate does not drag the
track, a target that really is there does, one look later."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import CameraModel, RadarModel
from cuas.tracking.scan import Scan
from cuas.tracking.surprises import SurpriseHold
from cuas.tracking.tracker import Tracker, TrackerStages
from cuas.tracking.tracks import TENTATIVE

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0


def place(lat: float, lon: float, alt: float = 612.0) -> SensorGeometry:
    return SensorGeometry(FRAME.sensor_frame(lat, lon, alt), 0.0, 5000.0, 0.0, 360.0, -10.0, 90.0)


RADAR = RadarModel(place(8.65, 24.50, 615.0), with_range_rate=False)
CAMERA = CameraModel(place(8.65226, 24.49682))  # 250 m north, 350 m west of the radar
RADAR_SIGMA = np.array([5.0, np.radians(1.0), np.radians(1.5)])
CAMERA_SIGMA = np.radians([0.2, 0.2])
BIRD = np.array([-150.0, 450.0, 60.0, 0.0, 0.0, 0.0])  # hovering about 300 m from the camera

# --- the hold itself --------------------------------------------------------------------

VAR = (CAMERA_SIGMA**2)[None].repeat(1, axis=0)
IDS = np.array([7])
RATE = np.array([0.1])


def admit(hold: SurpriseHold, t: float, az_deg: float, d2: float, track: int = 7, sensor: int = 1):
    z = np.radians([[az_deg, 5.0]])
    return bool(hold.admit(np.array([track]), sensor, t, z, VAR, np.array([d2]), RATE)[0])


def test_a_sighting_that_fits_is_used_at_once() -> None:
    assert admit(SurpriseHold(), T0, 40.0, d2=3.9)


def test_a_lone_surprise_waits_and_the_same_sighting_again_is_used() -> None:
    hold = SurpriseHold()
    assert not admit(hold, T0, 40.0, d2=8.0)
    assert admit(hold, T0 + 0.25, 40.01, d2=8.0)


def test_a_surprise_somewhere_else_too_late_or_from_another_camera_still_waits() -> None:
    hold = SurpriseHold(repeat_s=1.0)
    assert not admit(hold, T0, 40.0, d2=8.0)
    assert not admit(hold, T0 + 0.25, 43.0, d2=8.0)  # 3 degrees away: another line of sight
    assert not admit(hold, T0 + 1.5, 43.0, d2=8.0)  # where the last one was, but 1.25 s later
    assert not admit(hold, T0 + 1.75, 43.0, d2=7.0, sensor=2)  # another camera's
    assert not admit(hold, T0 + 2.0, 43.0, d2=7.0, track=8)  # of another track


def test_the_hold_forgets_what_it_can_no_longer_use() -> None:
    hold = SurpriseHold(repeat_s=1.0)
    for k in range(50):
        admit(hold, T0 + k, 40.0, d2=7.0, track=k)
        hold.forget(T0 + k)
    assert len(hold._last) <= 2


# --- in the tracker -----------------------------------------------------------------------


def radar_track(hold: bool, seconds: int = 20) -> tuple[Tracker, np.random.Generator]:
    """A radar-placed, confirmed track on a hovering bird near the camera."""
    stages = replace(TrackerStages.from_config(TrackerConfig()), hold_surprises=hold)
    tracker = Tracker(stages, n_sensors=2)
    rng = np.random.default_rng(11)
    for k in range(seconds):
        z, _ = RADAR.predict(BIRD[None])
        z = z + rng.normal(size=z.shape) * RADAR_SIGMA
        tracker.process(Scan(0, T0 + k, z, (RADAR_SIGMA**2)[None].copy(), RADAR))
    assert tracker.tracks.n == 1 and tracker.tracks.status[0] != TENTATIVE
    return tracker, rng


def surprising_line(tracker: Tracker, d2: float) -> np.ndarray:
    """A camera line of sight off the track's predicted one by a chi-square of `d2`."""
    x, P = tracker.tracks.x[:1], tracker.tracks.P[:1]
    zhat, H = CAMERA.predict(x)
    S = H[0] @ P[0] @ H[0].T + np.diag(CAMERA_SIGMA**2)
    w, V = np.linalg.eigh(S)
    return zhat + np.sqrt(d2 * w[-1]) * V[:, -1]  # along the track's widest spread


def look(tracker: Tracker, t: float, z: np.ndarray) -> None:
    tracker.process(Scan(1, t, z.reshape(1, 2), (CAMERA_SIGMA**2)[None].copy(), CAMERA))


def test_one_false_camera_detection_at_the_gates_edge_does_not_drag_a_radar_track() -> None:
    moved = {}
    for hold in (False, True):
        tracker, _ = radar_track(hold)
        before = tracker.tracks.x[0, :3].copy()
        history = tracker.tracks.history[0]
        look(tracker, T0 + 19.25, surprising_line(tracker, d2=8.0))
        moved[hold] = float(np.linalg.norm(tracker.tracks.x[0, :3] - before))
        if hold:  # a glimpse: neither a hit nor a miss
            assert tracker.tracks.history[0] == history
            assert np.sqrt(np.trace(tracker.tracks.P[0, :3, :3])) > 5.0  # nor a fine update
    assert moved[False] > 15.0, moved  # without the hold the clutter pulls it off
    assert moved[True] < 1.0, moved


def test_a_target_the_camera_keeps_seeing_off_the_track_moves_it_one_look_later() -> None:
    tracker, _ = radar_track(hold=True)
    z = surprising_line(tracker, d2=8.0)
    before = tracker.tracks.x[0, :3].copy()
    look(tracker, T0 + 19.25, z)
    assert np.linalg.norm(tracker.tracks.x[0, :3] - before) < 1.0
    look(tracker, T0 + 19.5, z)
    assert np.linalg.norm(tracker.tracks.x[0, :3] - before) > 15.0
