"""The hidden drone's posterior Cramér-Rao bound (benchmarks/bounds.py): the covariance
recursion of a Kalman filter linearised at the truth, each look weighted by its Pd; FilterPy is
the oracle for both halves of it. On camps where two finders' lines meet at the drone by less
than their noise the bound is hundreds of metres; where cameras see it too, tens."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from filterpy.common import Q_continuous_white_noise
from filterpy.kalman import KalmanFilter
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bounds import (
    _informed,
    _predicted,
    hidden_drone_bound,
    passive_motion,
    radius,
    within,
)
from benchmarks.robustness import _rf_crossing_sigmas
from cuas.tracking.motion import NearlyConstantVelocity
from simulators.random_camp import random_camp


def a_covariance(seed: int) -> np.ndarray:
    A = np.random.default_rng(seed).normal(size=(6, 6))
    return A @ A.T + 6.0 * np.eye(6)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 5.0), st.floats(0.0, 3.0), st.floats(0.0, 3.0))
def test_the_prediction_is_filterpy_s(seed: int, dt: float, q_h: float, q_v: float) -> None:
    kf = KalmanFilter(dim_x=6, dim_z=1)
    kf.P = a_covariance(seed)
    kf.F = np.eye(6)
    kf.F[[0, 1, 2], [3, 4, 5]] = dt
    kf.Q = np.zeros((6, 6))
    for axis, q in enumerate((q_h, q_h, q_v)):
        block = Q_continuous_white_noise(dim=2, dt=dt, spectral_density=q)
        kf.Q[np.ix_([axis, axis + 3], [axis, axis + 3])] = block
    kf.predict()
    motion = NearlyConstantVelocity(q_h=q_h, q_v=q_v)
    assert _predicted(a_covariance(seed), dt, motion) == pytest.approx(kf.P, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 2), st.floats(0.1, 1.0))
def test_a_look_informs_as_filterpy_s_update_with_its_noise_over_its_pd(
    seed: int, m: int, pd: float
) -> None:
    H = np.random.default_rng(seed).normal(size=(m, 6)) * 1e-3  # an angle's, per metre
    sigmas = np.radians([0.2, 0.3])[:m]
    kf = KalmanFilter(dim_x=6, dim_z=m)
    kf.P, kf.H, kf.R = a_covariance(seed), H, np.diag(sigmas**2 / pd)
    kf.update(np.zeros(m))
    P = _informed(a_covariance(seed), H, sigmas, pd)
    assert pytest.approx(kf.P, rel=1e-6, abs=1e-9) == P


def median_bound(camp) -> float:
    times, horizontal = hidden_drone_bound(camp, passive_motion(camp.config.tracker))
    return float(np.median(radius(horizontal[times >= 10.0])))


def test_lines_meeting_by_less_than_their_noise_place_nothing_to_300_m() -> None:
    camp = random_camp(16)
    assert _rf_crossing_sigmas(camp) < 1.0
    assert median_bound(camp) > 300.0


def test_a_camera_that_sees_the_drone_places_it_far_better_than_the_finders() -> None:
    camp = random_camp(9)  # two finders meeting at it at two of their sigmas, three cameras
    finders = [s for s in camp.scenario.sensors if s.kind != "camera"]
    deaf = dataclasses.replace(camp, scenario=dataclasses.replace(camp.scenario, sensors=finders))
    assert median_bound(camp) < 50.0
    assert median_bound(deaf) > 3.0 * median_bound(camp)


def test_sensors_that_miss_more_often_allow_less() -> None:
    camp = random_camp(3)
    scenario = camp.scenario
    worse = {
        k: dataclasses.replace(m, pd=0.3) if isinstance(m.pd, float) else m
        for k, m in scenario.models.items()
    }
    blunter = dataclasses.replace(camp, scenario=dataclasses.replace(scenario, models=worse))
    assert median_bound(blunter) > 1.2 * median_bound(camp)


@settings(max_examples=30, deadline=None)
@given(st.floats(5.0, 500.0), st.floats(5.0, 500.0), st.floats(0.0, 3.14))
def test_within_is_the_chance_a_draw_of_the_covariance_falls_inside_the_reach(
    major: float, minor: float, angle: float
) -> None:
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    P = R @ np.diag([major**2, minor**2]) @ R.T
    draws = np.random.default_rng(1).multivariate_normal([0.0, 0.0], P, 20_000)
    expected = np.mean(np.hypot(draws[:, 0], draws[:, 1]) <= 300.0)
    assert within(P[None], 300.0)[0] == pytest.approx(expected, abs=0.03)
    assert radius(P[None])[0] == pytest.approx(np.hypot(major, minor))
