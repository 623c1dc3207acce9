"""Compiled steps of the lines-of-sight posterior (`lines_of_sight`: the numpy reference).

The grid is 5,000 points, and the reference makes some forty passes over it, each a numpy
call with its own temporary: about 0.8 ms a posterior, and passive initiation in a crowd asks
for hundreds a second. Here the arithmetic runs in two compiled passes, while the
transcendental functions stay in numpy, whose vectorised arctan2, log and exp are several
times faster than the scalar ones a compiled loop calls (and give the reference's bits).
The matrix products of the reference (a sensor's rotation) are written out as the fused
multiply-adds OpenBLAS performs, so that on this path the grid's weights equal the
reference's to the bit; the posterior's moments are summed point by point, which differs
from BLAS's blocked sums by rounding. tests/test_kernels.py holds the two paths to the same
posterior.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import _inlined, _jit, _wrap

try:
    from numba import types
    from numba.core.extending import intrinsic
except ImportError:  # pragma: no cover - numba is a dependency; kernels.ENABLED is then off
    intrinsic = None

Array = NDArray[np.float64]
Index = NDArray[np.intp]
# glibc's hypot: outside [_TINY, _LARGE] it rescales; below _EPS the smaller side is lost.
_TINY, _LARGE, _EPS = 2.0**-511, 2.0**511, 2.0**-54

if intrinsic is not None:

    @intrinsic
    def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
        """a * b + c with one rounding (the instruction BLAS uses)."""
        sig = types.float64(types.float64, types.float64, types.float64)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            return builder.fma(*args)

        return sig, codegen

else:  # pragma: no cover

    def _fma(a: float, b: float, c: float) -> float:
        return a * b + c


@_jit
def _hypot(x: float, y: float) -> float:
    """math.hypot as glibc (2.35 on) computes it without FMA, to the bit there and within an
    ulp anywhere, at a fraction of the cost of the library call, which does not inline (two
    per grid point). Huge, tiny, zero and non-finite arguments go to the library."""
    ax, ay = abs(x), abs(y)
    if ay > ax:
        ax, ay = ay, ax
    if not (ay >= _TINY and ax <= _LARGE):
        return math.hypot(x, y)
    if ay <= ax * _EPS:
        return ax + ay
    h = math.sqrt(ax * ax + ay * ay)
    if h <= 2.0 * ay:
        delta = h - ay
        t1 = ax * (2.0 * delta - ax)
        t2 = (delta - 2.0 * (ax - ay)) * delta
    else:
        delta = h - ax
        t1 = 2.0 * delta * (ax - 2.0 * ay)
        t2 = (4.0 * delta - ay) * ay + delta * delta
    return h - (t1 + t2) / (2.0 * h)


@_inlined
def _hypot_lanes(x: float, y: float) -> tuple[float, int]:
    """`_hypot` with its branches as selects, so that a loop of it vectorises; and 1 where
    it would call the library (huge, tiny, zero or non-finite sides), when the value is not
    `_hypot`'s."""
    ax, ay = abs(x), abs(y)
    hi = ay if ay > ax else ax
    lo = ax if ay > ax else ay
    out = not (lo >= _TINY and hi <= _LARGE)
    h = math.sqrt(hi * hi + lo * lo)
    near = h <= 2.0 * lo
    delta = h - lo if near else h - hi
    t1 = hi * (2.0 * delta - hi) if near else 2.0 * delta * (hi - 2.0 * lo)
    t2 = (delta - 2.0 * (hi - lo)) * delta if near else (4.0 * delta - lo) * lo + delta * delta
    fine = h - (t1 + t2) / (2.0 * h)
    return (hi + lo if lo <= hi * _EPS else fine), int(out)


@_jit
def _rotate(
    d0: float, d1: float, d2: float, c0: float, c1: float, c2: float, single: bool
) -> float:
    """A rotation's row (c0, c1, c2) times (d0, d1, d2), rounded as numpy's matmul does it
    here: a fused chain from the first column for a stack of vectors, from the second for a
    single one."""
    if single:
        return _fma(d2, c2, _fma(d0, c0, d1 * c1))
    return _fma(d2, c2, _fma(d1, c1, d0 * c0))


