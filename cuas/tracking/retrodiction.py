"""Out-of-sequence measurements: fusing a report measured before the tracker's current time.

A report that arrives after the reorder window has released later ones cannot be fused in
order. Instead of dropping it, each track is *retrodicted* to the report's time, the report
is gated and associated there, and the current state is updated through the cross-
covariance between now and then (Bar-Shalom, "Update with out-of-sequence measurements in
tracking: exact solution", IEEE TAES 2002, one-step-lag form).

Bar-Shalom's approximate variant subtracts the process noise from the posterior covariance,
which can lose positive definiteness right after a precise update. This module uses the
conservative counterpart instead, with d = t_now - t_meas and F = F(-d):

    x_d  = F x                      retrodicted state
    P_d  = F (P + Q(d)) F'          its covariance, inflated by the noise in between
    C    = P F' H'                  cross-covariance of the current state and the prediction
    S    = H P_d H' + R
    x   += C S^-1 (z - h(x_d))
    P   -= C S^-1 C'

Since S >= H F P F' H' + R, the update is never more confident than an in-sequence one, and
P stays positive semi-definite.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.motion import NearlyConstantVelocity

Array = NDArray[np.float64]


def retrodict(
    motion: NearlyConstantVelocity, x: Array, P: Array, lag: float
) -> tuple[Array, Array]:
    """States (n, 6) and covariances (n, 6, 6) at `lag` seconds before now."""
    F = motion.transition(-lag)
    return x @ F.T, F @ (P + motion.noise(lag)) @ F.T


def late_update(
    motion: NearlyConstantVelocity,
    x: Array,
    P: Array,
    lag: float,
    y: Array,
    S: Array,
    H: Array,
) -> tuple[Array, Array]:
    """Current states and covariances of tracks updated with measurements `lag` s old.

    `y`, `S` and `H` are the innovation, its covariance and the measurement Jacobian at the
    retrodicted states (as the gating stage computes them).
    """
    F = motion.transition(-lag)
    C = P @ F.T @ H.transpose(0, 2, 1)  # (p, 6, m)
    W = np.linalg.solve(S, C.transpose(0, 2, 1)).transpose(0, 2, 1)  # C S^-1 (S symmetric)
    x_new = x + (W @ y[:, :, None])[:, :, 0]
    P_new = P - W @ C.transpose(0, 2, 1)
    return x_new, 0.5 * (P_new + P_new.transpose(0, 2, 1))
