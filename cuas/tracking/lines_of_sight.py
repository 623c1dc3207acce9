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
do not. Older sightings are carried to the reference time with a velocity, and how far the
target strayed from it (one stray for them all) is integrated out. RF bearings say nothing
of height; a camera's elevation gives each grid point its height, weighed with the height
prior.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import accumulate

import numpy as np
from numpy.typing import NDArray

from cuas.geodesy import wrap_rad
from cuas.tracking import kernels, sight_kernels
from cuas.tracking.measurements import MeasurementModel

Array = NDArray[np.float64]

GRID_SIGMAS = np.linspace(-4.0, 4.0, 25)  # of the finest line's azimuth, either side
GRID_RANGES = 200  # geometrically spaced from NEAR_M to the sensors' reach
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
    may stray from that, one stray for all the sightings (`_SharedDrift`). The height comes from
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
    drift = velocity * (t - origin.t)  # the grid is where the target is at `t`
    phi = origin.z[0] + float(np.sqrt(origin.var[0])) * GRID_SIGMAS
    r = _ranges(far)
    weigh = partial(
        _weigh,
        sightings,
        t,
        velocity,
        speed_sigma,
        height,
        height_without_camera,
        _origin(site, drift),
    )
    weighed = weigh(phi, r)
    if weighed is None:
        return None
    if _effective(weighed[1]) < MIN_EFFECTIVE_POINTS:
        # Many lines (or fine ones) give a posterior narrower than one line's sigmas: lay a
        # second grid over where the first put it, as finely.
        weighed = weigh(*_refined(weighed[1], phi, r, far))
        if weighed is None or _effective(weighed[1]) < MIN_EFFECTIVE_POINTS:
            return None  # too sharp for the grid: there the linearised answer is good
    points, w, z_var = weighed
    if kernels.ENABLED:  # the same moments in one compiled pass; the code below is the reference
        return sight_kernels.grid_moments(points, w, z_var)
    mean = w @ points
    d = points - mean
    cov = (d * w[:, None]).T @ d
    cov[2, 2] += w @ z_var
    return mean, cov


@lru_cache(maxsize=64)
def _ranges(far: float) -> Array:
    """The grid's distances out to `far`, shared by every grid that reaches as far (never
    written to): a camp's sensors give a few values of `far`, and `np.geomspace` cost a
    tenth of a posterior."""
    return np.geomspace(NEAR_M, far, GRID_RANGES)


def _origin(site: Array, drift: Array) -> Array:
    """The grid's centre at `t`: the finest sensor's site moved by the drift."""
    return np.array([site[0] + drift[0], site[1] + drift[1], site[2]])


def _effective(w: Array) -> float:
    """How many grid points carry normalised weights `w`: 1 / sum(w^2)."""
    return 1.0 / float(w @ w)


def _refined(w: Array, phi: Array, r: Array, far: float) -> tuple[Array, Array]:
    """A grid of the same size over the part of (phi, r) that weights `w` occupy."""
    grid_r = np.repeat(r, phi.size)
    grid_phi = np.tile(phi, r.size)
    step_phi, step_log = phi[1] - phi[0], np.log(r[1] / r[0])
    m_phi = float(w @ grid_phi)
    s_phi = max(float(np.sqrt(w @ (grid_phi - m_phi) ** 2)), 0.5 * step_phi)
    log_r = np.log(grid_r)
    m_log = float(w @ log_r)
    s_log = max(float(np.sqrt(w @ (log_r - m_log) ** 2)), 0.5 * step_log)
    lo = max(np.exp(m_log - 5.0 * s_log), NEAR_M)
    hi = min(np.exp(m_log + 5.0 * s_log), far)
    return m_phi + 5.0 * s_phi * np.linspace(-1.0, 1.0, phi.size), np.geomspace(lo, hi, r.size)


