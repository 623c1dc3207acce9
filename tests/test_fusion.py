"""Several kinds of sensor updating the same tracks."""

from __future__ import annotations

import numpy as np

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import (
    BearingModel,
    CameraModel,
    MeasurementModel,
    PositionModel,
    RadarModel,
)
from cuas.tracking.scan import Scan
from cuas.tracking.tracker import Tracker
from cuas.tracking.tracks import TENTATIVE

FRAME = LocalFrame(8.65, 24.50, 600.0)
T0 = 1_764_000_000.0


def place(lat: float, lon: float, alt: float = 612.0) -> SensorGeometry:
    return SensorGeometry(FRAME.sensor_frame(lat, lon, alt), 0.0, 5000.0, 0.0, 360.0, -10.0, 90.0)


RADAR = RadarModel(place(8.65, 24.50, 615.0), with_range_rate=False)
CAM_NW = CameraModel(place(8.65226, 24.49682))
CAM_SE = CameraModel(place(8.64774, 24.50318))
RF_NE = BearingModel(place(8.65226, 24.50318))
RID = PositionModel(place(8.65, 24.50), with_velocity=True)

SIGMA = {
    RADAR: np.array([5.0, np.radians(1.0), np.radians(1.5)]),
    CAM_NW: np.radians([0.2, 0.2]),
    CAM_SE: np.radians([0.2, 0.2]),
    RF_NE: np.radians([3.0]),
    RID: np.array([10.0, 10.0, 15.0, 1.0, 1.0, 1.0]),
}
INDEX = {RADAR: 0, CAM_NW: 1, CAM_SE: 2, RF_NE: 3, RID: 4}


def observe(model: MeasurementModel, t: float, state: np.ndarray, rng) -> Scan:
    z, _ = model.predict(state[None, :])
    z = z + rng.normal(size=z.shape) * SIGMA[model]
    return Scan(INDEX[model], t, z, (SIGMA[model] ** 2)[None].copy(), model)


def fly(models_and_periods, seconds: float = 60.0, seed: int = 3):
    """A drone crossing the camp's north-east; returns the tracker and its mean firm error."""
    rng = np.random.default_rng(seed)
    tracker = Tracker(TrackerConfig(), n_sensors=5)
    x0 = np.array([1800.0, 1400.0, 120.0, -14.0, -10.0, 0.0])
    events = sorted(
        (k * period, i, model)
        for i, (model, period) in enumerate(models_and_periods)
        for k in range(int(seconds / period))
    )
    errors = []
    for dt, _, model in events:
        state = x0 + np.r_[x0[3:] * dt, np.zeros(3)]
        tracker.process(observe(model, T0 + dt, state, rng))
        n = tracker.tracks.n
        firm = tracker.tracks.status[:n] != TENTATIVE
        if dt > 20 and firm.any():
            errors.append(
                np.linalg.norm(tracker.tracks.x[:n][firm][:, :3] - state[:3], axis=1).min()
            )
    return tracker, float(np.mean(errors)) if errors else float("nan")


def test_cameras_make_the_radar_track_several_times_more_accurate() -> None:
    _, radar_only = fly([(RADAR, 1.0)])
    _, fused = fly([(RADAR, 1.0), (CAM_NW, 0.2), (CAM_SE, 0.2)])
    assert fused < radar_only / 2, (fused, radar_only)


def test_rf_bearings_update_a_track_but_never_start_one() -> None:
    tracker, _ = fly([(RF_NE, 0.5)])
    assert len(tracker.tracks) == 0
    tracker, _ = fly([(RADAR, 1.0), (RF_NE, 0.5)])
    assert tracker.tracks.n == 1
    assert np.isfinite(tracker.tracks.last_hit[0, INDEX[RF_NE]])  # the RF sensor contributed


def test_remote_id_alone_gives_a_confirmed_track_with_its_velocity() -> None:
    tracker, error = fly([(RID, 1.0)])
    assert tracker.tracks.n == 1 and tracker.tracks.status[0] != TENTATIVE
    assert error < 15.0
    np.testing.assert_allclose(tracker.tracks.x[0, 3:], [-14.0, -10.0, 0.0], atol=1.5)


def test_sensors_that_only_hear_some_targets_do_not_wear_tracks_down() -> None:
    """A radar track keeps its status while RF scans that do not hear it keep arriving."""
    rng = np.random.default_rng(5)
    tracker = Tracker(TrackerConfig(), n_sensors=5)
    state = np.array([900.0, -700.0, 80.0, 0.0, 0.0, 0.0])
    for k in range(10):
        tracker.process(observe(RADAR, T0 + k, state, rng))
        for j in range(4):  # empty RF scans between radar scans
            tracker.process(
                Scan(
                    INDEX[RF_NE], T0 + k + 0.2 * (j + 1), np.zeros((0, 1)), np.zeros((0, 1)), RF_NE
                )
            )
    assert tracker.tracks.n == 1 and tracker.tracks.status[0] != TENTATIVE
    assert tracker.tracks.history[0] & 0b1111 == 0b1111  # only radar scans were opportunities
