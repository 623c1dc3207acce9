"""The Kalman update (the updater), batched over assigned (track, detection) pairs."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels

Array = NDArray[np.float64]


def kalman_update(
    x: Array, P: Array, y: Array, S: Array, H: Array, var: Array
) -> tuple[Array, Array]:
    """Posterior states (p, 6) and covariances (p, 6, 6) for innovations y (p, m).

    Extended Kalman update with the linearisation H evaluated at the prediction, and the
    Joseph form for the covariance, which stays symmetric positive definite in float64 even
    for very precise measurements. `var` (p, m) is the diagonal of the measurement noise R.
    This numpy code is the reference; `kernels.kalman_update` is used when enabled.
    """
    if kernels.ENABLED:
        return kernels.kalman_update(*(np.ascontiguousarray(a) for a in (x, P, y, S, H, var)))
    PHt = P @ H.transpose(0, 2, 1)
    K = np.linalg.solve(S, PHt.transpose(0, 2, 1)).transpose(0, 2, 1)  # S is symmetric
    x_new = x + (K @ y[:, :, None])[:, :, 0]
    IKH = np.eye(x.shape[1]) - K @ H
    P_new = IKH @ P @ IKH.transpose(0, 2, 1) + (K * var[:, None, :]) @ K.transpose(0, 2, 1)
    return x_new, 0.5 * (P_new + P_new.transpose(0, 2, 1))


def innovation_covariance(H: Array, P: Array, var: Array) -> Array:
    """S = H P H' + R (p, m, m) for Jacobians H (p, m, 6), covariances P (p, 6, 6) and the
    diagonal var (p, m) of R. Reference numpy; `kernels.innovation_covariance` when enabled."""
    if kernels.ENABLED:
        return kernels.innovation_covariance(*(np.ascontiguousarray(a) for a in (H, P, var)))
    S = H @ P @ H.transpose(0, 2, 1)
    diag = np.arange(var.shape[1])
    S[:, diag, diag] += var
    return S
