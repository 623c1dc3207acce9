"""The Kalman update (the updater), batched over assigned (track, detection) pairs, and the
IMM's update of every motion mode of the assigned tracks: the modes' filters, their
reweighing and the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels, update_kernels
from cuas.tracking.imm import MU_FLOOR, gaussian_loglik, posterior_modes
from cuas.tracking.measurements import MeasurementModel

if TYPE_CHECKING:
    from cuas.tracking.tracks import TrackTable

Array = NDArray[np.float64]
Index = NDArray[np.intp]


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


def update_modes(
    model: MeasurementModel, xm: Array, Pm: Array, z: Array, det: Index, var: Array, modes: int
) -> tuple[Array, Array, Array]:
    """Kalman-update the IMM's mode rows xm (p * modes, 6), Pm (p * modes, 6, 6), a track's
    modes consecutive, with their tracks' detections z[det] of variances var (p, m):
    posterior states, covariances and the innovations' log-likelihoods (p * modes,).

    The measurement model's prediction stays numpy (the range-rate row uses matrix
    products); the rest is one compiled pass (`update_kernels.update_modes`) when enabled,
    this numpy code otherwise."""
    zhat, H = model.predict(xm)
    if kernels.ENABLED:
        return update_kernels.update_modes(
            np.ascontiguousarray(xm),
            np.ascontiguousarray(Pm),
            zhat,
            H,
            np.ascontiguousarray(z),
            det,
            np.ascontiguousarray(var),
            model.wrap,
            modes,
        )
    var = np.repeat(var, modes, axis=0)
    y = model.residual(np.repeat(z[det], modes, axis=0), zhat)
    S = innovation_covariance(H, Pm, var)
    x_new, P_new = kalman_update(xm, Pm, y, S, H, var)
    return x_new, P_new, gaussian_loglik(y, S)


def store_updated_modes(
    table: TrackTable,
    rows: Index,
    c: Array,
    loglik: Array,
    xm: Array,
    Pm: Array,
    located: NDArray[np.bool_],
    quiet: Array,
    tentative: int,
) -> None:
    """Reweigh the modes of tracks `rows` (prior probabilities c (p, M)) by the updates'
    log-likelihoods loglik (p * M,) (`imm.posterior_modes`), or set them to `quiet` for
    tentative tracks (status `tentative`) and those not `located` (p,); store them with the
    updated mode rows xm (p * M, 6), Pm (p * M, 6, 6) and their combination.

    With the kernels (and at most three modes), the log and exp stay numpy's and the rest is
    two compiled passes (`update_kernels.shift_log_weights`, `store_posterior`) in this
    numpy code's arithmetic; this numpy code otherwise."""
    p, m = c.shape
    if kernels.ENABLED and m <= 3:
        logw = np.log(np.maximum(c, MU_FLOOR))
        update_kernels.shift_log_weights(logw, loglik)
        np.exp(logw, out=logw)
        update_kernels.store_posterior(
            rows,
            logw,
            located,
            table.status,
            tentative,
            quiet,
            MU_FLOOR,
            xm,
            Pm,
            table.mode_p,
            table.mode_x,
            table.mode_P,
            table.x,
            table.P,
        )
        return
    mu = posterior_modes(c, loglik.reshape(p, m))
    mu[(table.status[rows] == tentative) | ~located] = quiet
    table.store_modes(rows, mu, xm.reshape(p, m, -1), Pm.reshape(p, m, *Pm.shape[1:]))
