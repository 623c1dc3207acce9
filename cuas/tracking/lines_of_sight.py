"""Where lines of sight place a target, as a whole: the posterior of angle-only sightings.

Bearings from sites a few hundred metres apart, kilometres from a drone, meet at a few
degrees. The points that fit them stretch from short of their crossing to far beyond it,
and noise that widens the angle pulls the crossing in. An estimate linearised at the
crossing (a least-squares fit, or an extended Kalman filter updated bearing by bearing)
reports a tight covariance around a point too close: on a random camp, a track 1 km short of
a hidden drone claimed 265 m of sigma, and warned of a zone the drone was never in.

`posterior` integrates the sightings' likelihood on a polar grid around the site of the
finest line of sight, with a prior log-uniform in distance from the camp within the sensors'
reach (scale free, as range-parameterised filters take range; a prior uniform over the
ground pulls the mean out along the far tail), and returns the mean and covariance: the
linearised answer where the lines cross sharply, an honest wide one along them where they
do not. Older sightings are carried to the reference time with a velocity, their angles
widened by how far the target may have strayed from it. RF bearings say nothing of height;
a camera's elevation gives each grid point its height, weighed with the height prior.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.geodesy import wrap_rad
from cuas.tracking.measurements import MeasurementModel
from cuas.tracking.motion import POS, STATE_DIM

Array = NDArray[np.float64]

GRID_SIGMAS = np.linspace(-4.0, 4.0, 33)  # of the finest line's azimuth, either side
GRID_RANGES = 400  # geometrically spaced from NEAR_M to the sensors' reach
NEAR_M = 50.0
MIN_EFFECTIVE_POINTS = 50.0  # grid points carrying the posterior, 1 / sum(w^2), at least


@dataclass(frozen=True)
class Sighting:
    """One angle-only detection: azimuth first (then elevation for a camera), in radians."""

    t: float
    z: Array
    var: Array
    model: MeasurementModel


@dataclass(frozen=True)
class HeightPrior:
    """What is known of a target's height without a camera: mean and sigma, camp frame."""

    mean_m: float
    sigma_m: float


def posterior(
    sightings: Sequence[Sighting],
    t: float,
    velocity: Array,
    speed_sigma: float,
    height: HeightPrior,
    height_without_camera: tuple[float, float] | None = None,
) -> tuple[Array, Array] | None:
    """Mean (3,) and covariance (3, 3) at time `t` of the position the sightings give.

    `velocity` (2,) carries each sighting to `t`; `speed_sigma` is how far (m/s) the target
    may stray from that, added to each angle's variance over its age. The height comes from
    the latest camera sighting weighed with `height`, or without one is
    `height_without_camera` (mean, variance; default the prior's). None when no grid point
    is within every sensor's reach, or the posterior is too sharp for the grid (lines that
    cross sharply: there the linearised answer is good)."""
    origin = min(sightings, key=lambda s: (float(s.var[0]), -s.t))
    geometry = origin.model.geometry
    site = geometry.frame.position
    far = min(
        s.model.geometry.max_range_m
        + float(np.hypot(*(s.model.geometry.frame.position - site)[:2]))
        for s in sightings
    )
    far = min(far, geometry.max_range_m)
    if far <= NEAR_M:
        return None
    r = np.geomspace(NEAR_M, far, GRID_RANGES)
    phi = origin.z[0] + float(np.sqrt(origin.var[0])) * GRID_SIGMAS
    drift = velocity * (t - origin.t)  # the grid is where the target is at `t`
    x = np.zeros((r.size * phi.size, STATE_DIM))
    x[:, 0] = (site[0] + drift[0] + r[:, None] * np.sin(phi)[None, :]).ravel()
    x[:, 1] = (site[1] + drift[1] + r[:, None] * np.cos(phi)[None, :]).ravel()
    x[:, 2] = height.mean_m
    chi = np.zeros(x.shape[0])
    then = x.copy()
    for s in sightings:
        age = t - s.t
        then[:, :2] = x[:, :2] - velocity * age
        zhat, _ = s.model.predict(then)
        d = then[:, POS] - s.model.geometry.frame.position
        rng = np.maximum(np.sqrt(np.einsum("ij,ij->i", d, d)), 1.0)
        var = s.var[0] + (speed_sigma * abs(age) / rng) ** 2
        y = wrap_rad(s.z[0] - zhat[:, 0])  # the azimuth
        chi += y**2 / var + np.log(var)  # with the normal density's own factor
        chi[rng > s.model.geometry.max_range_m] = np.inf
    cameras = [s for s in sightings if s.z.shape[0] >= 2]
    if cameras:
        chi_h, z, z_var = _heights(max(cameras, key=lambda s: s.t), x, height)
        chi += chi_h
    else:
        mean_h, var_h = height_without_camera or (height.mean_m, height.sigma_m**2)
        z, z_var = np.full(x.shape[0], mean_h), np.full(x.shape[0], var_h)
    # The prior: log-uniform in distance from the camp's centre (the frame's origin), which
    # does not depend on which sensor the grid is laid around: a cell's area (r squared on
    # the geometric grid) over that distance squared.
    camp = np.maximum(np.hypot(x[:, 0], x[:, 1]), NEAR_M)
    logw = -0.5 * chi + 2.0 * (np.log(np.repeat(r, phi.size)) - np.log(camp))
    if not np.isfinite(logw).any():
        return None
    w = np.exp(logw - logw.max())
    w /= w.sum()
    if 1.0 / float(w @ w) < MIN_EFFECTIVE_POINTS:
        return None  # the grid cannot resolve so sharp a posterior: the linearisation can
    points = np.column_stack([x[:, :2], z])
    mean = w @ points
    d = points - mean
    cov = (d * w[:, None]).T @ d
    cov[2, 2] += w @ z_var
    return mean, cov


def _heights(camera: Sighting, x: Array, prior: HeightPrior) -> tuple[Array, Array, Array]:
    """For grid points `x`, the elevation's evidence on each (a chi-square term: how well the
    prior height fits the line of sight there), the height it gives each (with the prior, as
    precisions add) and that height's variance."""
    site = camera.model.geometry.frame.position
    rho = np.maximum(np.hypot(x[:, 0] - site[0], x[:, 1] - site[1]), 1.0)
    el, el_var = camera.z[1], camera.var[1]
    seen = site[2] + rho * np.tan(el)
    seen_var = (rho / np.cos(el) ** 2) ** 2 * el_var
    prior_var = prior.sigma_m**2
    total = seen_var + prior_var
    height = (seen * prior_var + prior.mean_m * seen_var) / total
    chi = (seen - prior.mean_m) ** 2 / total + np.log(total)
    return chi, height, seen_var * prior_var / total
