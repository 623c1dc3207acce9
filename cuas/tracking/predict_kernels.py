"""Compiled IMM prediction of two-mode tracks in blocks, the tracks on the inner axis.

Every scan advances every live track (`Tracker.predict_to`): mix the two modes, predict each
by its nearly-constant-velocity block formula and its noise, combine them. `kernels.imm_predict`
does that track by track, in scalar code; here the tracks go through in blocks of `_LANES`,
each block's modes transposed (the track last), so that each scalar step of the row kernel
is one loop across the block, which the compiler turns into vector instructions, as
`update_kernels.update_modes` does for the update. For each track the operations are those
of `kernels.imm_predict` in the same order (its per-step terms taken once per run of tracks
with the same step, as there), so the results are its own to the bit; tests/test_kernels.py
holds the two together, and the numpy reference (`imm.InteractingMultipleModel`) to both.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import _another_time, _jit

Array = NDArray[np.float64]

_LANES = 32  # tracks per block


@_jit
def imm_predict_two(
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
    """`kernels.imm_predict` for two modes (same arguments, same results), in blocks of
    tracks with the track on the inner axis. `mu_out`, `xm_out`, `Pm_out` may be `mu`, `xm`,
    `Pm` (in place: a block is read whole before it is written)."""
    n = mu.shape[0]
    B = min(_LANES, max(n, 1))
    q_pp = np.empty((2, 3, B))  # each lane's Q(dt) blocks' diagonals, before its scale
    q_pv = np.empty((2, 3, B))
    q_vv = np.empty((2, 3, B))
    Pi = np.empty((2, 2, B))
    t = np.empty(B)
    sc = np.empty(B)
    m0 = np.empty(B)
    m1 = np.empty(B)
    xi = np.empty((2, 6, B))  # the lanes' modes as read
    Pi_ = np.empty((2, 6, 6, B))
    c = np.empty((2, B))
    w0 = np.empty(B)
    w1 = np.empty(B)
    x0 = np.empty((6, B))
    d = np.empty((2, 6, B))
    P0 = np.empty((6, 6, B))
    x_out = np.empty((2, 6, B))
    P_out = np.empty((2, 6, 6, B))
    xc = np.empty((6, B))
    # A run's terms, as `kernels.imm_predict` takes them once a run of equal steps.
    r_pp = np.empty((2, 3))
    r_pv = np.empty((2, 3))
    r_vv = np.empty((2, 3))
    r_Pi = np.empty((2, 2))
    last = math.nan
    for start in range(0, n, B):
        # The block: lane w is track start + w (the spare lanes of the last block repeat
        # its first track, and are not written back).
        for w in range(B):
            i = start + w if start + w < n else start
            dt_i = dt[i]
            if _another_time(dt_i, last):
                last = dt_i
                dt3, dt2 = math.pow(dt_i, 3.0), math.pow(dt_i, 2.0)
                for j in range(2):
                    for a in range(3):
                        r_pp[j, a] = q[j, a] * dt3 / 3.0
                        r_pv[j, a] = q[j, a] * dt2 / 2.0
                        r_vv[j, a] = q[j, a] * dt_i
                for k in range(2):
                    stay = math.exp(-abs(dt_i) / sojourn[k])
                    for j in range(2):
                        r_Pi[k, j] = stay if j == k else (1.0 - stay) / (2 - 1)
            t[w] = dt_i
            sc[w] = scale[i]
            for j in range(2):
                for a in range(3):
                    q_pp[j, a, w] = r_pp[j, a]
                    q_pv[j, a, w] = r_pv[j, a]
                    q_vv[j, a, w] = r_vv[j, a]
                for k in range(2):
                    Pi[k, j, w] = r_Pi[k, j]
            m0[w] = mu[i, 0]
            m1[w] = mu[i, 1]
            for k in range(2):
                for a in range(6):
                    xi[k, a, w] = xm[i, k, a]
                    for b in range(6):
                        Pi_[k, a, b, w] = Pm[i, k, a, b]
        for j in range(2):
            # Mixing: c_j, the weights, the mixed start x0, P0.
            for w in range(B):
                cj = 0.0
                cj += m0[w] * Pi[0, j, w]
                cj += m1[w] * Pi[1, j, w]
                c[j, w] = cj
                w0[w] = m0[w] * Pi[0, j, w] / cj
                w1[w] = m1[w] * Pi[1, j, w] / cj
            for a in range(6):
                for w in range(B):
                    s = 0.0
                    s += w0[w] * xi[0, a, w]
                    s += w1[w] * xi[1, a, w]
                    x0[a, w] = s
            for k in range(2):
                for a in range(6):
                    for w in range(B):
                        d[k, a, w] = xi[k, a, w] - x0[a, w]
            for a in range(6):
                for b in range(a + 1):
                    for w in range(B):
                        s = 0.0
                        s += w0[w] * (Pi_[0, a, b, w] + d[0, a, w] * d[0, b, w])
                        s += w1[w] * (Pi_[1, a, b, w] + d[1, a, w] * d[1, b, w])
                        P0[a, b, w] = s
                        P0[b, a, w] = s
            # The prediction from there.
            for a in range(3):
                for w in range(B):
                    x_out[j, a, w] = x0[a, w] + t[w] * x0[a + 3, w]
                    x_out[j, a + 3, w] = x0[a + 3, w]
            for a in range(3):
                for b in range(3):
                    for w in range(B):
                        A = P0[a, b, w]
                        Bab = P0[a, b + 3, w]
                        Bt = P0[b, a + 3, w]
                        C = P0[a + 3, b + 3, w]
                        dt_w = t[w]
                        P_out[j, a, b, w] = A + dt_w * (Bab + Bt) + dt_w * dt_w * C
                        P_out[j, a, b + 3, w] = Bab + dt_w * C
                        P_out[j, b + 3, a, w] = Bab + dt_w * C
                        P_out[j, a + 3, b + 3, w] = C
                for w in range(B):
                    P_out[j, a, a, w] += sc[w] * q_pp[j, a, w]
                    P_out[j, a, a + 3, w] += sc[w] * q_pv[j, a, w]
                    P_out[j, a + 3, a, w] += sc[w] * q_pv[j, a, w]
                    P_out[j, a + 3, a + 3, w] += sc[w] * q_vv[j, a, w]
        if write_combined:  # `kernels._combine_into`, written out as in the row kernel
            for a in range(6):
                for w in range(B):
                    s = 0.0
                    s += c[0, w] * x_out[0, a, w]
                    s += c[1, w] * x_out[1, a, w]
                    xc[a, w] = s
            for j in range(2):
                for a in range(6):
                    for w in range(B):
                        d[j, a, w] = x_out[j, a, w] - xc[a, w]
            for a in range(6):
                for b in range(a + 1):
                    for w in range(B):
                        s = 0.0
                        s += c[0, w] * (P_out[0, a, b, w] + d[0, a, w] * d[0, b, w])
                        s += c[1, w] * (P_out[1, a, b, w] + d[1, a, w] * d[1, b, w])
                        P0[a, b, w] = s  # the mixed start is read no more: its space
        for w in range(min(B, n - start)):
            i = start + w
            if write_modes:
                for j in range(2):
                    mu_out[i, j] = c[j, w]
                    for a in range(6):
                        xm_out[i, j, a] = x_out[j, a, w]
                        for b in range(6):
                            Pm_out[i, j, a, b] = P_out[j, a, b, w]
            if write_combined:
                for a in range(6):
                    x[i, a] = xc[a, w]
                    for b in range(a + 1):
                        P[i, a, b] = P0[a, b, w]
                        P[i, b, a] = P0[a, b, w]


def warm_up() -> None:
    """Load (or compile) the kernel with the argument types `imm` passes."""
    if not kernels.ENABLED:
        return
    mu = np.full((1, 2), 0.5)
    xm = np.zeros((1, 2, 6))
    Pm = np.broadcast_to(np.eye(6), (1, 2, 6, 6)).copy()
    x, P = xm[:, 0].copy(), Pm[:, 0].copy()
    one = np.ones(1)
    imm_predict_two(mu, xm, Pm, np.ones(2), one, np.ones((2, 3)), one, x, P, mu, xm, Pm, True, True)
