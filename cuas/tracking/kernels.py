"""Compiled (numba) versions of the tracker's hottest loops (and of the zone tests the threat
stage runs after every scan), used when numba is available.

Per scan the tracker works on a few hundred tracks of 6x6 covariances and measurements of one
to six components. In numpy each step of that is a batched operation over tiny matrices
(`np.linalg.solve` on a stack of 3x3, broadcasts whose inner axis is 2 or 6), where the cost
is per call and per small matrix, not per flop. Here each step is one compiled loop over the
tracks (or the gated pairs), with small fixed-size algebra (Cholesky for S) written out.

The numpy code in `gating`, `imm`, `update`, `measurements`, `coverage`, `association`,
`emitter_binding` and `cuas.fusion.zones` is the reference: the functions there call these
kernels only when `ENABLED`, and tests/test_kernels.py runs both paths on random inputs and
on a replay and requires equal results (to floating-point rounding: Cholesky instead of LU,
sums in another
order) and the same associations. `CUAS_KERNELS=numpy` in the environment forces the
reference path; so does a machine without numba. Innovation covariances are taken to be
positive definite (R > 0): the kernels factor them by Cholesky. Compiled code is cached
beside this module (`cache=True`): the first run on a machine compiles for about 15 s, later
processes load the cache in about 0.5 s (`kernel_cache.warm_up`, called when a tracker is
built).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this keeps the reference
    numba = None

Array = NDArray[np.float64]
Index = NDArray[np.intp]

ENABLED = numba is not None and os.environ.get("CUAS_KERNELS", "numba").lower() != "numpy"


def _jit(function: Callable[..., Any]) -> Callable[..., Any]:
    if numba is None:  # pragma: no cover
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


def _inlined(function: Callable[..., Any]) -> Callable[..., Any]:
    """`_jit` for a small helper a kernel calls per pair and step: numba inlines it into its
    callers, sparing each call the reference counting of its array arguments."""
    if numba is None:  # pragma: no cover
        return function
    return numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")(function)


# --- small dense algebra --------------------------------------------------------------


@_jit
def _sandwich(H: Array, P: Array, i: int, m: int, T: Array, out: Array) -> None:
    """out[:m, :m] = H[i] P[i] H[i]' for one track, through the scratch T (m, 6)."""
    for r in range(m):
        for b in range(6):
            s = 0.0
            for a in range(6):
                s += H[i, r, a] * P[i, a, b]
            T[r, b] = s
    for r in range(m):
        for q in range(m):
            s = 0.0
            for b in range(6):
                s += T[r, b] * H[i, q, b]
            out[r, q] = s


@_jit
def _cholesky(S: Array, m: int, L: Array) -> bool:
    """Lower Cholesky factor of S[:m, :m] into L; False if S is not positive definite."""
    for i in range(m):
        for j in range(i + 1):
            s = S[i, j]
            for k in range(j):
                s -= L[i, k] * L[j, k]
            if i == j:
                if s <= 0.0:
                    return False
                L[i, i] = math.sqrt(s)
            else:
                L[i, j] = s / L[j, j]
    return True


@_jit
def _forward(L: Array, m: int, b: Array, u: Array) -> None:
    """u = L^-1 b."""
    for i in range(m):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * u[k]
        u[i] = s / L[i, i]


@_jit
def _backward(L: Array, m: int, u: Array, v: Array) -> None:
    """v = L'^-1 u."""
    for i in range(m - 1, -1, -1):
        s = u[i]
        for k in range(i + 1, m):
            s -= L[k, i] * v[k]
        v[i] = s / L[i, i]


@_jit
def _wrap(a: float) -> float:
    """An angle difference wrapped into [-pi, pi), as `cuas.geodesy.wrap_rad`, to the bit.

    Differences of angles in [-pi, 2pi) put a + pi in (-2pi, 4pi), where the float modulo
    is one exact subtraction or one rounded addition of 2pi: done so without the division."""
    t = a + math.pi
    turn = 2.0 * math.pi
    if t >= turn and t < 2.0 * turn:
        t -= turn  # exact (Sterbenz), as fmod
    elif t < 0.0 and t > -turn:
        t += turn  # Python's modulo adds the divisor to a negative fmod
    elif not 0.0 <= t < turn:
        t = t % turn
    w = t - math.pi
    return w - turn if w >= math.pi else w


# --- IMM: mixing, prediction, combination -----------------------------------------------


@_jit
def _combine_into(mu: Array, xm: Array, Pm: Array, x: Array, P: Array, i: int) -> None:
    """x[i], P[i]: the moment-matched Gaussian of track i's modes (as `imm.combine`)."""
    M = mu.shape[1]
    if M == 1:
        x[i] = xm[i, 0]
        P[i] = Pm[i, 0]
        return
    for a in range(6):
        s = 0.0
        for j in range(M):
            s += mu[i, j] * xm[i, j, a]
        x[i, a] = s
    for a in range(6):  # symmetric: the lower triangle, mirrored
        for b in range(a + 1):
            s = 0.0
            for j in range(M):
                s += mu[i, j] * (Pm[i, j, a, b] + (xm[i, j, a] - x[i, a]) * (xm[i, j, b] - x[i, b]))
            P[i, a, b] = s
            P[i, b, a] = s


@_jit
def combine(mu: Array, xm: Array, Pm: Array) -> tuple[Array, Array]:
    """The moment-matched single Gaussian (n, 6), (n, 6, 6) of the mode mixture."""
    n = mu.shape[0]
    x = np.empty((n, 6))
    P = np.empty((n, 6, 6))
    for i in range(n):
        _combine_into(mu, xm, Pm, x, P, i)
    return x, P


@_jit
def _another_time(dt: float, last: float) -> bool:
    """Whether `dt` differs from `last` in its bits (a zero's sign included; NaN always)."""
    return not (dt == last and math.copysign(1.0, dt) == math.copysign(1.0, last))


