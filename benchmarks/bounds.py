"""The best any tracker could place the radar-hidden drone: its posterior Cramér-Rao bound.

The robustness benchmark scores how far the hidden drone's camera/DF-only tracks miss it. How
far is unavoidable depends on the camp: two finders' lines meeting at a few degrees 2 km out
place nothing to 300 m, whatever the tracker does. `hidden_drone_bound` says how well the
camp's sensors allow it to be placed at all, so that a miss can be read against it.

It is the posterior Cramér-Rao bound (Tichavský, Muravchik and Nehorai 1998) of the drone's
position: the covariance no unbiased estimator can beat, given
- the sensors as flown, not as the camp file believes them: each finder's and camera's real
  azimuth (and elevation) sigma, revisit period and detection probability, each look's
  information weighted by its Pd (the information reduction factor of a look that may miss),
  a look counted only where the sensor's geometry covers the drone;
- the drone's true path, at which the Jacobians of the tracker's own measurement models
  (a finder's bearing, a camera's azimuth and elevation) are taken;
- the motion model the tracker gives a track no radar placed (`passive_motion`): its quiet
  mode, nearly constant velocity, with the passive track's white acceleration;
- a prior as vague as a new bearings-only track's (`PRIOR_SIGMAS`).

With linear motion and additive Gaussian noise the bound's recursion is a Kalman filter's
covariance recursion with the Jacobians at the truth. Its root horizontal trace is the radius
of the bound's covariance (`radius`); an efficient estimator's median miss is 0.7-0.8 of it
(0.83 for a circular error, 0.67 for one along a line), and `within` is the share of the time
such an estimator would be within a reach, the hidden drone's "within 300 m" at its best.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.config import TrackerConfig
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import BearingModel, CameraModel, MeasurementModel
from cuas.tracking.motion import NearlyConstantVelocity
from simulators.random_camp import RandomCamp

Array = NDArray[np.float64]

# A new bearings-only track's prior: position east, north, up (m), velocity (m/s).
PRIOR_SIGMAS = np.array([3000.0, 3000.0, 150.0, 15.0, 15.0, 5.0])
ANGLE_KINDS = ("rf", "camera")
SAMPLES = 4096
_NORMALS = np.random.default_rng(0).standard_normal((SAMPLES, 2))


def passive_motion(cfg: TrackerConfig) -> NearlyConstantVelocity:
    """The quiet motion mode of a track no radar placed: its horizontal white acceleration is
    `passive_accel_noise_mps2`, and its vertical one is scaled as the tracker scales it."""
    scale = (cfg.passive_accel_noise_mps2 / cfg.accel_noise_mps2) ** 2
    return NearlyConstantVelocity(
        q_h=cfg.passive_accel_noise_mps2**2, q_v=cfg.accel_noise_up_mps2**2 * scale
    )


def hidden_drone_bound(
    camp: RandomCamp, motion: NearlyConstantVelocity, step_s: float = 1.0
) -> tuple[Array, Array]:
    """(times (s from the start, every `step_s`), the bound's horizontal covariance at each
    (n, 2, 2), east and north) for the camp's radar-hidden drone, from its finders' and
    cameras' looks as flown (see the module docstring)."""
    frame = camp.config.local_frame()
    scenario = camp.scenario
    drone = next(t for t in scenario.targets.targets if t.target_id == camp.rf_only_id)
    looks: list[tuple[float, int]] = []
    sensors = [s for s in scenario.sensors if s.kind in ANGLE_KINDS]
    geometry = [SensorGeometry.from_config(s, frame) for s in sensors]
    models: list[MeasurementModel] = [
        CameraModel(g) if s.kind == "camera" else BearingModel(g)
        for s, g in zip(sensors, geometry, strict=True)
    ]
    for i, s in enumerate(sensors):
        looks += [(float(t), i) for t in np.arange(0.0, scenario.duration_s, s.update_period_s)]
    looks.sort()
    looks.append((np.inf, -1))  # the end: the rest of the times are predicted from the last
    times = np.arange(0.0, scenario.duration_s, step_s)
    horizontal = np.empty((times.size, 2, 2))
    P = np.diag(PRIOR_SIGMAS**2)
    t_prev, k = 0.0, 0
    for t, i in looks:
        while k < times.size and times[k] <= t:
            horizontal[k] = _predicted(P, times[k] - t_prev, motion)[:2, :2]
            k += 1
        if i < 0:
            break
        P = _predicted(P, t - t_prev, motion)
        t_prev = t
        position = np.asarray(drone.state(t)[0], dtype=np.float64).reshape(3)
        if not geometry[i].covers(position[None])[0]:
            continue
        s = sensors[i]
        pd = scenario.models[s.id].pd
        reach = float(np.linalg.norm(position - geometry[i].frame.position))
        p = float(pd(reach)) if callable(pd) else float(pd)
        _, H = models[i].predict(np.concatenate([position, np.zeros(3)])[None])
        sigmas = np.radians([s.sigma_az_deg, s.sigma_el_deg][: models[i].dim])
        P = _informed(P, H[0], sigmas, p)
    return times, horizontal


def radius(horizontal: Array) -> Array:
    """The root of the trace of horizontal covariances (n, 2, 2): the bound's radius (m)."""
    return np.sqrt(np.trace(horizontal, axis1=1, axis2=2))


def within(horizontal: Array, reach_m: float) -> Array:
    """For each horizontal covariance (n, 2, 2), the probability that an error drawn from it
    is within `reach_m`: the share of the time an efficient estimator would be that near
    (a fixed set of `SAMPLES` normal draws, so the same camp gives the same figure)."""
    L = np.linalg.cholesky(horizontal + 1e-9 * np.eye(2))
    errors = np.einsum("nij,sj->nsi", L, _NORMALS)
    return np.mean(np.hypot(errors[..., 0], errors[..., 1]) <= reach_m, axis=1)


def _predicted(P: Array, dt: float, motion: NearlyConstantVelocity) -> Array:
    """Covariance `P` (6, 6) carried `dt` seconds by `motion`."""
    if dt <= 0.0:
        return P
    F = motion.transition(dt)
    return F @ P @ F.T + motion.noise(dt)


def _informed(P: Array, H: Array, sigmas: Array, p: float) -> Array:
    """Covariance `P` (6, 6) after a look measuring `H` (m, 6) with `sigmas` (m,) that sees
    the target with probability `p`: its information weighted by `p`."""
    return np.linalg.inv(np.linalg.inv(P) + p * (H.T / sigmas**2) @ H)
