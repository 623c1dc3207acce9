"""Compiled radar measurement model: the prediction of many tracks' measurements and the
initiation of tracks from plots, each in one pass (`measurements.RadarModel`: the reference).

The tracker predicts a radar's measurements twice a scan (gating on the tracks, the update on
their modes). The geometry was already one compiled pass (`kernels.spherical`); the
range-rate row then took a dozen numpy calls (three matrix products, an einsum, broadcasts),
most of the prediction's time at a few hundred tracks. Initiating tracks from a scan's
clutter plots (a few a scan) took some forty small numpy calls. Here each is one pass, every
sum rounded as numpy computes it on this machine, so the results are the numpy path's to the
bit: OpenBLAS's matrix products (of 3-vectors and 3x3 matrices) as a chain of fused
multiply-adds from the first column (from the second for a single vector times a transposed
matrix, which numpy hands to gemv), einsum's row sums of three products as (p0 + p2) + p1
(two SIMD lanes, the third product added to the first's), a norm's squares as (s0 + s1) + s2.
The sums start from +0.0, so a zero comes out +0.0. The sines and cosines of initiation stay
numpy's (its vectorised ones differ from the C library's in the last bit).
tests/test_kernels.py holds the two paths equal to the bit.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import _jit, spherical
from cuas.tracking.sight_kernels import _fma

Array = NDArray[np.float64]


@_jit
def _row_times(a0: float, a1: float, a2: float, B: Array, j: int, gemv: bool) -> float:
    """(a0, a1, a2) @ B[:, j], rounded as numpy's matmul does it here (see the module doc)."""
    if gemv:
        return _fma(a2, B[2, j], _fma(a0, B[0, j], a1 * B[1, j])) + 0.0
    return _fma(a2, B[2, j], _fma(a1, B[1, j], a0 * B[0, j])) + 0.0


@_jit
def radar_predict(
    x: Array, origin: Array, rotation: Array, min_range: float, with_range_rate: bool
) -> tuple[Array, Array]:
    """Predicted measurements (n, 3 or 4) and Jacobians (n, 3 or 4, 6) of states x (n, 6)
    seen by a radar at `origin` with the camp-to-local `rotation`, as `RadarModel.predict`."""
    local, rng, az, el, J = spherical(x, origin, rotation, min_range)
    n = x.shape[0]
    m = 4 if with_range_rate else 3
    zhat = np.empty((n, m))
    H = np.zeros((n, m, 6))
    RT = rotation.T
    gemv = n == 1  # numpy's matmul of one vector by the transposed rotation
    v = np.empty(3)
    los = np.empty(3)
    w = np.empty(3)
    for i in range(n):
        zhat[i, 0] = rng[i]
        zhat[i, 1] = az[i]
        zhat[i, 2] = el[i]
        for a in range(3):
            for b in range(3):
                H[i, a, b] = J[i, a, b]
        if not with_range_rate:
            continue
        r = rng[i]
        for a in range(3):  # v = x[VEL] @ rotation.T; los = local / range
            v[a] = _row_times(x[i, 3], x[i, 4], x[i, 5], RT, a, gemv)
            los[a] = local[i, a] / r
        rr = 0.0 + ((los[0] * v[0] + los[2] * v[2]) + los[1] * v[1])
        zhat[i, 3] = rr
        for a in range(3):
            w[a] = (v[a] - rr * los[a]) / r
        for a in range(3):  # H[3, POS] = w @ rotation; H[3, VEL] = los @ rotation
            H[i, 3, a] = _row_times(w[0], w[1], w[2], rotation, a, False)
            H[i, 3, 3 + a] = _row_times(los[0], los[1], los[2], rotation, a, False)
    return zhat, H


@_jit
def _times(A: Array, B: Array, out: Array) -> None:
    """out = A @ B for 3x3 matrices, rounded as numpy's matmul does it here."""
    for i in range(3):
        for j in range(3):
            out[i, j] = _row_times(A[i, 0], A[i, 1], A[i, 2], B, j, False)