@_jit
def imm_predict(
    mu: Array,
    xm: Array,
    Pm: Array,
    sojourn: Array,
    dt: Array,
    q: Array,
    scale: Array,
    x: Array,
    P: Array,
    mu_out: Array,
    xm_out: Array,
    Pm_out: Array,
    write_modes: bool,
    write_combined: bool,
) -> None:
    """Mix, predict each mode by its track's own time dt[i] with the nearly-constant-velocity
    block formula plus its white acceleration noise (spectral densities q[j] per axis, as
    `motion.NearlyConstantVelocity` discretises them, times the track's `scale`; switching
    as `imm.switching` from the modes' mean sojourn times), and, with `write_combined`,
    combine into x, P. With `write_modes`, the predicted mode probabilities, states and
    covariances go into `mu_out`, `xm_out`, `Pm_out`, which may be `mu`, `xm`, `Pm`
    themselves (in place: each track is read whole before it is written).

    Each track's modes are copied into small local arrays first and the spreads (x_k - x0)
    taken once per component, not once per covariance entry, and the switching matrix and
    noise terms once per run of tracks with the same dt (most share the grid's step): the
    same operations on the same values, in the same order, so the results are those of the
    plain loops to the bit."""
    n, M = mu.shape[0], mu.shape[1]
    q_pp = np.empty((M, 3))  # each mode's Q(dt) blocks' diagonals, before the track's scale
    q_pv = np.empty((M, 3))
    q_vv = np.empty((M, 3))
    Pi = np.empty((M, M))
    c = np.empty(M)
    xi = np.empty((M, 6))  # track i's modes as read
    Pi_ = np.empty((M, 6, 6))
    x_out = np.empty((M, 6))
    P_out = np.empty((M, 6, 6))
    w = np.empty(M)
    d = np.empty((M, 6))
    x0 = np.empty(6)
    P0 = np.empty((6, 6))
    last = math.nan
    for i in range(n):
        dt_i = dt[i]
        if _another_time(dt_i, last):  # most tracks share their step: its terms once a run
            last = dt_i
            dt3, dt2 = math.pow(dt_i, 3.0), math.pow(dt_i, 2.0)  # as motion.noise: q * dt**3 / 3
            for j in range(M):
                for a in range(3):
                    q_pp[j, a] = q[j, a] * dt3 / 3.0
                    q_pv[j, a] = q[j, a] * dt2 / 2.0
                    q_vv[j, a] = q[j, a] * dt_i
            if M > 1:
                for k in range(M):
                    stay = math.exp(-abs(dt_i) / sojourn[k])
                    for j in range(M):
                        Pi[k, j] = stay if j == k else (1.0 - stay) / (M - 1)
        for k in range(M):
            for a in range(6):
                xi[k, a] = xm[i, k, a]
                for b in range(6):
                    Pi_[k, a, b] = Pm[i, k, a, b]
        for j in range(M):
            if M == 1:
                c[j] = mu[i, j]
                x0[:] = xi[j]
                P0[:, :] = Pi_[j]
            else:
                cj = 0.0
                for k in range(M):
                    cj += mu[i, k] * Pi[k, j]
                c[j] = cj
                for k in range(M):
                    w[k] = mu[i, k] * Pi[k, j] / cj
                for a in range(6):
                    s = 0.0
                    for k in range(M):
                        s += w[k] * xi[k, a]
                    x0[a] = s
                for k in range(M):
                    for a in range(6):
                        d[k, a] = xi[k, a] - x0[a]
                if M == 2:  # the usual IMM: the same sums, written out
                    w0, w1 = w[0], w[1]
                    for a in range(6):
                        d0a, d1a = d[0, a], d[1, a]
                        for b in range(a + 1):
                            s = 0.0
                            s += w0 * (Pi_[0, a, b] + d0a * d[0, b])
                            s += w1 * (Pi_[1, a, b] + d1a * d[1, b])
                            P0[a, b] = s
                            P0[b, a] = s
                else:
                    for a in range(6):  # symmetric: the lower triangle, mirrored
                        for b in range(a + 1):
                            s = 0.0
                            for k in range(M):
                                s += w[k] * (Pi_[k, a, b] + d[k, a] * d[k, b])
                            P0[a, b] = s
                            P0[b, a] = s
            for a in range(3):
                x_out[j, a] = x0[a] + dt_i * x0[a + 3]
                x_out[j, a + 3] = x0[a + 3]
            for a in range(3):
                for b in range(3):
                    A = P0[a, b]
                    B = P0[a, b + 3]
                    Bt = P0[b, a + 3]
                    C = P0[a + 3, b + 3]
                    P_out[j, a, b] = A + dt_i * (B + Bt) + dt_i * dt_i * C
                    P_out[j, a, b + 3] = B + dt_i * C
                    P_out[j, b + 3, a] = B + dt_i * C
                    P_out[j, a + 3, b + 3] = C
                sc = scale[i]  # Q(dt) is diagonal in each 3x3 block
                P_out[j, a, a] += sc * q_pp[j, a]
                P_out[j, a, a + 3] += sc * q_pv[j, a]
                P_out[j, a + 3, a] += sc * q_pv[j, a]
                P_out[j, a + 3, a + 3] += sc * q_vv[j, a]
        if write_modes:
            for j in range(M):
                mu_out[i, j] = c[j]
                for a in range(6):
                    xm_out[i, j, a] = x_out[j, a]
                    for b in range(6):
                        Pm_out[i, j, a, b] = P_out[j, a, b]
        if write_combined:  # `_combine_into` written out: a call per track cost as much
            if M == 1:
                for a in range(6):
                    x[i, a] = x_out[0, a]
                    for b in range(6):
                        P[i, a, b] = P_out[0, a, b]
                continue
            for a in range(6):
                s = 0.0
                for j in range(M):
                    s += c[j] * x_out[j, a]
                x[i, a] = s
            for j in range(M):
                for a in range(6):
                    d[j, a] = x_out[j, a] - x[i, a]
            for a in range(6):  # symmetric: the lower triangle, mirrored
                for b in range(a + 1):
                    s = 0.0
                    for j in range(M):
                        s += c[j] * (P_out[j, a, b] + d[j, a] * d[j, b])
                    P[i, a, b] = s
                    P[i, b, a] = s


# --- sensor geometry ----------------------------------------------------------------


@_jit
def spherical(
    x: Array, origin: Array, rotation: Array, min_range: float
) -> tuple[Array, Array, Array, Array, Array]:
    """Sensor-local vectors (n, 3), range, azimuth, elevation (n,) of states x (n, >= 3) and
    the Jacobians (n, 3, 3) of (range, az, el) w.r.t. the camp position, as
    `measurements._Spherical` computes them."""
    n = x.shape[0]
    local = np.empty((n, 3))
    rng = np.empty(n)
    az = np.empty(n)
    el = np.empty(n)
    J = np.empty((n, 3, 3))
    Jl = np.empty((3, 3))
    for i in range(n):
        for a in range(3):
            s = 0.0
            for b in range(3):
                s += (x[i, b] - origin[b]) * rotation[a, b]
            local[i, a] = s
        e, nn, u = local[i, 0], local[i, 1], local[i, 2]
        rho2 = max(e * e + nn * nn, min_range * min_range)
        rho = math.sqrt(rho2)
        r2 = rho2 + u * u
        r = math.sqrt(r2)
        rng[i] = r
        az[i] = math.atan2(e, nn)
        el[i] = math.atan2(u, rho)
        Jl[0, 0], Jl[0, 1], Jl[0, 2] = e / r, nn / r, u / r
        Jl[1, 0], Jl[1, 1], Jl[1, 2] = nn / rho2, -e / rho2, 0.0
        Jl[2, 0], Jl[2, 1], Jl[2, 2] = -e * u / (r2 * rho), -nn * u / (r2 * rho), rho / r2
        for a in range(3):
            for b in range(3):
                s = 0.0
                for c in range(3):
                    s += Jl[a, c] * rotation[c, b]
                J[i, a, b] = s
    return local, rng, az, el, J


@_jit
def covers(
    positions: Array,
    origin: Array,
    rotation: Array,
    min_range: float,
    max_range: float,
    el_min: float,
    el_max: float,
    boresight: float,
    fov_az: float,
) -> NDArray[np.bool_]:
    """Which camp positions (n, 3) lie in a sensor's field of regard (degrees), as
    `coverage.SensorGeometry.covers` decides."""
    n = positions.shape[0]
    out = np.empty(n, dtype=np.bool_)
    deg = 180.0 / math.pi
    for i in range(n):
        v0 = positions[i, 0] - origin[0]
        v1 = positions[i, 1] - origin[1]
        v2 = positions[i, 2] - origin[2]
        e = v0 * rotation[0, 0] + v1 * rotation[0, 1] + v2 * rotation[0, 2]
        nn = v0 * rotation[1, 0] + v1 * rotation[1, 1] + v2 * rotation[1, 2]
        u = v0 * rotation[2, 0] + v1 * rotation[2, 1] + v2 * rotation[2, 2]
        horizontal = math.hypot(e, nn)
        r = math.sqrt(horizontal * horizontal + u * u)
        el = math.atan2(u, horizontal) * deg
        ok = min_range <= r <= max_range and el_min <= el <= el_max
        if ok and fov_az < 360.0:
            az = (math.atan2(e, nn) * deg) % 360.0
            if az >= 360.0:
                az = 0.0
            off = (az - boresight + 180.0) % 360.0 - 180.0
            if off >= 180.0:
                off -= 360.0
            ok = abs(off) <= fov_az / 2.0
        out[i] = ok
    return out


# --- zone polygons (the threat stage's, after every scan) ----------------------------


