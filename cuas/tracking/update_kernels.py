"""Compiled IMM update of a scan's assigned tracks: one pass for the filter, one for the store.

At 50k radar detections a second the tracker updates some 500 tracks per scan, each in two
motion modes. The numpy path takes about a dozen calls for that (residuals, innovation
covariances, Kalman gains and the Joseph form, likelihoods, the mode mixture, the writes
back into the track table), each making its own temporaries, and factors every innovation
covariance twice. Here the per-mode work is one loop (`update_modes`) and the write-back
with the modes' combination another (`store_modes`). The mode posterior between them stays
in numpy: its exp and log are numpy's own, which differ from the C library's in the last
bit.

The arithmetic is that of `kernels.innovation_covariance`, `kernels.kalman_update`,
`kernels.gaussian_loglik` and `kernels.combine`, in the same order, so the results are
theirs to the bit. The references are `update.update_modes` and `TrackTable.store_modes`'s
numpy code, used when `kernels.ENABLED` is off; tests/test_kernels.py compares the two.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import (
    _cholesky,
    _combine_local,
    _forward,
    _gain_and_joseph,
    _jit,
    _sandwich,
    _wrap,
)

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@_jit
def update_modes(
    xm: Array,
    Pm: Array,
    zhat: Array,
    H: Array,
    z: Array,
    det: Index,
    var: Array,
    wrap: NDArray[np.bool_],
    modes: int,
) -> tuple[Array, Array, Array]:
    """Kalman-update mode rows xm (q, 6), Pm (q, 6, 6) (q = p * modes, a track's modes
    consecutive) with their tracks' detections z[det] (variances var (p, m)), given the
    predicted measurements zhat (q, m) and Jacobians H (q, m, 6): posterior states,
    covariances (Joseph form) and the log-likelihoods (q,) of the innovations, as
    `update.update_modes`. Each innovation covariance is factored once."""
    q, m = zhat.shape
    x_new = np.empty((q, 6))
    P_new = np.empty((q, 6, 6))
    loglik = np.empty(q)
    y = np.empty(m)
    v_r = np.empty(m)
    S = np.empty((m, m))
    L = np.zeros((m, m))
    HP = np.empty((m, 6))
    u = np.empty(m)
    scratch = (np.empty((6, m)), np.empty(m), np.empty(m), np.empty((6, 6)), np.empty((6, 6)))
    log2pi = m * math.log(2.0 * math.pi)
    for i in range(q):
        k = i // modes
        d = det[k]
        for r in range(m):
            e = z[d, r] - zhat[i, r]
            y[r] = _wrap(e) if wrap[r] else e
            v_r[r] = var[k, r]
        _sandwich(H, Pm, i, m, HP, S)  # S = H P H' + R, keeping H P for the gain
        for r in range(m):
            S[r, r] += v_r[r]
        _cholesky(S, m, L)
        _forward(L, m, y, u)  # the likelihood, as `kernels.gaussian_loglik`
        quad = 0.0
        log_det = 0.0
        for r in range(m):
            quad += u[r] * u[r]
            log_det += math.log(L[r, r])
        loglik[i] = -0.5 * (quad + 2.0 * log_det + log2pi)
        _gain_and_joseph(xm[i], Pm[i], H[i], y, v_r, L, HP, m, scratch, x_new[i], P_new[i])
    return x_new, P_new, loglik


@_jit
def store_modes(
    rows: Index,
    mu: Array,
    xm: Array,
    Pm: Array,
    mode_p: Array,
    mode_x: Array,
    mode_P: Array,
    x: Array,
    P: Array,
) -> None:
    """Write modes mu (p, M), xm (p, M, 6), Pm (p, M, 6, 6) into the table rows `rows` of
    mode_p, mode_x, mode_P, and their combination into x, P, as `TrackTable.store_modes`."""
    M = mu.shape[1]
    d = np.empty((M, 6))
    for k in range(rows.shape[0]):
        row = rows[k]
        for j in range(M):
            mode_p[row, j] = mu[k, j]
            for a in range(6):
                mode_x[row, j, a] = xm[k, j, a]
                for b in range(6):
                    mode_P[row, j, a, b] = Pm[k, j, a, b]
        _combine_local(mu[k], xm[k], Pm[k], x, P, row, d)


def warm_up() -> None:
    """Load (or compile) these kernels with the tracker's argument types."""
    if not kernels.ENABLED:
        return
    H = np.eye(6)[None, :3].copy()
    x, P = np.zeros((1, 6)), np.eye(6)[None].copy()
    det = np.zeros(1, dtype=np.intp)
    y, var = np.zeros((1, 3)), np.ones((1, 3))
    update_modes(x, P, y, H, y, det, var, np.zeros(3, dtype=bool), 1)
    mu = np.ones((1, 1))
    store_modes(det, mu, x[:, None], P[:, None], mu, x[:, None], P[:, None], x, P)
