"""Filter maths of the tracking core, checked against FilterPy and numerical derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from filterpy.common import Q_continuous_white_noise
from filterpy.kalman import ExtendedKalmanFilter, IMMEstimator
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas.config import TrackerConfig
from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import BearingModel, CameraModel, PositionModel, RadarModel
from cuas.tracking.motion import NearlyConstantVelocity
from cuas.tracking.scan import Scan
from cuas.tracking.tracker import Tracker
from cuas.tracking.tracks import TENTATIVE
from cuas.tracking.update import kalman_update

FRAME = LocalFrame(8.65, 24.50, 600.0)


def geometry(lat: float = 8.65, lon: float = 24.50, alt: float = 615.0) -> SensorGeometry:
    return SensorGeometry(
        frame=FRAME.sensor_frame(lat, lon, alt),
        min_range_m=0.0,
        max_range_m=10_000.0,
        boresight_az_deg=0.0,
        fov_az_deg=360.0,
        fov_el_min_deg=-90.0,
        fov_el_max_deg=90.0,
    )


def independent_hx(x: np.ndarray, sensor: np.ndarray) -> np.ndarray:
    """Range/az/el written out from first principles, for a sensor whose frame is the camp's."""
    d = x[:3, 0] - sensor
    rng = np.linalg.norm(d)
    return np.array([[rng], [np.arctan2(d[0], d[1])], [np.arcsin(d[2] / rng)]])


def independent_jacobian(x: np.ndarray, sensor: np.ndarray) -> np.ndarray:
    """Central differences of `independent_hx`."""
    H = np.zeros((3, 6))
    for j in range(3):
        step = np.zeros((6, 1))
        step[j] = 1e-4
        H[:, j] = (independent_hx(x + step, sensor) - independent_hx(x - step, sensor))[:, 0] / 2e-4
    return H