@_jit
def grid_geometry(
    centre: Array,
    sin_phi: Array,
    cos_phi: Array,
    r: Array,
    height_m: float,
    t: float,
    velocity: Array,
    speed_sigma: float,
    sight_t: Array,
    sight_var: Array,
    group_start: Index,
    group_site: Array,
    group_rotation: Array,
    group_range: Array,
    camera: bool,
    camera_site: Array,
    tan_el: float,
    cos_el2: float,
    el_var: float,
    h_mean: float,
    h_var: float,
    near: float,
) -> tuple[Array, Array, Array, Array, NDArray[np.bool_], Array]:
    """The grid's points and what the likelihood needs of them, short of its logarithms and
    angles: points (N, 3) (heights from the camera, or `h_mean`), height variances (N,),
    east and north of each point from each sighting's sensor, less the drift since the
    sighting (2, S, N), the arguments of the logarithms (S + 2, N: each sighting's angle
    variance, the distance from the camp's centre, the camera's height variance), whether
    each point is beyond each sighting's sensor's reach (S, N), and the camera's height
    misfit over its variance (N,; zero without a camera).

    The points' own terms run a range row at a time with `_hypot` as selects, so that the
    compiler vectorises them (their heights gathered in a row before they are interleaved
    into `points`); should a distance need the library's hypot, they are taken again point
    by point."""
    nr, nphi, groups = r.size, sin_phi.size, group_range.size
    n, s = nr * nphi, sight_t.size
    points = np.empty((n, 3))
    z_var = np.empty(n)
    en = np.empty((2, s, n))
    logs = np.ones((s + 2, n))
    far = np.empty((s, n), dtype=np.bool_)
    height_chi = np.zeros(n)
    for g in range(groups):  # sensor by sensor, its rotation and site held in registers
        r00, r01, r02 = group_rotation[g, 0, 0], group_rotation[g, 0, 1], group_rotation[g, 0, 2]
        r10, r11, r12 = group_rotation[g, 1, 0], group_rotation[g, 1, 1], group_rotation[g, 1, 2]
        r20, r21, r22 = group_rotation[g, 2, 0], group_rotation[g, 2, 1], group_rotation[g, 2, 2]
        s0, s1, s2 = group_site[g, 0], group_site[g, 1], group_site[g, 2]
        reach = group_range[g]
        lo, hi = group_start[g], group_start[g + 1]
        for m in range(lo, hi):
            # The drift since the sighting, rotated into the sensor's frame; the grid less it.
            age = t - sight_t[m]
            b0, b1 = velocity[0] * age, velocity[1] * age
            single = hi - lo == 1
            h0 = _rotate(b0, b1, 0.0, r00, r01, r02, single)
            h1 = _rotate(b0, b1, 0.0, r10, r11, r12, single)
            h2 = _rotate(b0, b1, 0.0, r20, r21, r22, single)
            strays = speed_sigma * abs(age)
            var0 = sight_var[m]
            for i in range(nr):
                for j in range(nphi):
                    k = i * nphi + j
                    d0 = (centre[0] + r[i] * sin_phi[j]) - s0
                    d1 = (centre[1] + r[i] * cos_phi[j]) - s1
                    d2 = height_m - s2
                    e = _rotate(d0, d1, d2, r00, r01, r02, False) - h0
                    nn = _rotate(d0, d1, d2, r10, r11, r12, False) - h1
                    u = _rotate(d0, d1, d2, r20, r21, r22, False) - h2
                    rng = max(math.sqrt(e * e + nn * nn + u * u), 1.0)
                    spread = strays / rng
                    en[0, m, k], en[1, m, k] = e, nn
                    logs[m, k] = var0 + spread**2
                    far[m, k] = rng > reach
    bad = 0
    height = np.empty(nphi)
    for i in range(nr):  # vectorised: `_hypot` as selects (`_hypot_lanes`)
        ri = r[i]
        if camera:
            for j in range(nphi):
                k = i * nphi + j
                x0 = centre[0] + ri * sin_phi[j]
                x1 = centre[1] + ri * cos_phi[j]
                hc, out = _hypot_lanes(x0, x1)
                bad += out
                logs[s, k] = max(hc, near)
                hs, out = _hypot_lanes(x0 - camera_site[0], x1 - camera_site[1])
                bad += out
                rho = max(hs, 1.0)
                seen = camera_site[2] + rho * tan_el
                seen_var = (rho / cos_el2) ** 2 * el_var
                both = seen_var + h_var
                height[j] = (seen * h_var + h_mean * seen_var) / both
                z_var[k] = seen_var * h_var / both
                logs[s + 1, k] = both
                height_chi[k] = (seen - h_mean) ** 2 / both
        else:
            for j in range(nphi):
                k = i * nphi + j
                x0 = centre[0] + ri * sin_phi[j]
                x1 = centre[1] + ri * cos_phi[j]
                hc, out = _hypot_lanes(x0, x1)
                bad += out
                logs[s, k] = max(hc, near)
                height[j] = h_mean
                z_var[k] = h_var
        for j in range(nphi):
            k = i * nphi + j
            points[k, 0] = centre[0] + ri * sin_phi[j]
            points[k, 1] = centre[1] + ri * cos_phi[j]
            points[k, 2] = height[j]
    if bad:  # some distance needs the library's hypot: the points one by one
        for i in range(nr):
            for j in range(nphi):
                k = i * nphi + j
                x0 = centre[0] + r[i] * sin_phi[j]
                x1 = centre[1] + r[i] * cos_phi[j]
                logs[s, k] = max(_hypot(x0, x1), near)
                if camera:
                    rho = max(_hypot(x0 - camera_site[0], x1 - camera_site[1]), 1.0)
                    seen = camera_site[2] + rho * tan_el
                    seen_var = (rho / cos_el2) ** 2 * el_var
                    both = seen_var + h_var
                    points[k, 2] = (seen * h_var + h_mean * seen_var) / both
                    z_var[k] = seen_var * h_var / both
                    logs[s + 1, k] = both
                    height_chi[k] = (seen - h_mean) ** 2 / both
                else:
                    points[k, 2] = h_mean
                    z_var[k] = h_var
                points[k, 0], points[k, 1] = x0, x1
    return points, z_var, en, logs, far, height_chi