def _weigh(
    sightings: Sequence[Sighting],
    t: float,
    velocity: Array,
    speed_sigma: float,
    height: HeightPrior,
    height_without_camera: tuple[float, float] | None,
    centre: Array,
    phi: Array,
    r: Array,
) -> tuple[Array, Array, Array] | None:
    """Points (N, 3), normalised weights (N,) and height variances (N,) of the polar grid
    (`phi` x `r` around `centre`), or None if no point is within every sensor's reach."""
    if kernels.ENABLED:
        return _weigh_compiled(
            sightings, t, velocity, speed_sigma, height, height_without_camera, centre, phi, r
        )
    x = np.zeros((r.size * phi.size, 3))
    x[:, 0] = (centre[0] + r[:, None] * np.sin(phi)[None, :]).ravel()
    x[:, 1] = (centre[1] + r[:, None] * np.cos(phi)[None, :]).ravel()
    x[:, 2] = height.mean_m
    chi = np.zeros(x.shape[0])
    drift = _SharedDrift(x.shape[0], speed_sigma)
    for group in _by_sensor(sightings):
        frame = group[0].model.geometry.frame
        # The grid in this sensor's frame once; each sighting's point is the grid less the
        # drift since it was taken, rotated likewise (azimuth as the models measure it).
        local = frame.to_local(x)
        age = t - np.array([s.t for s in group])
        back = np.zeros((age.size, 3))
        back[:, :2] = velocity[None, :] * age[:, None]
        shift = back @ frame.rotation.T  # (g, 3)
        e = local[None, :, 0] - shift[:, 0, None]
        n = local[None, :, 1] - shift[:, 1, None]
        u = local[None, :, 2] - shift[:, 2, None]
        rng = np.maximum(np.sqrt(e * e + n * n + u * u), 1.0)
        z = np.array([s.z[0] for s in group])
        var = np.array([s.var[0] for s in group])[:, None]
        y = wrap_rad(z[:, None] - np.arctan2(e, n))
        term = y**2 / var + np.log(var)  # with the normal density's own factor
        beyond = rng > group[0].model.geometry.max_range_m
        term[beyond] = np.inf
        chi += term.sum(axis=0)
        drift.add(y, e, n, age, var, frame.rotation, beyond)
    chi += drift.chi()
    camera = _latest_camera(sightings)
    if camera is not None:
        chi_h, z, z_var = _heights(camera, x, height)
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
    return np.column_stack([x[:, :2], z]), w / w.sum(), z_var


class _SharedDrift:
    """How far the target strayed from the velocity that carries the sightings to `t`, as
    one unknown shared by them all (zero-mean, `speed_sigma` m/s on each horizontal axis),
    integrated out of their likelihood at each grid point.

    A sighting taken `a` seconds ago misses by the stray times `a`, seen from its site. Were
    each sighting given its own stray (its angle widened by `speed_sigma * a / range`), the
    normal densities' factors would favour far points, where a stray subtends a smaller
    angle, once per sighting: forty of a camera's fine lines in ten seconds made the
    posterior grow as the fortieth power of range and pile against a sensor's reach, 180 m
    past a hidden drone with 40 m of sigma (random camp 158). One stray for all of them,
    integrated out, costs each point the 2x2 determinant and the part of the misfit that a
    stray explains (Woodbury): with J the sightings' sensitivities to the stray and R their
    variances, chi = y' R^-1 y - b' A^-1 b + log det(s^2 A), A = I/s^2 + J' R^-1 J,
    b = J' R^-1 y."""

    def __init__(self, n: int, speed_sigma: float) -> None:
        self.speed_sigma = speed_sigma
        self.A = np.zeros((n, 3))  # J' R^-1 J: xx, xy, yy
        self.b = np.zeros((n, 2))  # J' R^-1 y

    def add(
        self,
        y: Array,
        e: Array,
        n: Array,
        age: Array,
        var: Array,
        rotation: Array,
        beyond: NDArray[np.bool_],
    ) -> None:
        """Sightings of one sensor (g, N): misfits `y`, the carried points' east and north in
        its frame, their ages (g,), variances (g, 1), the frame's rotation, and the points
        beyond its reach (their terms are already infinite)."""
        if self.speed_sigma <= 0.0:
            return
        d2 = np.maximum(e * e + n * n, 1.0)
        # d(azimuth)/d(point) in the camp frame, times d(point)/d(stray) = -age.
        ge = n / d2
        gn = -e / d2
        scale = -age[:, None]
        jx = scale * (ge * rotation[0, 0] + gn * rotation[1, 0])
        jy = scale * (ge * rotation[0, 1] + gn * rotation[1, 1])
        w = np.where(beyond, 0.0, 1.0 / var)
        self.A[:, 0] += (w * jx * jx).sum(axis=0)
        self.A[:, 1] += (w * jx * jy).sum(axis=0)
        self.A[:, 2] += (w * jy * jy).sum(axis=0)
        wy = np.where(beyond, 0.0, w * y)
        self.b[:, 0] += (wy * jx).sum(axis=0)
        self.b[:, 1] += (wy * jy).sum(axis=0)

    def chi(self) -> Array:
        """What the shared stray changes in each point's chi-square (N,)."""
        if self.speed_sigma <= 0.0:
            return np.zeros(self.A.shape[0])
        s2 = self.speed_sigma**2
        a, c, d = self.A[:, 0] + 1.0 / s2, self.A[:, 1], self.A[:, 2] + 1.0 / s2
        det = a * d - c * c
        bx, by = self.b[:, 0], self.b[:, 1]
        explained = (d * bx * bx - 2.0 * c * bx * by + a * by * by) / det
        return np.log(det * s2 * s2) - explained


