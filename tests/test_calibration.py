"""Sensor noise calibration: the variance scale learnt from innovations on placed tracks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas.tracking.calibration import NoiseCalibration

SIGMA = np.radians(3.0)


def innovations(cal, rng, n: int, real_sigma: float, track_sigma: float = 0.0):
    """n one-dimensional innovations of sensor 0, configured with SIGMA, really `real_sigma`;
    with the variances the tracker used (configured, times the scale learnt so far)."""
    y = rng.normal(size=(n, 1)) * np.hypot(real_sigma, track_sigma)
    var = cal.variances(0, np.full((n, 1), SIGMA**2))
    S = (var + track_sigma**2)[:, :, None]
    return y, S, var


def test_nothing_is_learnt_before_enough_innovations() -> None:
    cal = NoiseCalibration(2)
    y, S, var = innovations(cal, np.random.default_rng(0), cal.min_samples - 1, 2 * SIGMA)
    cal.observe(0, y, S, var)
    assert np.all(cal.scale == 1.0)
    assert cal.variances(0, var) is var


def test_a_sensor_twice_as_noisy_as_configured_gets_four_times_the_variance() -> None:
    cal = NoiseCalibration(2)
    rng = np.random.default_rng(1)
    for _ in range(20):
        cal.observe(0, *innovations(cal, rng, 16, 2 * SIGMA))
    assert 3.2 < cal.scale[0, 0] < 5.0
    assert cal.scale[1, 0] == 1.0  # the other sensor is untouched
    assert np.allclose(cal.variances(0, np.full((3, 1), SIGMA**2)), cal.scale[0, 0] * SIGMA**2)


def test_a_fifth_of_wrong_associations_barely_moves_the_estimate() -> None:
    cal = NoiseCalibration(1)
    rng = np.random.default_rng(2)
    for _ in range(20):
        y, S, var = innovations(cal, rng, 16, SIGMA)
        y[rng.random(16) < 0.2] = np.radians(9.0)  # another drone's bearing, in the gate
        cal.observe(0, y, S, var)
    assert 0.8 < cal.scale[0, 0] < 1.6


def test_pairs_whose_track_is_vague_across_the_line_of_sight_teach_nothing() -> None:
    cal = NoiseCalibration(1)
    rng = np.random.default_rng(3)
    for _ in range(20):
        cal.observe(0, *innovations(cal, rng, 16, 2 * SIGMA, track_sigma=SIGMA))
    assert cal.scale[0, 0] == 1.0


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.01, 100.0),
    st.integers(0, 2**32 - 1),
)
def test_the_scale_stays_within_its_bounds_whatever_the_noise(ratio: float, seed: int) -> None:
    cal = NoiseCalibration(1)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        cal.observe(0, *innovations(cal, rng, 16, ratio * SIGMA))
    low, high = cal.bounds
    assert low <= cal.scale[0, 0] <= high