@_jit
def radar_initiate(
    z: Array,
    var: Array,
    ca: Array,
    sa: Array,
    ce: Array,
    se: Array,
    origin: Array,
    rotation: Array,
) -> tuple[Array, Array]:
    """Positions (k, 3) and covariances (k, 3, 3) in the camp frame of plots z (k, >= 3) of
    variances var, given the cosines and sines of their azimuths (ca, sa) and elevations
    (ce, se), as `RadarModel.initiate`."""
    k = z.shape[0]
    pos = np.empty((k, 3))
    cov = np.empty((k, 3, 3))
    J = np.empty((3, 3))
    Jv = np.empty((3, 3))
    C = np.empty((3, 3))
    M = np.empty((3, 3))
    local = np.empty(3)
    RT = rotation.T
    for i in range(k):
        rng = z[i, 0]
        c_a, s_a, c_e, s_e = ca[i], sa[i], ce[i], se[i]
        local[0] = rng * c_e * s_a
        local[1] = rng * c_e * c_a
        local[2] = rng * s_e
        # Columns: d/drange, d/daz, d/del of the local position.
        J[0, 0], J[1, 0], J[2, 0] = c_e * s_a, c_e * c_a, s_e
        J[0, 1], J[1, 1], J[2, 1] = rng * c_e * c_a, -rng * c_e * s_a, 0.0
        J[0, 2], J[1, 2], J[2, 2] = -rng * s_e * s_a, -rng * s_e * c_a, rng * c_e
        for a in range(3):
            for c in range(3):
                Jv[a, c] = J[a, c] * var[i, c]
        _times(Jv, J.T, C)  # the local covariance J diag(var) J'
        for a in range(3):  # to the camp frame
            pos[i, a] = _row_times(local[0], local[1], local[2], rotation, a, False) + origin[a]
        _times(RT, C, M)
        _times(M, rotation, cov[i])
    return pos, cov


@_jit
def radar_velocity_prior(
    z: Array, var: Array, pos: Array, origin: Array, V: Array, min_range: float
) -> tuple[Array, Array]:
    """Initial velocities (k, 3) and covariances (k, 3, 3) of tracks at `pos` from plots z
    (k, 4) with range-rate, given the default prior V (3, 3), as
    `RadarModel.velocity_prior`: measured along the line of sight, V across it."""
    k = z.shape[0]
    vel = np.empty((k, 3))
    cov = np.empty((k, 3, 3))
    los = np.empty(3)
    outer = np.empty((3, 3))
    across = np.empty((3, 3))
    AV = np.empty((3, 3))
    for i in range(k):
        d0, d1, d2 = pos[i, 0] - origin[0], pos[i, 1] - origin[1], pos[i, 2] - origin[2]
        norm = max(math.sqrt((d0 * d0 + d1 * d1) + d2 * d2), min_range)
        los[0], los[1], los[2] = d0 / norm, d1 / norm, d2 / norm
        for a in range(3):
            vel[i, a] = z[i, 3] * los[a]
            for b in range(3):
                outer[a, b] = los[a] * los[b]
                across[a, b] = (1.0 if a == b else 0.0) - outer[a, b]
        _times(across, V, AV)
        _times(AV, across, cov[i])
        for a in range(3):
            for b in range(3):
                cov[i, a, b] += var[i, 3] * outer[a, b]
    return vel, cov


def warm_up() -> None:
    """Load (or compile) these kernels with the tracker's argument types."""
    if not kernels.ENABLED:
        return
    x, z, R = np.ones((1, 6)), np.ones((1, 4)), np.eye(3)
    radar_predict(x, np.zeros(3), R, 1e-3, True)
    one = np.ones(1)
    pos, _ = radar_initiate(z, z, one, one, one, one, np.zeros(3), R)
    radar_velocity_prior(z, z, pos, np.zeros(3), R, 1e-3)