def _by_sensor(sightings: Sequence[Sighting]) -> list[list[Sighting]]:
    """The sightings grouped by sensor (its model), in order of first appearance."""
    groups: dict[int, list[Sighting]] = {}
    for s in sightings:
        groups.setdefault(id(s.model), []).append(s)
    return list(groups.values())


def _latest_camera(sightings: Sequence[Sighting]) -> Sighting | None:
    """The newest sighting with an elevation (a camera's), which gives the grid its heights."""
    cameras = [s for s in sightings if s.z.shape[0] >= 2]
    return max(cameras, key=lambda s: s.t) if cameras else None


def _weigh_compiled(
    sightings: Sequence[Sighting],
    t: float,
    velocity: Array,
    speed_sigma: float,
    height: HeightPrior,
    height_without_camera: tuple[float, float] | None,
    centre: Array,
    phi: Array,
    r: Array,
) -> tuple[Array, Array, Array] | None:
    """`_weigh` through sight_kernels.py (the numpy code above is the reference): two compiled
    passes over the grid, with numpy's arctan2, log and exp between them."""
    groups = _by_sensor(sightings)
    ordered = [s for group in groups for s in group]
    starts = np.array([0, *accumulate(len(group) for group in groups)], dtype=np.intp)
    geometries = [group[0].model.geometry for group in groups]
    camera = _latest_camera(sightings)
    if camera is not None:
        site = camera.model.geometry.frame.position
        el = camera.z[1]
        tan_el, cos_el2, el_var = float(np.tan(el)), float(np.cos(el) ** 2), float(camera.var[1])
        h_mean, h_var = height.mean_m, height.sigma_m**2
    else:
        site, tan_el, cos_el2, el_var = np.zeros(3), 0.0, 1.0, 0.0
        h_mean, h_var = height_without_camera or (height.mean_m, height.sigma_m**2)
    sight_t = np.array([s.t for s in ordered], dtype=np.float64)
    sight_var = np.array([s.var[0] for s in ordered], dtype=np.float64)
    sight_z = np.array([s.z[0] for s in ordered], dtype=np.float64)
    points, z_var, en, args, far, height_chi = sight_kernels.grid_geometry(
        np.asarray(centre, dtype=np.float64),
        np.sin(phi),
        np.cos(phi),
        r,
        float(height.mean_m),
        float(t),
        np.asarray(velocity, dtype=np.float64),
        0.0,  # no sighting widened alone: the drift is shared (`_SharedDrift`)
        sight_t,
        sight_var,
        starts,
        np.array([g.frame.position for g in geometries], dtype=np.float64),
        np.array([g.frame.rotation for g in geometries], dtype=np.float64),
        np.array([g.max_range_m for g in geometries], dtype=np.float64),
        camera is not None,
        np.asarray(site, dtype=np.float64),
        tan_el,
        cos_el2,
        el_var,
        float(h_mean),
        float(h_var),
        NEAR_M,
    )
    # The logarithms the weights read: without a camera its row (the last) is not read.
    logs = np.empty_like(args)
    read = args.shape[0] if camera is not None else args.shape[0] - 1
    np.log(args[:read], out=logs[:read])
    angles = np.arctan2(en[0], en[1])
    logw, top = sight_kernels.grid_log_weights(
        angles,
        args,
        logs,
        far,
        height_chi,
        sight_z,
        starts,
        np.log(r),
        phi.size,
        camera is not None,
    )
    if not np.isfinite(top):
        return None
    if speed_sigma > 0.0:
        # The misfits again from the angles the weights read, per sensor for its rotation.
        drift = _SharedDrift(logw.shape[0], speed_sigma)
        ages, var0 = t - sight_t, sight_var[:, None]
        for g, geometry in enumerate(geometries):
            lo, hi = starts[g], starts[g + 1]
            y = wrap_rad(sight_z[lo:hi, None] - angles[lo:hi])
            e, n = en[0, lo:hi], en[1, lo:hi]
            drift.add(y, e, n, ages[lo:hi], var0[lo:hi], geometry.frame.rotation, far[lo:hi])
        logw -= 0.5 * drift.chi()
        top = float(logw.max())
        if not np.isfinite(top):
            return None
    logw -= top  # the weights in place of their logarithms (the same values)
    w = np.exp(logw, out=logw)
    w /= w.sum()
    return points, w, z_var


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