def wrap_residual(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = a - b
    y[1] = (y[1] + np.pi) % (2 * np.pi) - np.pi
    return y


states = st.tuples(
    st.floats(-4000, 4000),
    st.floats(-4000, 4000),
    st.floats(20, 1500),
    st.floats(-40, 40),
    st.floats(-40, 40),
    st.floats(-10, 10),
).filter(lambda s: np.hypot(s[0], s[1]) > 50.0)


def every_model(g: SensorGeometry) -> list:
    return [
        RadarModel(g, with_range_rate=False),
        RadarModel(g, with_range_rate=True),
        CameraModel(g),
        BearingModel(g),
        PositionModel(g, with_velocity=False),
        PositionModel(g, with_velocity=True),
    ]


@settings(max_examples=300, deadline=None)
@given(states, st.integers(0, 5))
def test_every_jacobian_matches_numerical_differentiation(state, which) -> None:
    """Radar, camera, RF bearing and Remote ID models, from a sensor off the camp origin."""
    model = every_model(geometry(8.66, 24.51, 640.0))[which]
    x = np.array(state)[None, :]
    _, H = model.predict(x)
    numeric = np.zeros_like(H[0])
    for j in range(6):
        step = np.zeros(6)
        step[j] = 1e-3
        plus, _ = model.predict(x + step)
        minus, _ = model.predict(x - step)
        diff = model.residual(plus[0], minus[0])
        numeric[:, j] = diff / 2e-3
    np.testing.assert_allclose(H[0], numeric, rtol=1e-5, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(states, st.floats(0.01, 5.0), st.floats(0.01, 5.0))
def test_prediction_in_two_steps_equals_one(state, dt1, dt2) -> None:
    motion = NearlyConstantVelocity(q_h=4.0, q_v=1.0)
    x = np.array(state)[None, :]
    P = np.diag([100.0, 100.0, 400.0, 25.0, 25.0, 4.0])[None]
    x1, P1 = motion.predict(*motion.predict(x, P, dt1), dt2)
    x2, P2 = motion.predict(x, P, dt1 + dt2)
    np.testing.assert_allclose(x1, x2, atol=1e-9)
    np.testing.assert_allclose(P1, P2, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dt", [0.1, 1.0, 2.5])
def test_prediction_matches_filterpy_matrices(dt: float) -> None:
    motion = NearlyConstantVelocity(q_h=4.0, q_v=4.0)
    Q = Q_continuous_white_noise(
        dim=2, dt=dt, spectral_density=4.0, block_size=3, order_by_dim=False
    )
    np.testing.assert_allclose(motion.noise(dt), Q)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 6))
    A = rng.normal(size=(4, 6, 6))
    P = A @ A.transpose(0, 2, 1)
    F = motion.transition(dt)
    xp, Pp = motion.predict(x, P, dt)
    np.testing.assert_allclose(xp, x @ F.T)
    np.testing.assert_allclose(Pp, F @ P @ F.T + Q, atol=1e-9)


def test_batched_update_matches_filterpy_update() -> None:
    rng = np.random.default_rng(7)
    model = RadarModel(geometry(), with_range_rate=False)
    sensor = model.geometry.frame.position
    for _ in range(20):
        x = np.array(
            [
                [rng.uniform(-2000, 2000)],
                [rng.uniform(-2000, 2000)],
                [rng.uniform(30, 300)],
                [5.0],
                [-3.0],
                [0.5],
            ]
        )
        A = rng.normal(size=(6, 6))
        P = A @ A.T + np.eye(6) * 50.0
        R = np.diag([25.0, np.radians(1.0) ** 2, np.radians(1.5) ** 2])
        z = independent_hx(x, sensor) + rng.normal(size=(3, 1)) * np.sqrt(np.diag(R))[:, None]

        ekf = ExtendedKalmanFilter(dim_x=6, dim_z=3)
        ekf.x, ekf.P = x.copy(), P.copy()
        ekf.update(
            z,
            lambda s: independent_jacobian(s, sensor),
            lambda s: independent_hx(s, sensor),
            R=R,
            residual=wrap_residual,
        )

        zhat, H = model.predict(x.T)
        y = model.residual(z.T, zhat)
        S = H @ P @ H[0].T + R
        x_new, P_new = kalman_update(x.T, P[None], y, S, H, np.diag(R)[None])
        np.testing.assert_allclose(x_new[0], ekf.x[:, 0], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(P_new[0], ekf.P, rtol=1e-5, atol=1e-4)


def single_point_start(z: np.ndarray, R: np.ndarray, cfg: TrackerConfig, sensor: np.ndarray):
    """Single-point initiation, derived independently: the polar-to-Cartesian Jacobian."""
    rng_, az, el = z[:, 0]
    J = np.array(
        [
            [
                np.sin(az) * np.cos(el),
                rng_ * np.cos(az) * np.cos(el),
                -rng_ * np.sin(az) * np.sin(el),
            ],
            [
                np.cos(az) * np.cos(el),
                -rng_ * np.sin(az) * np.cos(el),
                -rng_ * np.cos(az) * np.sin(el),
            ],
            [np.sin(el), 0.0, rng_ * np.cos(el)],
        ]
    )
    x = np.zeros((6, 1))
    x[:3, 0] = sensor + rng_ * np.array(
        [np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)]
    )
    P = np.zeros((6, 6))
    P[:3, :3] = J @ R @ J.T
    P[3:, 3:] = np.diag([cfg.init_speed_sigma_mps**2] * 2 + [cfg.init_vspeed_sigma_mps**2])
    return x, P


class RadarEkf(ExtendedKalmanFilter):
    """FilterPy's EKF with the radar measurement bound in, as FilterPy's IMM calls update(z)."""

    def __init__(self, sensor: np.ndarray, R: np.ndarray, q: float, dt: float = 1.0) -> None:
        super().__init__(dim_x=6, dim_z=3)
        self.sensor = sensor
        self.R = R
        self.F = NearlyConstantVelocity(q, q).transition(dt)
        self.Q = Q_continuous_white_noise(
            dim=2, dt=dt, spectral_density=q, block_size=3, order_by_dim=False
        )

    def update(self, z: np.ndarray) -> None:  # type: ignore[override]
        super().update(
            z,
            lambda s: independent_jacobian(s, self.sensor),
            lambda s: independent_hx(s, self.sensor),
            R=self.R,
            residual=wrap_residual,
        )


def weaving_radar_plots(seconds: int, sigma: np.ndarray, seed: int, amplitude_m: float = 0.0):
    """Radar plots (3, 1) of a drone flying south-east, weaving by `amplitude_m` (period 12 s)."""
    rng = np.random.default_rng(seed)
    for k in range(seconds):
        w = 2 * np.pi / 12.0
        position = np.array([1500.0 - 12.0 * k, -800.0 + 9.0 * k, 120.0 + 0.3 * k])
        position[1] += amplitude_m * np.sin(w * k)
        z = independent_hx(np.r_[position, 0.0, 0.0, 0.0][:, None], np.zeros(3) + SENSOR)
        yield k, position, z + rng.normal(size=(3, 1)) * sigma[:, None]


SENSOR = geometry().frame.position


def test_single_track_follows_filterpy_ekf_scan_by_scan() -> None:
    """The whole tracker, fed one target, gives FilterPy's EKF estimate at every scan."""
    cfg = TrackerConfig(
        motion="ncv", accel_noise_mps2=2.0, accel_noise_up_mps2=2.0, confirm_m=2, confirm_n=3
    )
    tracker = Tracker.from_config(cfg, n_sensors=1)
    model = RadarModel(geometry(), with_range_rate=False)
    sigma = np.array([5.0, np.radians(1.0), np.radians(1.5)])
    R = np.diag(sigma**2)
    ekf = RadarEkf(SENSOR, R, 4.0)
    for k, position, z in weaving_radar_plots(30, sigma, seed=11):
        tracker.process(Scan(0, 1_764_000_000.0 + k, z.T.copy(), (sigma**2)[None].copy(), model))
        if k == 0:
            ekf.x, ekf.P = single_point_start(z, R, cfg, SENSOR)
        else:
            ekf.predict()
            ekf.update(z)
        assert len(tracker.tracks) == 1
        np.testing.assert_allclose(tracker.tracks.x[0], ekf.x[:, 0], rtol=1e-4, atol=1e-2)
        np.testing.assert_allclose(tracker.tracks.P[0], ekf.P, rtol=1e-3, atol=1e-2)
        error = np.linalg.norm(tracker.tracks.x[0, :3] - position)
    assert error < 30.0


def test_single_track_follows_filterpy_imm_scan_by_scan() -> None:
    """With the steady and manoeuvre models beside the quiet one, a confirmed track is
    FilterPy's IMM estimator: the same mode probabilities, mode states and combined estimate
    at every scan.
    The tracker mixes on its grid of `step_s` (0.2 s), so between two plots a second apart
    FilterPy's IMM predicts five steps of 0.2 s, each mixing (and carrying the predicted
    mode probabilities on, which FilterPy leaves to its update), then updates.
    (A tentative track is held in the quiet mode, so the comparison starts at confirmation,
    from the tracker's own mode states.)"""
    cfg = TrackerConfig(
        accel_noise_mps2=2.0,
        accel_noise_up_mps2=2.0,
        steady_accel_mps2=0.25,
        steady_accel_up_mps2=0.25,
        manoeuvre_accel_mps2=15.0,
        manoeuvre_accel_up_mps2=15.0,
        confirm_m=2,
        confirm_n=3,
    )
    tracker = Tracker.from_config(cfg, n_sensors=1)
    step = tracker.imm.step_s
    steps = round(1.0 / step)
    model = RadarModel(geometry(), with_range_rate=False)
    sigma = np.array([5.0, np.radians(1.0), np.radians(1.5)])
    R = np.diag(sigma**2)
    filters = [RadarEkf(SENSOR, R, model.q_h, step) for model in tracker.imm.models]
    imm = None
    mu_seen = []
    for k, _, z in weaving_radar_plots(40, sigma, seed=5, amplitude_m=50.0):
        tracker.process(Scan(0, 1_764_000_000.0 + k, z.T.copy(), (sigma**2)[None].copy(), model))
        table = tracker.tracks
        if imm is None:
            if table.status[0] == TENTATIVE:
                assert table.mode_p[0, 0] > 0.999  # held in the quiet mode
                continue
            for j, f in enumerate(filters):
                f.x, f.P = table.mode_x[0, j][:, None].copy(), table.mode_P[0, j].copy()
            imm = IMMEstimator(filters, table.mode_p[0].copy(), tracker.imm.switching(step))
            continue
        for step_k in range(steps):
            if step_k:  # FilterPy mixes by the last update's probabilities: carry them on
                imm.mu = imm.cbar.copy()
                imm._compute_mixing_probabilities()
            imm.predict(u=0)
        imm.update(z)
        np.testing.assert_allclose(table.mode_p[0], imm.mu, rtol=1e-3, atol=1e-6)
        for j, f in enumerate(filters):
            np.testing.assert_allclose(table.mode_x[0, j], f.x[:, 0], atol=1e-2)
        np.testing.assert_allclose(table.x[0], imm.x[:, 0], rtol=1e-4, atol=1e-2)
        np.testing.assert_allclose(table.P[0], imm.P, rtol=1e-3, atol=1e-2)
        mu_seen.append(table.mode_p[0, -1])
    # The weave is recognised: the manoeuvre mode takes over from the quiet start.
    assert imm is not None and max(mu_seen) > 0.5 > mu_seen[0]


def test_imm_keeps_one_track_on_a_weaving_drone_where_one_model_breaks_it() -> None:
    """A drone weaving +/-60 m every 10 s (2.4 g at the turns) under a 1 Hz radar: the single
    quiet model loses it again and again; the IMM holds one track all the way."""

    def track_ids(motion: str, seed: int) -> tuple[int, float]:
        tracker = Tracker.from_config(TrackerConfig(motion=motion), n_sensors=1)
        model = RadarModel(geometry(), with_range_rate=False)
        sigma = np.array([5.0, np.radians(1.0), np.radians(1.5)])
        rng = np.random.default_rng(seed)
        ids, held = set(), 0
        w = 2 * np.pi / 10.0
        for k in range(150):
            position = np.array([-1200.0 + 15.0 * k, 1500.0 + 60.0 * np.sin(w * k), 100.0])
            z = independent_hx(np.r_[position, 0, 0, 0][:, None], SENSOR)
            z = z + rng.normal(size=(3, 1)) * sigma[:, None]
            tracker.process(Scan(0, 1_764_000_000.0 + k, z.T.copy(), (sigma**2)[None], model))
            n = tracker.tracks.n
            firm = tracker.tracks.status[:n] != 0
            d = np.linalg.norm(tracker.tracks.x[:n, :3] - position, axis=1)
            near = firm & (d < 100.0)
            if k >= 10 and near.any():
                held += 1
                ids.add(int(tracker.tracks.track_id[:n][near][d[near].argmin()]))
        return len(ids), held / 140

    for seed in range(3):
        single, single_held = track_ids("ncv", seed)
        imm, imm_held = track_ids("imm", seed)
        assert single >= 5 and imm <= 2, (seed, single, imm)
        assert imm_held > 0.98, (seed, imm_held, single_held)


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4))
def test_angle_residuals_wrap_across_north(a_deg: float, b_deg: float) -> None:
    """An innovation of 359 deg against 1 deg is -2 deg, never 358."""
    model = BearingModel(geometry())
    y = model.residual(np.radians([[a_deg]]), np.radians([[b_deg]]))[0, 0]
    assert -np.pi <= y < np.pi
    assert np.isclose(np.cos(y), np.cos(np.radians(a_deg - b_deg)), atol=1e-9)
    assert np.isclose(np.sin(y), np.sin(np.radians(a_deg - b_deg)), atol=1e-9)
