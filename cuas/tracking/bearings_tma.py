"""Target motion analysis: a bearings-only track's course from its lines of sight of the last
two minutes, fitted as a whole.

An extended Kalman filter updated bearing by bearing forgets: with the process noise a
manoeuvring drone needs, it never builds up the range that the slow drift of the bearings
from two sites a few hundred metres apart gives. A hidden drone's track 2.2 km out wandered
between 2.0 and 3.2 km for two minutes (random camp 107), while a least-squares fit of the
same finders' bearings, a minute or more at a time, stayed within 150 m of the drone most
of that time (and the longer the window, the closer: 360 m median over 20 s, 140 m over
60 s, 90 m over 90 s).

`fit` is that fit (batch bearings-only target motion analysis): the horizontal position and
velocity at time `t` of a target flying straight at constant speed that best explain the
azimuths of the sightings, by Gauss-Newton from the track's own estimate; a step moves the
position at most a third of the way to the nearest site, so that it cannot leap past the
lines' crossing (from 600 m short or long of the drone it finds the same course). An older
azimuth is trusted less: the target may have strayed from the straight course by `stray_mps`
for every second of age (a drone orbiting the camp turns through 30-50 degrees in two
minutes). The height, which azimuths hardly depend on, is the track's.

The fit is a posterior, not a bare least-squares fit: the velocity has a prior, zero with
`speed_sigma_mps` on each axis (the filter starts a track with the same). Over half a minute
the lines of two finders close together hardly tell the speed: the bearings alone fitted a
hidden drone flying at 5 m/s a course at 216 m/s, 1 km short of it, and that track warned
of a drone 4 s from the perimeter (random camp 164). Over two minutes the bearings outweigh
the prior.

Where the residuals are larger than the sightings' configured noise allows for (chi-square per
degree of freedom above one: a finder noisier than its configuration says, as on camps whose
sigmas are off by up to 50 %), the covariance is widened by that ratio (Birge's), so the
course's errors still agree with it.

The straight course is a model, and a drone on a circle leaves it smoothly, not bearing by
bearing: the stray above treats its drift as noise independent from one bearing to the next,
which hundreds of bearings then average away. So the covariance the course gives the track
(`CourseFit.P`) also holds what an unknown constant acceleration of `accel_sigma_mps2` on
each axis (0.1 m/s²: a drone loitering on a 1 km circle at 10 m/s) would do to the fitted
position and velocity: a consider parameter (Schmidt), which widens the course without
moving it. Fitting that acceleration instead moved the course as much as it corrected it:
on seeds 0-89 the hidden drone's horizontal miss grew from 58 to 68 m. Without it, one
camera's fine azimuths, which a course now takes too (`passive_refit.py`), made the course
two to four times surer of an orbiting drone than its errors allowed ((e/sigma)^2 2.5-4.0
on random camps 4, 15, 36 and 49). `CourseFit.P_straight` is the covariance were the course
surely straight, the one to weigh against the filter's, which is as sure of its own motion
model.

The fit is refused (None) where it cannot speak for the track: sightings from fewer than two
sites, spanning less than `min_span_s`, no convergence, or residuals larger than the
sightings' noise allows (`max_chi2_dof`: bearings of another transmitter, or a sharp turn).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from cuas.geodesy import wrap_rad
from cuas.tracking.lines_of_sight import Sighting

Array = NDArray[np.float64]
# A target's unknown constant acceleration on each horizontal axis, which the course considers
# (see the module docstring): a drone loitering on a 1 km circle at 10 m/s.
ACCEL_SIGMA_MPS2 = 0.1


@dataclass(frozen=True)
class CourseFit:
    """The course at the reference time: east, north, east speed, north speed (m, m/s), their
    covariance with the target's acceleration considered, how well the sightings fit it
    (chi-square per degree of freedom), and their covariance were the course surely
    straight."""

    # Where those four stand in a track's state (east, north, up, and their speeds).
    components: ClassVar[NDArray[np.intp]] = np.array([0, 1, 3, 4])

    x: Array  # (4,)
    P: Array  # (4, 4)
    chi2_dof: float
    P_straight: Array  # (4, 4)


def fit(
    sightings: Sequence[Sighting],
    t: float,
    x0: Array,
    height_m: float,
    stray_mps: float = 1.0,
    speed_sigma_mps: float = 20.0,
    min_span_s: float = 20.0,
    max_chi2_dof: float = 3.0,
    iterations: int = 25,
    accel_sigma_mps2: float = ACCEL_SIGMA_MPS2,
) -> CourseFit | None:
    """The straight course through the azimuths of `sightings` (see the module docstring),
    at `t`, from `x0` = (e, n, ve, vn) in the camp frame, with the speed's prior
    `speed_sigma_mps` (infinite: none) and the acceleration `accel_sigma_mps2` considered (0:
    none); None where refused."""
    groups: dict[int, list[Sighting]] = {}
    for s in sightings:
        groups.setdefault(id(s.model), []).append(s)
    if len(groups) < 2 or len(sightings) < 6:
        return None
    times = [s.t for s in sightings]
    if max(times) - min(times) < min_span_s:
        return None
    sites = np.array([g[0].model.geometry.frame.position[:2] for g in groups.values()])
    x = np.array(x0, dtype=float)
    for _ in range(iterations):
        J, r = _with_prior(*_linearise(groups, t, x, height_m, stray_mps), x, speed_sigma_mps)
        step = np.linalg.lstsq(J, r, rcond=None)[0]
        nearest = float(np.hypot(*(sites - x[:2]).T).min())
        size = float(np.hypot(step[0], step[1]))
        if size > max(nearest, 50.0) / 3.0:
            step *= max(nearest, 50.0) / 3.0 / size
        x += step
        if size < 0.5 and float(np.hypot(step[2], step[3])) < 0.01:
            break
    else:
        return None
    J, r = _linearise(groups, t, x, height_m, stray_mps, considered=accel_sigma_mps2 > 0.0)
    chi2_dof = float(r @ r) / max(r.size - 4, 1)
    J = _with_prior(J, r, x, speed_sigma_mps, accel_sigma_mps2)[0]
    info = J.T @ J
    if not np.all(np.isfinite(info)) or np.linalg.cond(info) > 1e12:
        return None
    if chi2_dof > max_chi2_dof:
        return None
    birge = max(chi2_dof, 1.0)
    P = np.linalg.inv(info)[:4, :4] * birge  # the acceleration's share stays in
    P_straight = np.linalg.inv(info[:4, :4]) * birge  # ... or it is known to be zero
    return CourseFit(x, 0.5 * (P + P.T), chi2_dof, 0.5 * (P_straight + P_straight.T))


def _with_prior(
    J: Array, r: Array, x: Array, speed_sigma_mps: float, accel_sigma_mps2: float = 0.0
) -> tuple[Array, Array]:
    """The whitened rows `J`, `r` with the priors below them: the velocity zero, with sigma
    `speed_sigma_mps` on each horizontal axis, and where `J` has the acceleration's columns,
    the acceleration zero with `accel_sigma_mps2`."""
    m = J.shape[1]
    sigma = np.array([speed_sigma_mps] * 2 + [accel_sigma_mps2] * (m - 4))
    prior = np.zeros((m - 2, m))
    prior[np.arange(m - 2), np.arange(2, m)] = 1.0 / sigma
    mean = np.zeros(m - 2)
    mean[:2] = -x[2:4] / speed_sigma_mps
    return np.vstack((J, prior)), np.concatenate((r, mean))


def _linearise(
    groups: dict[int, list[Sighting]],
    t: float,
    x: Array,
    height_m: float,
    stray_mps: float,
    considered: bool = False,
) -> tuple[Array, Array]:
    """The whitened Jacobian (k, 4) and residuals (k,) of every azimuth at course `x`; with
    the acceleration `considered`, (k, 6): its two columns (at zero acceleration) after."""
    rows, residuals = [], []
    for group in groups.values():
        model = group[0].model
        site = model.geometry.frame.position
        dt = np.array([s.t - t for s in group])
        states = np.zeros((dt.size, 6))
        states[:, 0] = x[0] + x[2] * dt
        states[:, 1] = x[1] + x[3] * dt
        states[:, 2] = height_m
        states[:, 3] = x[2]
        states[:, 4] = x[3]
        zhat, H = model.predict(states)
        y = wrap_rad(np.array([s.z[0] for s in group]) - zhat[:, 0])
        distance = np.maximum(np.hypot(states[:, 0] - site[0], states[:, 1] - site[1]), 1.0)
        var = np.array([s.var[0] for s in group]) + (stray_mps * dt / distance) ** 2
        w = 1.0 / np.sqrt(var)
        h = H[:, 0, :]  # d azimuth / d state, at each sighting's time
        columns = [h[:, 0], h[:, 1], h[:, 0] * dt + h[:, 3], h[:, 1] * dt + h[:, 4]]
        if considered:  # d position = a dt^2 / 2, d velocity = a dt
            half = 0.5 * dt**2
            columns += [h[:, 0] * half + h[:, 3] * dt, h[:, 1] * half + h[:, 4] * dt]
        J = np.stack(columns, axis=1)
        rows.append(J * w[:, None])
        residuals.append(y * w)
    return np.concatenate(rows), np.concatenate(residuals)