@_jit
def _inside(px: float, py: float, polygon: Array) -> bool:
    """Crossing-number test of one point against a polygon (v, 2)."""
    v = polygon.shape[0]
    inside = False
    for e in range(v):
        ax, ay = polygon[e, 0], polygon[e, 1]
        f = e + 1 if e + 1 < v else 0
        bx, by = polygon[f, 0], polygon[f, 1]
        if (ay > py) != (by > py) and px < ax + (py - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


@_jit
def _crossing_time(px: float, py: float, v0: float, v1: float, polygon: Array) -> float:
    """Earliest t > 0 at which (px, py) + t (v0, v1) meets an edge of a polygon (inf: never)."""
    v = polygon.shape[0]
    best = np.inf
    for e in range(v):
        f = e + 1 if e + 1 < v else 0
        e0 = polygon[f, 0] - polygon[e, 0]
        e1 = polygon[f, 1] - polygon[e, 1]
        denom = v0 * e1 - v1 * e0
        if not abs(denom) > 1e-12:
            continue
        r0 = polygon[e, 0] - px
        r1 = polygon[e, 1] - py
        t = (r0 * e1 - r1 * e0) / denom
        s = (r0 * v1 - r1 * v0) / denom
        if t > 0.0 and s >= 0.0 and s <= 1.0 and t < best:
            best = t
    return best


@_jit
def _distance(px: float, py: float, polygon: Array) -> float:
    """Distance from one point to a polygon's nearest edge."""
    v = polygon.shape[0]
    best = np.inf
    for e in range(v):
        f = e + 1 if e + 1 < v else 0
        e0 = polygon[f, 0] - polygon[e, 0]
        e1 = polygon[f, 1] - polygon[e, 1]
        r0 = px - polygon[e, 0]
        r1 = py - polygon[e, 1]
        length2 = max(e0 * e0 + e1 * e1, 1e-12)
        s = min(max((r0 * e0 + r1 * e1) / length2, 0.0), 1.0)
        d0 = r0 - s * e0
        d1 = r1 - s * e1
        d = math.sqrt(d0 * d0 + d1 * d1)
        if d < best:
            best = d
    return best


@_jit
def point_in_polygon(points: Array, polygon: Array) -> NDArray[np.bool_]:
    """Crossing-number test of points (n, 2) against a polygon (v, 2), as
    `cuas.fusion.zones.point_in_polygon`."""
    n = points.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        out[i] = _inside(points[i, 0], points[i, 1], polygon)
    return out


@_jit
def time_to_boundary(points: Array, velocities: Array, polygon: Array) -> Array:
    """Earliest t > 0 at which point + t * velocity meets an edge (inf if never), as
    `cuas.fusion.zones.time_to_boundary`."""
    n = points.shape[0]
    out = np.full(n, np.inf)
    for i in range(n):
        out[i] = _crossing_time(
            points[i, 0], points[i, 1], velocities[i, 0], velocities[i, 1], polygon
        )
    return out


@_jit
def distance_to_polygon(points: Array, polygon: Array) -> Array:
    """Distance from points (n, 2) to a polygon's nearest edge, as
    `cuas.fusion.zones.distance_to_polygon`."""
    n = points.shape[0]
    out = np.full(n, np.inf)
    for i in range(n):
        out[i] = _distance(points[i, 0], points[i, 1], polygon)
    return out


@_jit
def threat_levels(
    x: Array,
    P: Array,
    status: NDArray[np.int8],
    friendly: NDArray[np.bool_],
    benign: NDArray[np.bool_],
    polygons: Array,
    starts: Index,
    floor: Array,
    ceiling: Array,
    rank: NDArray[np.int64],
    perimeter: int,
    limits: Array,
) -> NDArray[np.int64]:
    """Threat level (0 none .. 4 critical) of tracks x (n, 6), P (n, 6, 6), as
    `cuas.fusion.threat.ThreatEvaluator.evaluate` rates them from `ZoneSet.contains` and
    `time_to_perimeter`: the same tests in the same arithmetic, one pass per track. Zone z's
    polygon is polygons[starts[z]:starts[z + 1]]; `perimeter` is its zone index (-1: none);
    `benign` (n,) the class test, which stays in numpy (its exp rounds as numpy's does).
    `limits`: perimeter ceiling, certainty sigmas, the certain position (m), min closing
    speed, eta high and medium (s), min height."""
    ceiling_p, k, certain_m, min_closing = limits[0], limits[1], limits[2], limits[3]
    eta_high, eta_medium, min_height = limits[4], limits[5], limits[6]
    n, zones = x.shape[0], rank.shape[0]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        px, py, pz = x[i, 0], x[i, 1], x[i, 2]
        sigma_h = math.sqrt(max(P[i, 0, 0] + P[i, 1, 1], 0.0))
        # k sigmas in inverse distance from the camp where they reach less than half way
        # (`ThreatEvaluator._surely_inside`).
        margin = k * sigma_h
        r = math.hypot(px, py)
        if r > 2.0 * margin:
            margin = margin * (r / (r - margin))
        top = 0
        for z in range(zones):
            if not (pz >= floor[z] and pz <= ceiling[z]):
                continue
            polygon = polygons[starts[z] : starts[z + 1]]
            if not _inside(px, py, polygon):
                continue
            if sigma_h > certain_m and not _distance(px, py, polygon) >= margin:
                continue
            top = max(top, rank[z])
        zone_threat = 4 if top == 2 else (2 if top == 1 else 0)
        eta = math.nan
        if perimeter >= 0:
            polygon = polygons[starts[perimeter] : starts[perimeter + 1]]
            if _inside(px, py, polygon):
                eta = 0.0
            else:
                eta = _crossing_time(px, py, x[i, 3], x[i, 4], polygon)
        r = max(math.hypot(px, py), 1.0)
        r0, r1 = -px / r, -py / r
        closing = r0 * x[i, 3] + r1 * x[i, 4]
        var_c = r0 * P[i, 3, 3] * r0  # summed in einsum's order
        var_c += r0 * P[i, 3, 4] * r1
        var_c += r1 * P[i, 4, 3] * r0
        var_c += r1 * P[i, 4, 4] * r1
        sure_closing = closing - k * math.sqrt(max(var_c, 0.0))
        eta_threat = 0
        if sure_closing >= min_closing and math.isfinite(eta) and eta > 0.0 and pz <= ceiling_p:
            eta_threat = 3 if eta <= eta_high else (2 if eta <= eta_medium else 1)
        at_perimeter = eta_threat >= 2 or zone_threat == 4
        harmless = status[i] == 0 or friendly[i] or pz < min_height
        harmless = harmless or (benign[i] and not at_perimeter)
        out[i] = 0 if harmless else max(zone_threat, eta_threat)
    return out


@_jit
def _cue_index(value: float, scale: float, offset: float, size: int) -> int:
    """The grid column `classification.Cue` reads for `value`: numpy's cast to intp of
    value * scale + offset (truncation; NaN and anything from 2**63 cast to the least
    integer), clipped to the grid."""
    v = value * scale + offset
    if not (v >= 1.0 and v < 9.223372036854775808e18):
        return 0
    return min(int(v), size - 1)


@_jit
def kinematic_evidence(
    x: Array,
    P: Array,
    rows: Index,
    weight: float,
    s0: tuple[float, float],
    tables: tuple[Array, Array],
    grids: tuple[float, float, float, float],
) -> Array:
    """(classes, p) kinematic log-likelihoods of tracks `rows` of x (n, 6), P (n, 6, 6),
    as `classification.Classifier.kinematics` makes them in numpy (the same arithmetic):
    the speed cue's table (classes, grid) read at the horizontal speed and the altitude
    cue's at the height, weighted by `weight` * s0^2 / (s0^2 + the filter's variances);
    s0: the speed and height scales squared; grids: each cue's scale and offset."""
    speed_table, height_table = tables
    s0_speed, s0_height = s0
    speed_scale, speed_offset, height_scale, height_offset = grids
    classes, p = speed_table.shape[0], rows.shape[0]
    out = np.empty((classes, p))
    top_speed = weight * s0_speed
    top_height = weight * s0_height
    for i in range(p):
        r = rows[i]
        w_speed = top_speed / (s0_speed + P[r, 3, 3] + P[r, 4, 4])
        w_height = top_height / (s0_height + P[r, 2, 2])
        a = _cue_index(
            math.hypot(x[r, 3], x[r, 4]), speed_scale, speed_offset, speed_table.shape[1]
        )
        b = _cue_index(x[r, 2], height_scale, height_offset, height_table.shape[1])
        for c in range(classes):
            out[c, i] = w_speed * speed_table[c, a] + w_height * height_table[c, b]
    return out


@_jit
def label_likelihoods(probs: Array, floor: float) -> Array:
    """`classification.label_loglik` before its log, numpy's own (k, classes): each row of
    class probabilities (the last is "unknown") as relative likelihoods, floored, in the
    reference's arithmetic (the named classes' mean summed in numpy's order); 1.0 across a
    row with anything non-finite or nothing positive (whose log is the reference's 0)."""
    k, classes = probs.shape
    named = classes - 1
    out = np.ones((k, classes))
    like = np.empty(classes)
    for i in range(k):
        usable = True
        top = -np.inf
        for c in range(classes):
            v = probs[i, c]
            if not math.isfinite(v):
                usable = False
            elif v > top:
                top = v
        if not (usable and top > 0.0):
            continue
        unsure = max(probs[i, named], 0.0)
        total = 0.0
        for c in range(named):
            v = max(probs[i, c], 0.0)
            like[c] = v + unsure
            total = v if c == 0 else total + v
        like[named] = total / named + unsure
        best = like[0]
        for c in range(1, classes):
            if like[c] > best:
                best = like[c]
        for c in range(classes):
            v = like[c] / best
            out[i, c] = floor if v < floor else v
    return out


@_jit
def class_step(class_logp: Array, rows: Index, evidence: Array, max_log_odds: float) -> Array:
    """The first half of `classification.fuse` for tracks `rows`: their class
    log-probabilities (rows of `class_logp`) plus `evidence` (classes, p), less each track's
    best (numpy's maximum: a NaN wins), floored at -max_log_odds; (classes, p). The
    normaliser's exp and log stay numpy's (`class_store` takes it)."""
    classes, p = evidence.shape
    post = np.empty((classes, p))
    for i in range(p):
        r = rows[i]
        top = 0.0
        for c in range(classes):
            v = class_logp[r, c] + evidence[c, i]
            post[c, i] = v
            if c == 0 or (top == top and (v > top or v != v)):
                top = v
        for c in range(classes):
            v = post[c, i] - top
            post[c, i] = -max_log_odds if v < -max_log_odds else v
    return post


@_jit
def class_store(class_logp: Array, rows: Index, post: Array, norm: Array) -> None:
    """class_logp[rows[i]] = post[:, i] - norm[i]: the last step of `classification.fuse`,
    written back."""
    classes, p = post.shape
    for i in range(p):
        for c in range(classes):
            class_logp[rows[i], c] = post[c, i] - norm[i]


# --- passive initiation ---------------------------------------------------------------


@_inlined
def _sighting_rows(
    x: Array,
    z: Array,
    var: Array,
    with_el: bool,
    origin: Array,
    rotation: Array,
    dt: float,
    max_speed: float,
    min_range: float,
    J: Array,
    r: Array,
    w: Array,
    row: int,
) -> int:
    """An angle-only sighting's rows of the triangulation's least squares at position x:
    Jacobian rows (azimuth, and elevation `with_el`) into J, residuals into r, weights into w
    from `row` on, as `PassiveInitiator._fit_batch` builds them; returns the next row."""
    d0, d1, d2 = x[0] - origin[0], x[1] - origin[1], x[2] - origin[2]
    e = d0 * rotation[0, 0] + d1 * rotation[0, 1] + d2 * rotation[0, 2]
    n = d0 * rotation[1, 0] + d1 * rotation[1, 1] + d2 * rotation[1, 2]
    u = d0 * rotation[2, 0] + d1 * rotation[2, 1] + d2 * rotation[2, 2]
    rho2 = max(e * e + n * n, min_range * min_range)
    rho = math.sqrt(rho2)
    r2 = rho2 + u * u
    rng = max(math.sqrt(d0 * d0 + d1 * d1 + d2 * d2), 1.0)
    spread = (max_speed * dt / rng) ** 2  # the target moved between the two sightings
    ja = (n / rho2, -e / rho2, 0.0)
    for c in range(3):
        J[row, c] = ja[0] * rotation[0, c] + ja[1] * rotation[1, c] + ja[2] * rotation[2, c]
    r[row] = _wrap(z[0] - math.atan2(e, n))
    w[row] = 1.0 / (var[0] + spread)
    if not with_el:
        return row + 1
    je = (-e * u / (r2 * rho), -n * u / (r2 * rho), rho / r2)
    for c in range(3):
        J[row + 1, c] = je[0] * rotation[0, c] + je[1] * rotation[1, c] + je[2] * rotation[2, c]
    r[row + 1] = z[1] - math.atan2(u, rho)
    w[row + 1] = 1.0 / (var[1] + spread)
    return row + 2


@_jit
def crossings(
    site: Array,
    sin: Array,
    cos: Array,
    sensor: Index,
    alive: NDArray[np.bool_],
    emitter: NDArray[np.int64],
    n: int,
    b_sensor: int,
    b_site0: float,
    b_site1: float,
    b_sin: float,
    b_cos: float,
    min_sin: float,
    code: int,
    altitude: float,
) -> tuple[Index, Array]:
    """`PassiveInitiator._crossings` over the first n pending sightings: the indices (in
    order) whose horizontal bearing crosses the new one's (another sensor, |sin| of the
    angle at least `min_sin`, in front of both; with `code` >= -1, naming no emitter or that
    one), and the crossings (c, 3) at `altitude`."""
    out = np.empty(n, dtype=np.intp)
    starts = np.empty((n, 3))
    c = 0
    for i in range(n):
        if not alive[i] or sensor[i] == b_sensor:
            continue
        if code >= -1 and not (emitter[i] == 0 or emitter[i] == code):
            continue
        cross = sin[i] * b_cos - cos[i] * b_sin
        if not abs(cross) >= min_sin:
            continue
        rel0, rel1 = b_site0 - site[i, 0], b_site1 - site[i, 1]
        ta = (rel0 * b_cos - rel1 * b_sin) / cross
        tb = (rel0 * cos[i] - rel1 * sin[i]) / cross
        if not (ta > 0.0 and tb > 0.0):
            continue
        out[c] = i
        starts[c, 0] = site[i, 0] + ta * sin[i]
        starts[c, 1] = site[i, 1] + ta * cos[i]
        starts[c, 2] = altitude
        c += 1
    return out[:c].copy(), starts[:c].copy()


@_inlined
def _solve3(A: Array, b: Array, out: Array, M: Array) -> bool:
    """out = A^-1 b for a 3x3 A by Gaussian elimination with partial pivoting, in the
    caller's scratch M (3, 4); False if a pivot is exactly zero (LAPACK's singular case)."""
    for i in range(3):
        for j in range(3):
            M[i, j] = A[i, j]
        M[i, 3] = b[i]
    for col in range(3):
        p = col
        for i in range(col + 1, 3):
            if abs(M[i, col]) > abs(M[p, col]):
                p = i
        if M[p, col] == 0.0:
            return False
        if p != col:
            for j in range(4):
                M[p, j], M[col, j] = M[col, j], M[p, j]
        for i in range(col + 1, 3):
            f = M[i, col] / M[col, col]
            for j in range(col, 4):
                M[i, j] -= f * M[col, j]
    for i in range(2, -1, -1):
        s = M[i, 3]
        for j in range(i + 1, 3):
            s -= M[i, j] * out[j]
        out[i] = s / M[i, i]
    return True


@_jit
def triangulate(
    starts: Array,
    za: Array,
    vara: Array,
    dt: Array,
    a_el: bool,
    a_origin: Array,
    a_rotation: Array,
    a_max_range: float,
    zb: Array,
    varb: Array,
    b_el: bool,
    b_origin: Array,
    b_rotation: Array,
    b_max_range: float,
    max_speed: float,
    altitude: float,
    altitude_sigma: float,
    chi_limit: float,
    min_range: float,
) -> tuple[NDArray[np.bool_], Array, Array, Array]:
    """Gauss-Newton fits of pairs of angle-only sightings (one sensor's `za` against `zb`),
    from their crossings `starts`, as `PassiveInitiator._fit_batch` does them: (good, positions,
    covariances, chi-squares)."""
    c = starts.shape[0]
    K = za.shape[1] + zb.shape[0] + 1
    good = np.zeros(c, dtype=np.bool_)
    pos = starts.copy()
    cov = np.zeros((c, 3, 3))
    chi = np.zeros(c)
    J = np.zeros((K, 3))
    r = np.empty(K)
    w = np.empty(K)
    info = np.empty((3, 3))
    rhs = np.empty(3)
    step = np.empty(3)
    eye = np.eye(3)
    col = np.empty(3)
    M = np.empty((3, 4))  # `_solve3`'s scratch: one allocation, not one per step
    for i in range(c):
        x = pos[i]
        stepped = False
        failed = False
        for _ in range(6):
            row = _sighting_rows(
                x,
                za[i],
                vara[i],
                a_el,
                a_origin,
                a_rotation,
                dt[i],
                max_speed,
                min_range,
                J,
                r,
                w,
                0,
            )
            row = _sighting_rows(
                x,
                zb,
                varb,
                b_el,
                b_origin,
                b_rotation,
                dt[i],
                max_speed,
                min_range,
                J,
                r,
                w,
                row,
            )
            J[row, 0], J[row, 1], J[row, 2] = 0.0, 0.0, 1.0
            r[row] = altitude - x[2]
            w[row] = 1.0 / altitude_sigma**2
            for p in range(3):
                s = 0.0
                for k in range(K):
                    s += J[k, p] * (w[k] * r[k])
                rhs[p] = s
                for q in range(3):
                    s = 0.0
                    for k in range(K):
                        s += J[k, p] * (J[k, q] * w[k])
                    info[p, q] = s
            if not _solve3(info, rhs, step, M):
                failed = True
                break
            for p in range(3):
                x[p] += step[p]
            stepped = True
            chi_i = 0.0
            for k in range(K - 1):
                chi_i += w[k] * r[k] ** 2
            chi[i] = chi_i
            if math.sqrt(step[0] ** 2 + step[1] ** 2 + step[2] ** 2) < 0.1:
                break
        if failed or not stepped or not chi[i] <= chi_limit:
            continue
        within = True
        for origin, rotation, max_range in (
            (a_origin, a_rotation, a_max_range),
            (b_origin, b_rotation, b_max_range),
        ):
            d2 = 0.0
            for p in range(3):
                v = 0.0
                for q in range(3):
                    v += (x[q] - origin[q]) * rotation[p, q]
                d2 += v * v
            if not math.sqrt(d2) <= max_range:
                within = False
        if not within:
            continue
        for q in range(3):  # the covariance: the information matrix inverted, column by column
            # (the identity's row q is its column q)
            if not _solve3(info, eye[q], col, M):
                within = False
                break
            for p in range(3):
                cov[i, p, q] = col[p]
        good[i] = within
    return good, pos, cov, chi


# --- gating ---------------------------------------------------------------------------


_BINNED_FROM = 64  # detections on a circular axis from which pass 1 searches by angle
# A 64-bit word's lowest set bit -> its position: the bit times this de Bruijn sequence
# has a distinct top six bits for each position (a table lookup instead of a loop).
_DE_BRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DE_BRUIJN_BIT = np.argsort(
    [((1 << b) * int(_DE_BRUIJN)) % (1 << 64) >> 58 for b in range(64)]
).astype(np.intp)


@_jit
def _survivors(
    zi: float,
    hi: float,
    zc: Array,
    vc: Array,
    circular: bool,
    threshold: float,
    row: NDArray[np.bool_],
    cand: Index,
    count: int,
) -> int:
    """Pass 1 of `gate` for one track (predicted `zi`, its variance `hi` on the coarse axis)
    against every detection: survivors appended to cand[count:] in detection order; returns
    the new count. A flat loop the compiler vectorises, into one row's mask."""
    k = zc.shape[0]
    for d in range(k):
        dc = abs(zc[d] - zi)
        if circular:
            dc = min(dc, 2.0 * math.pi - dc)
        row[d] = dc * dc < threshold * (hi + vc[d])
    for d in range(k):  # branch-free: on scattered survivors a branch mispredicts
        cand[count] = d
        count += row[d]
    return count


@_jit
def _binned_survivors(
    zhat: Array,
    HPHt: Array,
    zc: Array,
    vc: Array,
    coarse: int,
    threshold: float,
    row: NDArray[np.bool_],
    cand: Index,
    start: Index,
) -> int:
    """Pass 1 of `gate` on a circular axis with many detections: the same survivors in the
    same order as `_survivors` for every track, found by angle. Detections are binned round
    the turn (two to four a bin); a track tests only the bins its widest possible interval
    (with the largest detection variance) reaches, and a bin more on each side for rounding,
    marks survivors in a bitmap of detections and reads them back in detection order. A track
    whose interval spans a quarter turn or more, or whose prediction is not finite, is
    tested against every detection as before. Returns the survivors' count."""
    n, k = zhat.shape[0], zc.shape[0]
    turn = 2.0 * math.pi
    bins = 1
    while 4 * bins < k:
        bins *= 2
    scale = bins / turn
    first = np.zeros(bins + 1, dtype=np.intp)
    bin_of = np.full(k, -1, dtype=np.intp)
    vmax = 0.0
    for d in range(k):
        v = vc[d]
        if v > vmax:
            vmax = v
        u = zc[d] % turn
        if math.isfinite(u):  # a detection that is not can pass no test
            bin_of[d] = min(int(u * scale), bins - 1)
            first[bin_of[d] + 1] += 1
    for b in range(bins):
        first[b + 1] += first[b]
    members = np.empty(k, dtype=np.intp)  # by bin, in detection order within each
    fill = first[:bins].copy()
    for d in range(k):
        if bin_of[d] >= 0:
            members[fill[bin_of[d]]] = d
            fill[bin_of[d]] += 1
    words = (k + 63) // 64
    bits = np.zeros(words, dtype=np.uint64)
    one = np.uint64(1)
    count = 0
    for i in range(n):
        start[i] = count
        zi, hi = zhat[i, coarse], HPHt[i, coarse, coarse]
        reach = math.sqrt(threshold * (hi + vmax))
        if not (reach < 0.25 * turn and abs(zi) < 1e6):
            count = _survivors(zi, hi, zc, vc, True, threshold, row, cand, count)
            continue
        lo = math.floor((zi - reach) * scale) - 1
        up = math.floor((zi + reach) * scale) + 1
        for b in range(lo, up + 1):
            bb = b % bins
            for p in range(first[bb], first[bb + 1]):
                d = members[p]
                dc = abs(zc[d] - zi)
                dc = min(dc, turn - dc)
                inside = np.uint64(dc * dc < threshold * (hi + vc[d]))  # without a branch
                bits[d >> 6] |= inside << np.uint64(d & 63)
        for w in range(words):
            word = bits[w]
            while word:
                low = word & (~word + one)
                cand[count] = 64 * w + _DE_BRUIJN_BIT[(low * _DE_BRUIJN) >> np.uint64(58)]
                count += 1
                word ^= low
            bits[w] = 0
    return count


@_jit
def gate(
    zhat: Array,
    H: Array,
    P: Array,
    z: Array,
    var: Array,
    wrap: NDArray[np.bool_],
    coarse: int,
    threshold: float,
) -> tuple[Index, Index, Array, Array, Array]:
    """Gated pairs (track, detection, d2, innovation, its covariance), track-major with
    detections in order, as `gating.hypothesise` finds them (same tests, same order).

    The small helpers (`_sandwich`, `_survivors`, `_cholesky`, `_forward`) are written out
    in the loops: a compiled call with array arguments per track or pair cost more than
    their arithmetic (the same operations in the same order: the same bits)."""
    n, m = zhat.shape
    k = z.shape[0]
    HPHt = np.empty((n, m, m))
    T = np.empty((m, 6))
    for i in range(n):  # `_sandwich`, written out (as the helpers below: see `gate`)
        for r in range(m):
            for b in range(6):
                acc = 0.0
                for a in range(6):
                    acc += H[i, r, a] * P[i, a, b]
                T[r, b] = acc
        for r in range(m):
            for q in range(m):
                acc = 0.0
                for b in range(6):
                    acc += T[r, b] * H[i, q, b]
                HPHt[i, r, q] = acc
    # Pass 1: the cheap one-axis interval test on all n*k pairs (a flat loop the compiler
    # vectorises, into one row's mask), its survivors listed per track in detection order
    # (cand[start[i]:start[i + 1]]), so that pass 2 visits only them. (`cand` is allocated
    # for every pair, but only the pages its survivors fill are ever touched.)
    zc = z[:, coarse].copy()
    vc = var[:, coarse].copy()
    circular = wrap[coarse]
    row = np.empty(k, dtype=np.bool_)
    cand = np.empty(n * k, dtype=np.intp)
    start = np.empty(n + 1, dtype=np.intp)
    if circular and k >= _BINNED_FROM:
        count = _binned_survivors(zhat, HPHt, zc, vc, coarse, threshold, row, cand, start)
    else:
        count = 0
        for i in range(n):  # `_survivors` for each track, written out
            start[i] = count
            zi, hi = zhat[i, coarse], HPHt[i, coarse, coarse]
            for d in range(k):
                dc = abs(zc[d] - zi)
                if circular:
                    dc = min(dc, 2.0 * math.pi - dc)
                row[d] = dc * dc < threshold * (hi + vc[d])
            for d in range(k):
                cand[count] = d
                count += row[d]
    start[n] = count
    track = np.empty(count, dtype=np.intp)
    det = np.empty(count, dtype=np.intp)
    d2 = np.empty(count)
    y = np.empty((count, m))
    S = np.empty((count, m, m))
    L = np.zeros((m, m))
    u = np.empty(m)
    kept = 0
    if m == 1:  # a bearing: pass 2 below with its one component written out (same arithmetic)
        for i in range(n):
            zi, hi = zhat[i, 0], HPHt[i, 0, 0]
            for c in range(start[i], start[i + 1]):
                d = cand[c]
                v = z[d, 0] - zi
                if wrap[0]:
                    v = _wrap(v)
                s = hi + var[d, 0]
                if not v * v < threshold * s or s <= 0.0:
                    continue
                u0 = v / math.sqrt(s)
                if u0 * u0 < threshold:
                    track[kept], det[kept], d2[kept] = i, d, u0 * u0
                    y[kept, 0], S[kept, 0, 0] = v, s
                    kept += 1
        return track[:kept], det[:kept], d2[:kept], y[:kept], S[:kept]
    # Pass 2: every axis's interval, then the full Mahalanobis test on survivors.
    for i in range(n):
        for c in range(start[i], start[i + 1]):
            d = cand[c]
            inside = True
            for r in range(m):  # each axis's interval, leaving at the first it fails
                v = z[d, r] - zhat[i, r]
                if wrap[r]:
                    v = _wrap(v)
                y[kept, r] = v
                if not v * v < threshold * (HPHt[i, r, r] + var[d, r]):
                    inside = False
                    break
            if not inside:
                continue
            for r in range(m):
                for q in range(m):
                    S[kept, r, q] = HPHt[i, r, q]
                S[kept, r, r] += var[d, r]
            for r in range(m):  # `_cholesky` of S[kept] into L
                for q in range(r + 1):
                    acc = S[kept, r, q]
                    for a in range(q):
                        acc -= L[r, a] * L[q, a]
                    if r == q:
                        if acc <= 0.0:
                            inside = False
                            break
                        L[r, r] = math.sqrt(acc)
                    else:
                        L[r, q] = acc / L[q, q]
                if not inside:
                    break
            if not inside:
                continue
            for r in range(m):  # `_forward`: u = L^-1 y
                acc = y[kept, r]
                for a in range(r):
                    acc -= L[r, a] * u[a]
                u[r] = acc / L[r, r]
            s = 0.0
            for r in range(m):
                s += u[r] * u[r]
            if s < threshold:
                track[kept] = i
                det[kept] = d
                d2[kept] = s
                kept += 1
    return track[:kept], det[:kept], d2[:kept], y[:kept], S[:kept]


# --- association ----------------------------------------------------------------------


@_jit
def components(a: Index, b: Index, nodes: int) -> tuple[int, Index]:
    """Connected components of the undirected graph with edges (a[e], b[e]) over `nodes`
    nodes: (count, label of each node), by union-find. The labels number the components in
    another order than scipy's `connected_components`; the associator only groups by them."""
    parent = np.arange(nodes)
    for e in range(a.shape[0]):
        u, v = a[e], b[e]
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        if u != v:
            if u < v:
                parent[v] = u
            else:
                parent[u] = v
    labels = np.empty(nodes, dtype=np.intp)
    count = 0
    for node in range(nodes):
        root = node
        while parent[root] != root:
            root = parent[root]
        if root == node:
            labels[node] = count
            count += 1
        else:
            labels[node] = labels[root]
    return count, labels


# --- emitter evidence ---------------------------------------------------------------


@_jit
def _log2(shift: int) -> int:
    """b with shift == 2**b, or -1 if `shift` is no power of two."""
    b = 0
    while b < 63 and (1 << b) < shift:
        b += 1
    return b if (1 << b) == shift else -1


@_jit
def _high(key: int, shift: int, bits: int) -> int:
    """key // shift for a key >= 0: a shift when `bits` (`_log2(shift)`) says it may be (an
    integer division per entry was most of the evidence's merge)."""
    return key >> bits if bits >= 0 else key // shift


@_jit
def order_by_high(keys: NDArray[np.int64], high: Index, buckets: int) -> tuple[Index, bool]:
    """np.argsort(keys) for unique keys whose order is that of `high` (each key's high part,
    0 <= high < buckets) and, within one high part, the order they come in: a counting sort
    by `high`, linear where the comparison sort was n log n. The second value says whether
    the keys came out strictly increasing; where they did not, the order is not argsort's."""
    count = np.zeros(buckets + 1, dtype=np.intp)
    for i in range(high.size):
        count[high[i] + 1] += 1
    for b in range(buckets):
        count[b + 1] += count[b]
    order = np.empty(high.size, dtype=np.intp)
    for i in range(high.size):
        order[count[high[i]]] = i
        count[high[i]] += 1
    for i in range(1, order.size):
        if not keys[order[i - 1]] < keys[order[i]]:
            return order, False
    return order, True


@_jit
def evidence_observe(
    key: NDArray[np.int64],
    score: Array,
    at: Index,
    decay: Array,
    edge: Array,
    needles: NDArray[np.int64],
    loglik: Array,
    bearing: Index,
    ready: NDArray[np.bool_],
    shift: int,
    hopeless: float,
    margin: float,
) -> tuple[NDArray[np.int64], Array, NDArray[np.int64]]:
    """`EmitterEvidence.observe` after the per-emitter bookkeeping, in two passes over the
    sorted entries (key = emitter slot * shift + track id): entries of this scan's emitters
    (`at[slot]` >= 0, their position in the scan) decay and take their emitter's `edge`,
    those among the sorted `needles` (this scan's pairs) then take `loglik - edge` instead,
    and new needles open entries of `loglik`; then, run by run, the hopeless candidates go,
    and a `ready` emitter whose best leads the next by `margin` names its winner. Returns
    (keys, scores, winners' keys)."""
    n, q = key.shape[0], needles.shape[0]
    bits = _log2(shift)
    merged_key = np.empty(n + q, dtype=np.int64)
    merged = np.empty(n + q)
    i = j = o = 0
    while i < n or j < q:
        if j >= q or (i < n and key[i] < needles[j]):
            s = score[i]
            p = at[_high(key[i], shift, bits)]
            if p >= 0:
                s = s * decay[p] + edge[p]
            merged_key[o], merged[o] = key[i], s
            i += 1
        elif i >= n or needles[j] < key[i]:
            merged_key[o], merged[o] = needles[j], loglik[j]
            j += 1
        else:
            p = at[_high(key[i], shift, bits)]
            s = score[i] * decay[p] + edge[p]
            merged_key[o], merged[o] = key[i], s + (loglik[j] - edge[bearing[j]])
            i += 1
            j += 1
        o += 1
    keep = np.ones(o, dtype=np.bool_)
    winners = np.empty(o, dtype=np.int64)
    w = kept = start = 0
    while start < o:
        emitter = _high(merged_key[start], shift, bits)
        end = start + 1
        while end < o and _high(merged_key[end], shift, bits) == emitter:
            end += 1
        p = at[emitter]
        if p >= 0:
            best = -np.inf
            for r in range(start, end):
                best = max(best, merged[r])
            second = -np.inf  # the best below the best
            top, ties = -1, 0
            for r in range(start, end):
                if merged[r] == best:
                    ties += 1
                    if top < 0:
                        top = r
                elif merged[r] > second:
                    second = merged[r]
            limit = best - hopeless
            for r in range(start, end):
                if merged[r] < limit and merged[r] < second:
                    keep[r] = False
            if ready[p] and end - start >= 2:
                lead = best - (best if ties >= 2 else second)
                if lead >= margin:
                    winners[w] = merged_key[top]
                    w += 1
        start = end
    for r in range(o):
        kept += keep[r]
    out_key = np.empty(kept, dtype=np.int64)
    out = np.empty(kept)
    c = 0
    for r in range(o):
        if keep[r]:
            out_key[c], out[c] = merged_key[r], merged[r]
            c += 1
    return out_key, out, winners[:w].copy()


# --- lifecycle ------------------------------------------------------------------------


@_jit
def updated_by(last_hit: Array, sensors: NDArray[np.bool_], since: float) -> NDArray[np.bool_]:
    """Rows of `last_hit` (n, sensors) that one of `sensors` updated after `since` (or at
    it, unless it is -inf: ever), as `Tracker._updated_by`."""
    n, m = last_hit.shape
    out = np.zeros(n, dtype=np.bool_)
    ever = since == -np.inf
    for i in range(n):
        for j in range(m):
            if sensors[j] and (last_hit[i, j] > since if ever else last_hit[i, j] >= since):
                out[i] = True
                break
    return out


@_jit
def vague_heights(Pm: Array, limit: float) -> Index:
    """Rows of mode covariances Pm (n, M, 6, 6) whose largest height variance exceeds `limit`,
    as `Tracker._bound_height`'s `Pm[:, :, 2, 2].max(axis=1) > limit` (a NaN among a row's
    modes makes numpy's maximum NaN: not vague)."""
    n, M = Pm.shape[0], Pm.shape[1]
    out = np.empty(n, dtype=np.intp)
    q = 0
    for i in range(n):
        top = -np.inf
        nan = False
        for j in range(M):
            v = Pm[i, j, 2, 2]
            if v != v:
                nan = True
            elif v > top:
                top = v
        if not nan and top > limit:
            out[q] = i
            q += 1
    return out[:q]


@_jit
def lifecycle(
    status: NDArray[np.int8],
    history: NDArray[np.uint32],
    last_hit: Array,
    last_named: Array,
    t_crossed: Array,
    t_update: Array,
    x: Array,
    P: Array,
    unseen: NDArray[np.int16],
    transmits: NDArray[np.bool_],
    shadowed: NDArray[np.bool_],
    localising: NDArray[np.bool_],
    hearing: NDArray[np.bool_],
    observable: NDArray[np.bool_],
    orphan: NDArray[np.bool_],
    flags: NDArray[np.bool_],
    ints: NDArray[np.int64],
    reals: Array,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """`LifecycleRules.apply` track by track (its numpy code is the reference): statuses
    and the times since which lines of sight have crossed on each track (`t_crossed`, a
    finder's bearings counting from `last_named`) updated in place; returns (just
    confirmed, to delete). `transmits`: holds an emitter id; `shadowed`: a radar track's echo;
    `flags`: whether localising, hearing and observable were given, and tracks hold the
    emitter ids their bearings name; `ints`: confirm_m,
    confirm_n, window, radar_veto_scans, tentative, confirmed and coasting codes; `reals`: t,
    memory_s, passive_confirm_s, passive_max_speed_mps, coast_after_s, delete_after_s,
    max_pos_sigma_m, max_pos_sigma_fraction, orphan_max_pos_sigma_m, heard_s."""
    n, sensors = last_hit.shape
    has_localising, has_hearing, has_observable = flags[0], flags[1], flags[2]
    identified = flags[3]
    confirm_m, confirm_n, window, veto = ints[0], ints[1], ints[2], ints[3]
    tentative_code, confirmed_code, coasting_code = ints[4], ints[5], ints[6]
    t, memory_s, passive_s, max_speed = reals[0], reals[1], reals[2], reals[3]
    coast_s, delete_s, max_sigma, fraction, orphan_sigma = (
        reals[4],
        reals[5],
        reals[6],
        reals[7],
        reals[8],
    )
    recent_after = t - memory_s
    heard_after = t - reals[9]
    confirm = np.zeros(n, dtype=np.bool_)
    doomed = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        h = np.int64(history[i])
        hits, bits, rest = 0, 0, h & window
        while rest:
            hits += rest & 1
            rest >>= 1
        rest = h
        while rest:
            bits += 1
            rest >>= 1
        misses = min(bits, confirm_n) - hits
        tentative = status[i] == tentative_code
        ok = tentative and hits >= confirm_m
        ghost = False
        if has_localising:
            located = crossed_count = heard = heard_long = seen = seen_long = 0
            angle_fed = False
            # A finder is a site only by bearings naming an emitter (`last_named`), and where
            # tracks hold the ids their bearings name, only on a track that holds one.
            finder_site = transmits[i] or not identified
            for s in range(sensors):
                v = last_hit[i, s]
                recent = v >= recent_after
                if localising[s]:
                    if v > -np.inf:
                        located = 1
                elif recent:
                    angle_fed = True
                if has_hearing and hearing[s]:
                    if finder_site and last_named[i, s] >= recent_after:
                        crossed_count += 1
                elif recent:
                    crossed_count += 1
                if has_hearing and hearing[s] and recent:
                    heard += 1
                if has_hearing and hearing[s] and v >= heard_after:
                    heard_long += 1
                if not hearing[s] and not localising[s]:
                    if recent:
                        seen += 1
                    if v >= heard_after:
                        seen_long += 1
            if not (tentative or located or shadowed[i]):
                heard = heard_long  # a firm track's finders and cameras count within heard_s
                seen = seen_long
            transmitter = transmits[i] and (
                not has_hearing
                or heard >= 2
                or (heard >= 1 and (seen >= 2 or (seen >= 1 and heard_long >= 2)))
            )
            ghost = angle_fed and not transmitter and unseen[i] >= veto
            speed = math.hypot(x[i, 3], x[i, 4])
            if crossed_count < 2:
                t_crossed[i] = np.nan
            elif math.isnan(t_crossed[i]):
                t_crossed[i] = t
            settled = t - t_crossed[i] >= passive_s and speed <= max_speed
            if settled and ok and located == 0:
                again = 0
                for s in range(sensors):
                    hit_at = last_hit[i, s]
                    if has_hearing and hearing[s]:
                        hit_at = last_named[i, s] if finder_site else -np.inf
                    if hit_at > t_crossed[i]:
                        again += 1
                settled = again >= 2
            if has_observable:
                settled = settled and observable[i]
            ok = ok and (located == 1 or (crossed_count >= 2 and settled and not ghost))
        hopeless = tentative and not ok and misses > confirm_n - confirm_m
        if ok:
            status[i] = confirmed_code
        age = t - t_update[i]
        firm = status[i] != tentative_code
        if firm and age > coast_s:
            status[i] = coasting_code
        elif firm and age <= coast_s:
            status[i] = confirmed_code
        sigma = math.sqrt(P[i, 0, 0] + P[i, 1, 1])
        too_old = age > delete_s
        reach = fraction * math.hypot(x[i, 0], x[i, 1])
        limit = max_sigma if max_sigma >= reach else reach  # np.maximum, NaN aside
        if math.isnan(max_sigma) or math.isnan(reach):
            limit = np.nan
        too_vague = sigma > limit
        if orphan[i]:
            too_old = False
            too_vague = sigma > orphan_sigma
        stale = firm and (too_old or too_vague)
        confirm[i] = ok
        doomed[i] = hopeless or stale or ghost or (tentative and age > delete_s)
    return confirm, doomed


# --- update ---------------------------------------------------------------------------


@_jit
def innovation_covariance(H: Array, P: Array, var: Array) -> Array:
    """S = H P H' + diag(var) for Jacobians H (p, m, 6), covariances P (p, 6, 6) and
    measurement variances var (p, m), as `update.innovation_covariance`."""
    p, m = var.shape
    S = np.empty((p, m, m))
    T = np.empty((m, 6))
    for i in range(p):
        _sandwich(H, P, i, m, T, S[i])
        for r in range(m):
            S[i, r, r] += var[i, r]
    return S


@_jit
def _gain_and_joseph(
    x: Array,
    P: Array,
    H: Array,
    y: Array,
    var: Array,
    L: Array,
    HP: Array,
    m: int,
    scratch: tuple[Array, Array, Array, Array, Array],
    x_out: Array,
    P_out: Array,
) -> None:
    """One track's Kalman update in the Joseph form: state x (6,), covariance P (6, 6),
    Jacobian H (m, 6), innovation y (m,), measurement variances var (m,), the Cholesky
    factor L of its innovation covariance and HP = H P (m, 6) given; the posterior into
    x_out (6,) and P_out (6, 6). Scratch: K (6, m), u, v (m,), IKH, T (6, 6)."""
    K, u, v, IKH, T = scratch
    for b in range(6):  # K' = S^-1 H P (P symmetric), one column of H P at a time
        _forward(L, m, HP[:, b], u)
        _backward(L, m, u, v)
        for r in range(m):
            K[b, r] = v[r]
    for a in range(6):
        s = x[a]
        for r in range(m):
            s += K[a, r] * y[r]
        x_out[a] = s
    for a in range(6):
        for b in range(6):
            s = 1.0 if a == b else 0.0
            for r in range(m):
                s -= K[a, r] * H[r, b]
            IKH[a, b] = s
    for a in range(6):
        for b in range(6):
            s = 0.0
            for c in range(6):
                s += IKH[a, c] * P[c, b]
            T[a, b] = s
    for a in range(6):
        for b in range(a + 1):
            s = 0.0
            for c in range(6):
                s += T[a, c] * IKH[b, c]
            for r in range(m):
                s += K[a, r] * var[r] * K[b, r]
            P_out[a, b] = s
            P_out[b, a] = s


@_jit
def kalman_update(
    x: Array, P: Array, y: Array, S: Array, H: Array, var: Array
) -> tuple[Array, Array]:
    """Extended Kalman update with the Joseph form, as `update.kalman_update`."""
    p, m = y.shape
    x_new = np.empty_like(x)
    P_new = np.empty_like(P)
    L = np.zeros((m, m))
    HP = np.empty((m, 6))
    scratch = (np.empty((6, m)), np.empty(m), np.empty(m), np.empty((6, 6)), np.empty((6, 6)))
    for i in range(p):
        _cholesky(S[i], m, L)
        for r in range(m):
            for b in range(6):
                s = 0.0
                for a in range(6):
                    s += H[i, r, a] * P[i, a, b]
                HP[r, b] = s
        _gain_and_joseph(x[i], P[i], H[i], y[i], var[i], L, HP, m, scratch, x_new[i], P_new[i])
    return x_new, P_new


@_jit
def gaussian_loglik(y: Array, S: Array) -> Array:
    """log N(y; 0, S) for innovations y (p, m) and covariances S (p, m, m)."""
    p, m = y.shape
    out = np.empty(p)
    L = np.zeros((m, m))
    u = np.empty(m)
    log2pi = m * math.log(2.0 * math.pi)
    for i in range(p):
        _cholesky(S[i], m, L)
        _forward(L, m, y[i], u)
        q = 0.0
        log_det = 0.0
        for r in range(m):
            q += u[r] * u[r]
            log_det += math.log(L[r, r])
        out[i] = -0.5 * (q + 2.0 * log_det + log2pi)
    return out


def warm_up() -> None:
    """Load (or, on a machine's first run, compile) this module's kernels now, with the
    argument types the tracker passes, so that the first scan does not pay it. A no-op when
    disabled. `kernel_cache.warm_up` does it for every kernel module."""
    if not ENABLED:
        return
    mu = np.full((1, 2), 0.5)
    xm = np.zeros((1, 2, 6))
    Pm = np.broadcast_to(np.eye(6), (1, 2, 6, 6)).copy()
    x, P = xm[:, 0].copy(), Pm[:, 0].copy()
    combine(mu, xm, Pm)
    imm_predict(
        mu,
        xm,
        Pm,
        np.ones(2),
        np.ones(1),
        np.ones((2, 3)),
        np.ones(1),
        x.copy(),
        P.copy(),
        mu,
        xm,
        Pm,
        True,
        True,
    )
    H = np.eye(6)[None, :3].copy()
    y, S, var = np.zeros((1, 3)), np.broadcast_to(np.eye(3), (1, 3, 3)).copy(), np.ones((1, 3))
    gate(y, H, P, y, var, np.zeros(3, dtype=bool), 0, 1.0)
    kalman_update(x, P, y, S, H, var)
    innovation_covariance(H, P, var)
    gaussian_loglik(y, S)
    spherical(x, np.zeros(3), np.eye(3), 1e-3)
    covers(y, np.zeros(3), np.eye(3), 0.0, 1.0, -90.0, 90.0, 0.0, 360.0)
    components(np.zeros(1, dtype=np.intp), np.ones(1, dtype=np.intp), 2)
    key, slot, one = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.intp), np.ones(1)
    evidence_observe(key, one, slot, one, one, key, one, slot, one > 0, 1 << 40, 12.0, 4.0)
    order_by_high(key, slot, 1)
    one = np.ones(1, dtype=bool)
    updated_by(np.zeros((1, 1)), one, 0.0)
    vague_heights(Pm, 1.0)
    table = np.zeros((5, 2))
    logp, row = np.zeros((1, 5)), np.zeros(1, dtype=np.intp)
    label_likelihoods(logp, 0.1)
    class_store(logp, row, class_step(logp, row, np.zeros((5, 1)), 1.0), np.zeros(1))
    kinematic_evidence(
        x, P, np.zeros(1, dtype=np.intp), 1.0, (1.0, 1.0), (table, table), (1.0,) * 4
    )
    lifecycle(
        np.zeros(1, dtype=np.int8),
        np.ones(1, dtype=np.uint32),
        np.zeros((1, 1)),
        np.zeros((1, 1)),
        np.zeros(1),
        np.zeros(1),
        x,
        P,
        np.zeros(1, dtype=np.int16),
        one,
        one,
        one,
        one,
        one,
        one,
        np.ones(4, dtype=bool),
        np.ones(7, dtype=np.int64),
        np.ones(10),
    )
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    point_in_polygon(square, square)
    time_to_boundary(square, square, square)
    distance_to_polygon(square, square)
    starts = np.array([0, 4], dtype=np.intp)
    threat_levels(
        x,
        P,
        np.ones(1, dtype=np.int8),
        one,
        one,
        square,
        starts,
        np.zeros(1),
        np.ones(1),
        np.ones(1, dtype=np.int64),
        0,
        np.ones(7),
    )
    none = np.zeros(1, dtype=np.intp)
    crossings(
        square,
        y[0],
        y[0],
        none,
        none > 0,
        none.astype(np.int64),
        1,
        1,
        0.0,
        0.0,
        0.0,
        1.0,
        0.1,
        -2,
        100.0,
    )
    for el in (False, True):
        zz = np.zeros(2 if el else 1)
        triangulate(
            np.ones((1, 3)),
            zz[None],
            zz[None] + 1.0,
            np.zeros(1),
            el,
            np.zeros(3),
            np.eye(3),
            1.0,
            zz,
            zz + 1.0,
            el,
            np.zeros(3),
            np.eye(3),
            1.0,
            1.0,
            1.0,
            1.0,
            1.0,
            1e-3,
        )