@_inlined
def _term(z: float, angle: float, var: float, log_var: float, far: bool) -> tuple[float, int]:
    """A sighting's term at a grid point (`_grid_log_weights_scalar`'s), with `_wrap` as
    selects for a difference it takes in one step; and 1 if it needs more (or is NaN), when
    the term is not `_wrap`'s."""
    turn = 2.0 * math.pi
    t = (z - angle) + math.pi
    out = not (t > -turn and t < 2.0 * turn)
    t = t - turn if t >= turn else (t + turn if t < 0.0 else t)
    w = t - math.pi
    y = w - turn if w >= math.pi else w
    term = y**2 / var + log_var
    return (np.inf if far else term), int(out)


@_jit
def grid_log_weights(
    angles: Array,
    args: Array,
    logs: Array,
    far: NDArray[np.bool_],
    height_chi: Array,
    sight_z: Array,
    group_start: Index,
    log_r: Array,
    nphi: int,
    camera: bool,
) -> tuple[Array, float]:
    """Unnormalised log weights (N,) of the grid and the largest of them (the terms of
    `_grid_log_weights_scalar`, below).

    The same operations on each point in the same order, arranged so that the compiler
    vectorises them: a sighting at a time over every point (not every sighting for a point),
    with `_wrap` as selects for the differences it takes in one step (those of an azimuth in
    [0, 2pi) and arctan2's, i.e. all of them here), and the prior a range row at a time (no
    integer division per point). Should any difference need `_wrap`'s general case (or be
    NaN), the grid is weighed again point by point."""
    s, n = angles.shape
    chi = np.zeros(n)
    total = np.empty(n)  # a sensor's terms, when it has several sightings
    bad = 0
    for g in range(group_start.size - 1):
        lo, hi = group_start[g], group_start[g + 1]
        for m in range(lo, hi):
            zm = sight_z[m]
            if hi - lo == 1:  # one sighting: its term is the sensor's total
                for k in range(n):
                    term, out = _term(zm, angles[m, k], args[m, k], logs[m, k], far[m, k])
                    bad += out
                    chi[k] = chi[k] + term
            elif m == lo:
                for k in range(n):
                    term, out = _term(zm, angles[m, k], args[m, k], logs[m, k], far[m, k])
                    bad += out
                    total[k] = term
            else:
                for k in range(n):
                    term, out = _term(zm, angles[m, k], args[m, k], logs[m, k], far[m, k])
                    bad += out
                    total[k] = total[k] + term
        if hi - lo > 1:
            for k in range(n):
                chi[k] += total[k]
    if bad:
        return _grid_log_weights_scalar(
            angles, args, logs, far, height_chi, sight_z, group_start, log_r, nphi, camera
        )
    logw = np.empty(n)
    nr = n // nphi
    for i in range(nr):
        lr = log_r[i]
        for k in range(i * nphi, (i + 1) * nphi):
            c = chi[k]
            if camera:
                c += height_chi[k] + logs[s + 1, k]
            logw[k] = -0.5 * c + 2.0 * (lr - logs[s, k])
    top = -np.inf
    for k in range(n):
        if logw[k] > top:
            top = logw[k]
    return logw, top


