"""Motion model: nearly-constant velocity in 3-D, state [e, n, u, ve, vn, vu]."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

STATE_DIM = 6
POS = slice(0, 3)
VEL = slice(3, 6)


@dataclass(frozen=True)
class NearlyConstantVelocity:
    """Continuous white-noise acceleration model, discretised exactly.

    `q_h` and `q_v` are the acceleration noise spectral densities (m^2/s^3) of the horizontal
    and vertical axes; sigma^2 of a white acceleration over ~1 s. Because the discretisation
    is exact, predicting in several steps equals predicting in one.
    """

    q_h: float
    q_v: float

    @property
    def q(self) -> Array:
        return np.array([self.q_h, self.q_h, self.q_v])

    def transition(self, dt: float) -> Array:
        """F(dt), the 6x6 state transition matrix."""
        F = np.eye(STATE_DIM)
        F[POS, VEL] = dt * np.eye(3)
        return F

    def noise(self, dt: float | Array) -> Array:
        """Q(dt), the 6x6 process noise covariance; (n, 6, 6) for times dt (n,)."""
        dt = np.asarray(dt, dtype=np.float64)[..., None, None]
        q = np.diag(self.q)
        Q = np.empty((*dt.shape[:-2], STATE_DIM, STATE_DIM))
        Q[..., POS, POS] = q * dt**3 / 3.0
        Q[..., POS, VEL] = q * dt**2 / 2.0
        Q[..., VEL, POS] = q * dt**2 / 2.0
        Q[..., VEL, VEL] = q * dt
        return Q

    def predict(
        self, x: Array, P: Array, dt: float | Array, noise_scale: Array | None = None
    ) -> tuple[Array, Array]:
        """Predict states (n, 6) and covariances (n, 6, 6) forward by `dt` seconds: one time
        for all, or each track its own (dt of shape (n,)).

        `noise_scale` (n,), if given, multiplies each track's process noise (a track that
        only bearings place assumes gentler motion: see `Tracker`). Uses the block
        structure of F instead of two dense 6x6 products per track.
        """
        d = np.asarray(dt, dtype=np.float64)[..., None, None]  # () or (n,), as (.., 1, 1)
        x = x.copy()
        x[:, POS] += d[..., 0] * x[:, VEL]
        A = P[:, POS, POS]
        B = P[:, POS, VEL]
        C = P[:, VEL, VEL]
        out = np.empty_like(P)
        B_new = B + d * C
        out[:, POS, POS] = A + d * (B + B.transpose(0, 2, 1)) + d * d * C
        out[:, POS, VEL] = B_new
        out[:, VEL, POS] = B_new.transpose(0, 2, 1)
        out[:, VEL, VEL] = C
        if noise_scale is None:
            out += self.noise(dt)
        else:
            out += noise_scale[:, None, None] * self.noise(dt)
        return x, out
