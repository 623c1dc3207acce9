"""A bearings-only track's height that only its birth measured does not outlive the sensor
memory (`Tracker._lapse_birth_height`): a camera's single look that crossed a finder's bearing
is a glimpse, and its height is the height prior's once the finders alone carry the track."""

from __future__ import annotations

import numpy as np
import pytest
from support.sites import all_round_site

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking import tracker as tracker_module
from cuas.tracking.measurements import BearingModel, CameraModel
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracker import Tracker

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0
FINDER_A = BearingModel(all_round_site(FRAME, -200.0, 0.0, 10.0))
FINDER_B = BearingModel(all_round_site(FRAME, 200.0, 0.0, 10.0))
CAMERA = CameraModel(all_round_site(FRAME, 0.0, -300.0, 12.0))
BEARING_SIGMA = np.radians([1.0])
CAMERA_SIGMA = np.radians([0.2, 0.2])
DRONE = np.array([-150.0, 900.0, 40.0])  # hovering, radar-silent, 900 m out
LOOKED_AT_M = 400.0  # the height of the camera's one crossing line above the drone's spot


def run(seconds: float, camera_keeps_looking: bool = False) -> Tracker:
    """The two finders hear the drone twice a second. At the start the camera looks once
    along a line that passes 400 m above it (an object far beyond, higher up); the finder's
    first bearing crosses that line there and starts the track. The camera sees nothing
    there again, or with `camera_keeps_looking` two objects side by side there, twice a
    second, whose lines it cannot tell apart."""
    rng = np.random.default_rng(5)
    cfg = TrackerConfig()
    tracker = Tracker.from_config(cfg, n_sensors=3)
    above = np.r_[DRONE[:2], LOOKED_AT_M, np.zeros(3)][None]
    z, _ = CAMERA.predict(above)
    look = Scan(2, T0, z, (CAMERA_SIGMA**2)[None].copy(), CAMERA, Labels.none(1))
    tracker.process(look)
    pair = np.vstack([z, z + np.radians([0.3, 0.0])])
    state = np.r_[DRONE, np.zeros(3)][None]
    for k in range(int(seconds * 2)):
        if camera_keeps_looking and k:
            var = np.repeat((CAMERA_SIGMA**2)[None], 2, axis=0)
            tracker.process(Scan(2, T0 + 0.5 * k, pair.copy(), var, CAMERA, Labels.none(2)))
        for sensor, finder in enumerate((FINDER_A, FINDER_B)):
            t = T0 + 0.1 + 0.5 * k + 0.2 * sensor
            z, _ = finder.predict(state)
            z = z + rng.normal(size=z.shape) * BEARING_SIGMA
            var = (BEARING_SIGMA**2)[None].copy()
            tracker.process(Scan(sensor, t, z, var, finder, Labels.none(1)))
    return tracker


def only_track(tracker: Tracker) -> tuple[np.ndarray, float]:
    """The one track's position and its height's sigma."""
    tracks = tracker.tracks
    assert tracks.n == 1
    return tracks.x[0, :3], float(np.sqrt(tracks.P[0, 2, 2]))


def test_the_crossing_starts_the_track_at_the_camera_s_height() -> None:
    position, sigma = only_track(run(1.0))
    assert np.hypot(*(position[:2] - DRONE[:2])) < 100.0
    assert abs(position[2] - LOOKED_AT_M) < 30.0
    assert sigma < 30.0


def test_once_the_sensor_memory_has_passed_the_track_takes_the_height_prior() -> None:
    cfg = TrackerConfig()
    position, sigma = only_track(run(15.0))
    assert np.hypot(*(position[:2] - DRONE[:2])) < 150.0
    assert position[2] == pytest.approx(cfg.passive_height_m, abs=1.0)
    assert sigma == pytest.approx(cfg.passive_height_sigma_m, rel=0.1)


def test_without_the_rule_the_glimpse_s_height_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracker_module.Tracker, "_lapse_birth_height", lambda *args: None)
    position, sigma = only_track(run(15.0))
    assert abs(position[2] - LOOKED_AT_M) < 30.0
    assert sigma < 100.0


def test_a_camera_that_keeps_seeing_something_there_keeps_the_height() -> None:
    tracker = run(15.0, camera_keeps_looking=True)
    position, sigma = only_track(tracker)
    assert tracker.tracks.last_hit[0, 2] <= tracker.tracks.t_birth[0]  # never updated it
    assert abs(position[2] - LOOKED_AT_M) < 30.0
    assert sigma < 100.0