@_jit
def _grid_log_weights_scalar(
    angles: Array,
    args: Array,
    logs: Array,
    far: NDArray[np.bool_],
    height_chi: Array,
    sight_z: Array,
    group_start: Index,
    log_r: Array,
    nphi: int,
    camera: bool,
) -> tuple[Array, float]:
    """`grid_log_weights` point by point, any angle difference wrapped by `_wrap` (which
    takes every value): unnormalised log weights (N,) of the grid and the largest of them, from
    `grid_geometry`'s outputs (`args` the logarithms' arguments, `logs` their logarithms,
    `angles` (S, N) the azimuths of the points from each sighting's sensor): each sighting's
    wrapped angle error squared over its variance plus the variance's logarithm, summed per
    sensor and then over sensors, the camera's height term, and the prior, log-uniform in
    distance from the camp's centre."""
    s, n = angles.shape
    logw = np.empty(n)
    top = -np.inf
    for k in range(n):
        chi = 0.0
        for g in range(group_start.size - 1):
            total = 0.0
            for m in range(group_start[g], group_start[g + 1]):
                y = _wrap(sight_z[m] - angles[m, k])
                term = y**2 / args[m, k] + logs[m, k]
                if far[m, k]:
                    term = np.inf
                total = term if m == group_start[g] else total + term
            chi += total
        if camera:
            chi += height_chi[k] + logs[s + 1, k]
        lw = -0.5 * chi + 2.0 * (log_r[k // nphi] - logs[s, k])
        logw[k] = lw
        if lw > top:
            top = lw
    return logw, top


@_jit
def grid_moments(points: Array, w: Array, z_var: Array) -> tuple[Array, Array]:
    """Mean (3,) and covariance (3, 3) of the grid's `points` under normalised weights `w`,
    with the weighted height variances `z_var` added to the vertical variance: the sums of
    `lines_of_sight.posterior`, taken point by point (BLAS sums in blocks: the two differ
    by rounding, about 1e-16 relative)."""
    n = points.shape[0]
    mean = np.zeros(3)
    for k in range(n):
        for a in range(3):
            mean[a] += w[k] * points[k, a]
    cov = np.zeros((3, 3))
    spread = 0.0
    for k in range(n):
        d0, d1, d2 = points[k, 0] - mean[0], points[k, 1] - mean[1], points[k, 2] - mean[2]
        wk = w[k]
        cov[0, 0] += d0 * wk * d0
        cov[0, 1] += d0 * wk * d1
        cov[0, 2] += d0 * wk * d2
        cov[1, 1] += d1 * wk * d1
        cov[1, 2] += d1 * wk * d2
        cov[2, 2] += d2 * wk * d2
        spread += wk * z_var[k]
    cov[1, 0], cov[2, 0], cov[2, 1] = cov[0, 1], cov[0, 2], cov[1, 2]
    cov[2, 2] += spread
    return mean, cov


def warm_up() -> None:
    """Load (or compile) the grid's kernels with the argument types `lines_of_sight` passes."""
    if not kernels.ENABLED:
        return
    two = np.ones(2)
    starts = np.array([0, 2], dtype=np.intp)
    for camera in (False, True):
        _, _, en, logs, far, height_chi = grid_geometry(
            np.zeros(3),
            two,
            two,
            two,
            1.0,
            1.0,
            np.zeros(2),
            1.0,
            two,
            two,
            starts,
            np.zeros((1, 3)),
            np.eye(3)[None].copy(),
            np.ones(1),
            camera,
            np.zeros(3),
            0.0,
            1.0,
            1.0,
            1.0,
            1.0,
            1.0,
        )
        for weigh in (grid_log_weights, _grid_log_weights_scalar):
            weigh(en[0], logs, logs, far, height_chi, two, starts, two, 2, camera)
    grid_moments(np.ones((2, 3)), two, two)
