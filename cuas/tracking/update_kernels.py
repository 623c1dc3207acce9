"""Compiled IMM update of a scan's assigned tracks: one pass for the filter, one for the store.

At 50k radar detections a second the tracker updates some 500 tracks per scan, each in two
motion modes. The numpy path takes about a dozen calls for that (residuals, innovation
covariances, Kalman gains and the Joseph form, likelihoods, the mode mixture, the writes
back into the track table), each making its own temporaries, and factors every innovation
covariance twice. Here the per-mode work is one loop (`update_modes`, over blocks of rows
with the rows on the inner axis, so that each step is a vector instruction across rows) and
the write-back with the modes' combination another (`store_modes`). Between them, the mode
posterior's exp and log stay numpy's own (which differ from the C library's in the last
bit): the rest of it is `shift_log_weights` before them and `store_posterior` after, which
goes on to the store.

The arithmetic is that of `kernels.innovation_covariance`, `kernels.kalman_update`,
`kernels.gaussian_loglik`, `imm.posterior_modes` and `kernels.combine`, in the same order,
so the results are theirs to the bit. The references are `update.update_modes`,
`update.store_updated_modes` and `TrackTable.store_modes`'s numpy code, used when
`kernels.ENABLED` is off; tests/test_kernels.py compares the two.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import (
    _cholesky,
    _forward,
    _gain_and_joseph,
    _jit,
    _sandwich,
    _wrap,
)

Array = NDArray[np.float64]
Index = NDArray[np.intp]


_LANES = 32  # mode rows per block of `update_modes`


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
    `update.update_modes`.

    Rows go through in blocks, each block's matrices transposed (the row last) so that each
    scalar step of `_update_rows` is one loop across the block, which the compiler turns
    into vector instructions: for each row the same operations in the same order, so the
    same results to the bit, at about a third of the time. (The block's width is left to
    run time: a loop of a known eight or sixteen is unrolled into scalar code instead.) An
    innovation covariance that is not positive definite (never, with R > 0) sends the whole
    call to `_update_rows`, whose factor then keeps what it had."""
    q, m = zhat.shape
    x_new = np.empty((q, 6))
    P_new = np.empty((q, 6, 6))
    loglik = np.empty(q)
    B = min(_LANES, max(q, 1))
    x = np.empty((6, B))
    P = np.empty((6, 6, B))
    Hb = np.empty((m, 6, B))
    y = np.empty((m, B))
    v_r = np.empty((m, B))
    HP = np.empty((6, m, B))  # (H P)': a column of H P per row of it
    S = np.empty((m, m, B))
    L = np.empty((m, m, B))
    u = np.empty((m, B))
    v = np.empty((m, B))
    K = np.empty((6, m, B))
    IKH = np.empty((6, 6, B))
    T = np.empty((6, 6, B))
    acc = np.empty(B)
    log2pi = m * math.log(2.0 * math.pi)
    for start in range(0, q, B):
        # The block: lane w is row start + w (the spare lanes of the last block repeat its
        # first row, and are not written back).
        for w in range(B):
            i = start + w if start + w < q else start
            k = i // modes
            d = det[k]
            for a in range(6):
                x[a, w] = xm[i, a]
                for b in range(6):
                    P[a, b, w] = Pm[i, a, b]
            for r in range(m):
                e = z[d, r] - zhat[i, r]
                y[r, w] = _wrap(e) if wrap[r] else e
                v_r[r, w] = var[k, r]
                for a in range(6):
                    Hb[r, a, w] = H[i, r, a]
        # S = H P H' + R, keeping H P for the gain (`kernels._sandwich`; the sums written
        # out start from 0.0, as the loops do, so that a product of -0.0 adds alike)
        for r in range(m):
            for b in range(6):
                for w in range(B):
                    HP[b, r, w] = (
                        0.0
                        + Hb[r, 0, w] * P[0, b, w]
                        + Hb[r, 1, w] * P[1, b, w]
                        + Hb[r, 2, w] * P[2, b, w]
                        + Hb[r, 3, w] * P[3, b, w]
                        + Hb[r, 4, w] * P[4, b, w]
                        + Hb[r, 5, w] * P[5, b, w]
                    )
        for r in range(m):
            for c in range(m):
                for w in range(B):
                    S[r, c, w] = (
                        0.0
                        + HP[0, r, w] * Hb[c, 0, w]
                        + HP[1, r, w] * Hb[c, 1, w]
                        + HP[2, r, w] * Hb[c, 2, w]
                        + HP[3, r, w] * Hb[c, 3, w]
                        + HP[4, r, w] * Hb[c, 4, w]
                        + HP[5, r, w] * Hb[c, 5, w]
                    )
            for w in range(B):
                S[r, r, w] += v_r[r, w]
        # Its Cholesky factor (`kernels._cholesky`)
        definite = True
        for i in range(m):
            for j in range(i + 1):
                for w in range(B):
                    acc[w] = S[i, j, w]
                for k in range(j):
                    for w in range(B):
                        acc[w] -= L[i, k, w] * L[j, k, w]
                if i == j:
                    for w in range(B):
                        definite &= not acc[w] <= 0.0
                    for w in range(B):
                        L[i, i, w] = math.sqrt(acc[w])
                else:
                    for w in range(B):
                        L[i, j, w] = acc[w] / L[j, j, w]
        if not definite:
            return _update_rows(xm, Pm, zhat, H, z, det, var, wrap, modes)
        # The likelihood (`kernels.gaussian_loglik`)
        _forward_lanes(L, m, y, u, acc)
        for w in range(min(B, q - start)):
            quad = 0.0
            log_det = 0.0
            for r in range(m):
                quad += u[r, w] * u[r, w]
                log_det += math.log(L[r, r, w])
            loglik[start + w] = -0.5 * (quad + 2.0 * log_det + log2pi)
        # The gain and the Joseph form (`kernels._gain_and_joseph`)
        for b in range(6):  # K' = S^-1 H P (P symmetric), one column of H P at a time
            _forward_lanes(L, m, HP[b], u, acc)
            _backward_lanes(L, m, u, v, acc)
            for r in range(m):
                for w in range(B):
                    K[b, r, w] = v[r, w]
        for a in range(6):
            for w in range(B):
                acc[w] = x[a, w]
            for r in range(m):
                for w in range(B):
                    acc[w] += K[a, r, w] * y[r, w]
            for w in range(B):
                x[a, w] = acc[w]
        for a in range(6):
            for b in range(6):
                for w in range(B):
                    acc[w] = 1.0 if a == b else 0.0
                for r in range(m):
                    for w in range(B):
                        acc[w] -= K[a, r, w] * Hb[r, b, w]
                for w in range(B):
                    IKH[a, b, w] = acc[w]
        for a in range(6):
            for b in range(6):
                for w in range(B):
                    T[a, b, w] = (
                        0.0
                        + IKH[a, 0, w] * P[0, b, w]
                        + IKH[a, 1, w] * P[1, b, w]
                        + IKH[a, 2, w] * P[2, b, w]
                        + IKH[a, 3, w] * P[3, b, w]
                        + IKH[a, 4, w] * P[4, b, w]
                        + IKH[a, 5, w] * P[5, b, w]
                    )
        for a in range(6):
            for b in range(a + 1):
                for w in range(B):
                    acc[w] = (
                        0.0
                        + T[a, 0, w] * IKH[b, 0, w]
                        + T[a, 1, w] * IKH[b, 1, w]
                        + T[a, 2, w] * IKH[b, 2, w]
                        + T[a, 3, w] * IKH[b, 3, w]
                        + T[a, 4, w] * IKH[b, 4, w]
                        + T[a, 5, w] * IKH[b, 5, w]
                    )
                for r in range(m):
                    for w in range(B):
                        acc[w] += K[a, r, w] * v_r[r, w] * K[b, r, w]
                for w in range(B):
                    P[a, b, w] = acc[w]  # the prior's (a, b) is read no more
        for w in range(min(B, q - start)):
            i = start + w
            for a in range(6):
                x_new[i, a] = x[a, w]
                for b in range(a + 1):
                    P_new[i, a, b] = P[a, b, w]
                    P_new[i, b, a] = P[a, b, w]
    return x_new, P_new, loglik


@_jit
def _forward_lanes(L: Array, m: int, b: Array, u: Array, acc: Array) -> None:
    """u = L^-1 b in every lane (`kernels._forward`)."""
    B = acc.shape[0]
    for i in range(m):
        for w in range(B):
            acc[w] = b[i, w]
        for k in range(i):
            for w in range(B):
                acc[w] -= L[i, k, w] * u[k, w]
        for w in range(B):
            u[i, w] = acc[w] / L[i, i, w]


@_jit
def _backward_lanes(L: Array, m: int, u: Array, v: Array, acc: Array) -> None:
    """v = L'^-1 u in every lane (`kernels._backward`)."""
    B = acc.shape[0]
    for i in range(m - 1, -1, -1):
        for w in range(B):
            acc[w] = u[i, w]
        for k in range(i + 1, m):
            for w in range(B):
                acc[w] -= L[k, i, w] * v[k, w]
        for w in range(B):
            v[i, w] = acc[w] / L[i, i, w]


@_jit
def _update_rows(
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
    """`update_modes` one row at a time, each innovation covariance factored once: the
    arithmetic that the blocks of `update_modes` repeat across rows."""
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
    mode_p, mode_x, mode_P, and their combination into x, P, as `TrackTable.store_modes`.

    The combination is `kernels._combine_into` written out (its sums in its order, so the
    same bits): called per track with views of the track's modes, the call and its array
    arguments cost as much as the arithmetic, as in the IMM predict."""
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
        if M == 1:
            for a in range(6):
                x[row, a] = xm[k, 0, a]
                for b in range(6):
                    P[row, a, b] = Pm[k, 0, a, b]
            continue
        for a in range(6):
            s = 0.0
            for j in range(M):
                s += mu[k, j] * xm[k, j, a]
            x[row, a] = s
        for j in range(M):
            for a in range(6):
                d[j, a] = xm[k, j, a] - x[row, a]
        for a in range(6):  # symmetric: the lower triangle, mirrored
            for b in range(a + 1):
                s = 0.0
                for j in range(M):
                    s += mu[k, j] * (Pm[k, j, a, b] + d[j, a] * d[j, b])
                P[row, a, b] = s
                P[row, b, a] = s


@_jit
def shift_log_weights(logw: Array, loglik: Array) -> None:
    """The mode posterior's log weights in place: logw (p, M) (the logs of the floored prior
    mode probabilities) plus the modes' log-likelihoods loglik (p * M,), less each row's
    largest (numpy's maximum: a NaN wins), as in `imm.posterior_modes`."""
    p, M = logw.shape
    for i in range(p):
        top = 0.0
        for j in range(M):
            v = logw[i, j] + loglik[i * M + j]
            logw[i, j] = v
            if j == 0 or (top == top and (v > top or v != v)):
                top = v
        for j in range(M):
            logw[i, j] = logw[i, j] - top


@_jit
def store_posterior(
    rows: Index,
    w: Array,
    located: NDArray[np.bool_],
    status: NDArray[np.int8],
    tentative: int,
    quiet: Array,
    floor: float,
    xm: Array,
    Pm: Array,
    mode_p: Array,
    mode_x: Array,
    mode_P: Array,
    x: Array,
    P: Array,
) -> None:
    """From the exponentiated shifted log weights w (p, M), M at most 3 (a row's sum is then
    numpy's, in its order): the mode probabilities as `imm.posterior_modes` makes them
    (normalised, floored at `floor`, normalised), or `quiet` for tracks still `tentative`
    or not `located`; then stored with the updated modes xm (p * M, 6), Pm (p * M, 6, 6)
    as `store_modes` does."""
    p, M = w.shape
    mu = np.empty((p, M))
    for k in range(p):
        if status[rows[k]] == tentative or not located[k]:
            for j in range(M):
                mu[k, j] = quiet[j]
            continue
        s = w[k, 0]
        for j in range(1, M):
            s += w[k, j]
        t = 0.0
        for j in range(M):
            a = w[k, j] / s
            a = floor if a < floor else a  # numpy's maximum (a NaN stays)
            mu[k, j] = a
            t = a if j == 0 else t + a
        for j in range(M):
            mu[k, j] = mu[k, j] / t
    store_modes(
        rows,
        mu,
        xm.reshape(p, M, 6),
        Pm.reshape(p, M, 6, 6),
        mode_p,
        mode_x,
        mode_P,
        x,
        P,
    )


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
    shift_log_weights(mu, np.zeros(1))
    status, located = np.zeros(1, dtype=np.int8), np.ones(1, dtype=np.bool_)
    store_posterior(
        det, mu, located, status, 0, np.ones(1), 1e-4, x, P, mu, x[:, None], P[:, None], x, P
    )
