"""Interacting multiple model (IMM): several motion models per track, mixed every step.

A drone that cruises and then weaves, turns or dives is not well served by one noise level:
a quiet nearly-constant-velocity model follows a cruise precisely but loses a weave, and a
noisy one follows the weave but blurs the cruise. The IMM (Blom and Bar-Shalom, 1988) runs
both, each mode with its own state and covariance, and weighs them by how well each
predicted the measurements. Modes switch as a Markov chain; its switching over `dt` seconds
comes from each mode's mean sojourn time tau: P(stay) = exp(-dt / tau), a mode left for
each other mode alike.

The tracker runs three (`tracker.motion_model`): cruise (2 m/s^2, where a track starts), a
steady mode (0.5 m/s^2) and a manoeuvre mode (15 m/s^2). With cruise and manoeuvre alone a
track's velocity stayed vague by 2 m/s however long the drone flew straight, so the plot of a
drone overtaking its neighbour in a swarm at 4 m/s fitted either track about as well, and the
tracks swapped drones; in the steady mode a straight flier's track knows its velocity to a
few tenths. A bird is never steady (`bar`): a flock's tracks that took the steady mode in a
calm second lost their birds at the next turn; nor is any track while no radar is at work
(the tracker's `_update`). The steady mode is left within 20 s on average, so
that a drone starting a hard turn finds the manoeuvre mode at hand (left in a minute, the
track's errors in such a turn were three times its published covariance).

Per step, for states of many tracks at once (mode index j, k):
- mix: c_j = sum_i mu_i Pi_ij; w_ij = mu_i Pi_ij / c_j; x0_j = sum_i w_ij x_i;
  P0_j = sum_i w_ij (P_i + (x_i - x0_j)(x_i - x0_j)');
- predict each mode from its mixed start with its own model; mode probabilities become c;
- update each mode with the measurement; mu_j is proportional to c_j N(y_j; 0, S_j);
- combine: x = sum_j mu_j x_j, P = sum_j mu_j (P_j + (x_j - x)(x_j - x)').
The combined estimate is what gating, lifecycle and the published track use. With one mode
the IMM is exactly the single Kalman filter.

Mode probabilities are floored at `MU_FLOOR`, so a mode never dies out and can always take
over when the target starts or stops manoeuvring. A track starts, and stays while tentative,
in the quiet mode (`quiet`): the tracker does not let clutter that happens to line up win the
manoeuvre mode, whose wider gate would then catch more clutter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.motion import NearlyConstantVelocity

Array = NDArray[np.float64]
MU_FLOOR = 1e-4


@dataclass(frozen=True)
class InteractingMultipleModel:
    """Motion models with their mean sojourn times (seconds), for vectorised IMM steps.

    `step_s` is the mixing step: a track's modes mix at each of its updates and at every
    multiple of `step_s` of time in between (the tracker's grid), never at other scans.
    Mixing is a step of finite length, so an IMM that mixes at every scan behaves by the
    scan rate: a radar track of a bird came out otherwise once a camera reported beside
    the radar. On a grid of time, a track is the same whatever other sensors report."""

    models: tuple[NearlyConstantVelocity, ...]
    sojourn_s: tuple[float, ...]
    step_s: float = 0.2

    def __post_init__(self) -> None:
        if len(self.models) != len(self.sojourn_s) or not self.models:
            raise ValueError("one sojourn time per model, and at least one model")
        if not self.step_s > 0.0:
            raise ValueError("the mixing step must be positive")

    @property
    def n_modes(self) -> int:
        return len(self.models)

    @property
    def quiet(self) -> Array:
        """Mode probabilities all but certain of the first (quiet) model."""
        mu = np.full(self.n_modes, MU_FLOOR)
        mu[0] = 1.0 - MU_FLOOR * (self.n_modes - 1)
        return mu

    @cached_property
    def steady(self) -> int | None:
        """The mode quieter than a new track's (the first), if any: a drone flying straight
        and level, its velocity known to a few tenths of a m/s. None with no such mode."""
        q = [model.q_h for model in self.models]
        quietest = int(np.argmin(q))
        return quietest if q[quietest] < q[0] else None

    @cached_property
    def calm(self) -> tuple[int, ...]:
        """The modes but the noisiest (the one mode, if only one): those a formation's
        drones fly in, and are told its velocity in."""
        if self.n_modes == 1:
            return (0,)
        noisiest = int(np.argmax([model.q_h for model in self.models]))
        return tuple(j for j in range(self.n_modes) if j != noisiest)

    @staticmethod
    def bar(mu: Array, mode: int, rows: NDArray[np.bool_]) -> None:
        """In mode probabilities mu (n, M), in place: the `rows` give `mode` up to the first
        mode, keeping it at `MU_FLOOR` (a mode never dies out)."""
        if mode == 0 or not rows.any():
            return
        spare = np.maximum(mu[rows, mode] - MU_FLOOR, 0.0)
        mu[rows, mode] -= spare
        mu[rows, 0] += spare

    def switching(self, dt: float | Array) -> Array:
        """Pi(dt)[i, j]: probability of being in mode j after dt seconds in mode i; (M, M),
        or (n, M, M) for times dt (n,)."""
        m = self.n_modes
        dt = np.asarray(dt, dtype=np.float64)
        if m == 1:
            return np.ones((*dt.shape, 1, 1))
        stay = np.exp(-np.abs(dt)[..., None] / np.asarray(self.sojourn_s, dtype=float))
        Pi = np.repeat(((1.0 - stay) / (m - 1))[..., None], m, axis=-1)
        Pi[..., np.arange(m), np.arange(m)] = stay
        return Pi

    def predict(
        self, mu: Array, xm: Array, Pm: Array, dt: float | Array, noise_scale: Array | None = None
    ) -> tuple[Array, Array, Array]:
        """Mix and predict mode probabilities (n, M), states (n, M, 6), covariances
        (n, M, 6, 6) forward by `dt` seconds (one time, or each track its own: (n,));
        returns new arrays. `noise_scale` (n,) multiplies each track's process noise in
        every mode."""
        m = self.n_modes
        if m == 1:
            x, P = self.models[0].predict(xm[:, 0], Pm[:, 0], dt, noise_scale)
            return mu.copy(), x[:, None], P[:, None]
        Pi = np.broadcast_to(self.switching(dt), (len(mu), m, m))
        c = (mu[:, None, :] @ Pi)[:, 0]  # (n, M)
        wt = mu[:, None, :] * Pi.transpose(0, 2, 1) / c[:, :, None]  # wt[n, j, i] = w_ij
        x0 = wt @ xm  # (n, M, 6)
        # All modes' spreads at once, as batched matrix products (no per-pair loop):
        # P0_j = sum_i w_ij P_i + D_j' diag(w_.j) D_j with D_j[i] = x_i - x0_j.
        d = xm[:, None, :, :] - x0[:, :, None, :]  # (n, j, i, 6)
        P0 = (wt @ Pm.reshape(len(Pm), m, -1)).reshape(Pm.shape)
        P0 += (d.transpose(0, 1, 3, 2) * wt[:, :, None, :]) @ d
        x_out = np.empty_like(xm)
        P_out = np.empty_like(Pm)
        for j, model in enumerate(self.models):
            x_out[:, j], P_out[:, j] = model.predict(x0[:, j], P0[:, j], dt, noise_scale)
        return c, x_out, P_out

    def predict_combined(
        self, mu: Array, xm: Array, Pm: Array, dt: float | Array, noise_scale: Array | None = None
    ) -> tuple[Array, Array, Array, Array, Array]:
        """`predict` followed by `combine`: new arrays (mu, xm, Pm, x, P)."""
        if kernels.ENABLED:
            mu, xm, Pm = (np.array(a, dtype=np.float64, order="C") for a in (mu, xm, Pm))
            x, P = np.empty((len(mu), 6)), np.empty((len(mu), 6, 6))
            self._kernel(mu, xm, Pm, dt, x, P, noise_scale, (mu, xm, Pm))
            return mu, xm, Pm, x, P
        mu, xm, Pm = self.predict(mu, xm, Pm, dt, noise_scale)
        return (mu, xm, Pm, *combine(mu, xm, Pm))

    def predict_into(
        self,
        mu: Array,
        xm: Array,
        Pm: Array,
        dt: float | Array,
        x: Array,
        P: Array,
        noise_scale: Array | None = None,
        modes: tuple[Array, Array, Array] | None = None,
    ) -> None:
        """The combination of the predicted modes into C-contiguous arrays x, P; the modes
        themselves stay as they are, and with `modes` (C-contiguous arrays shaped as mu, xm,
        Pm) their prediction goes there too. One compiled pass over the tracks, without new
        arrays, when `kernels.ENABLED` (the tracker does this for every scan)."""
        if kernels.ENABLED:
            self._kernel(mu, xm, Pm, dt, x, P, noise_scale, modes)
            return
        mu_p, xm_p, Pm_p, x[...], P[...] = self.predict_combined(mu, xm, Pm, dt, noise_scale)
        if modes is not None:
            modes[0][...], modes[1][...], modes[2][...] = mu_p, xm_p, Pm_p

    def advance(
        self, mu: Array, xm: Array, Pm: Array, dt: float | Array, noise_scale: Array | None = None
    ) -> None:
        """Mix and predict the modes in place (C-contiguous arrays: mu, xm, Pm become the
        predicted ones), without their combination."""
        if kernels.ENABLED:
            scratch = np.empty((0, 6)), np.empty((0, 6, 6))
            self._kernel(mu, xm, Pm, dt, *scratch, noise_scale, (mu, xm, Pm), False)
            return
        mu[...], xm[...], Pm[...] = self.predict(mu, xm, Pm, dt, noise_scale)

    def _kernel(
        self,
        mu: Array,
        xm: Array,
        Pm: Array,
        dt: float | Array,
        x: Array,
        P: Array,
        noise_scale: Array | None,
        modes: tuple[Array, Array, Array] | None,
        write_combined: bool = True,
    ) -> None:
        """One `kernels.imm_predict` pass: each track by its own time `dt`, the predicted
        modes written into `modes` (which may be mu, xm, Pm: in place) unless None, their
        combination into x, P with `write_combined`."""
        q, sojourn = self._kernel_constants
        scale = np.ones(len(mu)) if noise_scale is None else np.asarray(noise_scale, float)
        dts = np.empty(len(mu))  # writeable, always: a read-only one is another signature
        dts[...] = dt
        out = (mu, xm, Pm) if modes is None else modes  # not written without `modes`
        kernels.imm_predict(
            mu, xm, Pm, sojourn, dts, q, scale, x, P, *out, modes is not None, write_combined
        )

    @cached_property
    def _kernel_constants(self) -> tuple[Array, Array]:
        """The kernel's per-model spectral densities (M, 3) and sojourn times (M,), built once
        (the tracker calls it every scan)."""
        q = np.array([(model.q_h, model.q_h, model.q_v) for model in self.models])
        return q, np.asarray(self.sojourn_s, dtype=np.float64)


def posterior_modes(c: Array, loglik: Array) -> Array:
    """Mode probabilities (p, M) after an update: proportional to c * likelihood, floored."""
    logw = np.log(np.maximum(c, MU_FLOOR)) + loglik
    logw -= logw.max(axis=1, keepdims=True)
    w = np.exp(logw)
    w /= w.sum(axis=1, keepdims=True)
    w = np.maximum(w, MU_FLOOR)
    return w / w.sum(axis=1, keepdims=True)


def gaussian_loglik(y: Array, S: Array) -> Array:
    """log N(y; 0, S) for innovations y (p, m) and covariances S (p, m, m)."""
    if kernels.ENABLED:
        return kernels.gaussian_loglik(np.ascontiguousarray(y), np.ascontiguousarray(S))
    m = y.shape[1]
    L = np.linalg.cholesky(S)
    u = np.linalg.solve(L, y[:, :, None])[:, :, 0]
    log_det = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
    return -0.5 * (np.einsum("pi,pi->p", u, u) + log_det + m * np.log(2.0 * np.pi))


def combine(mu: Array, xm: Array, Pm: Array) -> tuple[Array, Array]:
    """The moment-matched single Gaussian (n, 6), (n, 6, 6) of the mode mixture."""
    if kernels.ENABLED:
        return kernels.combine(
            np.ascontiguousarray(mu), np.ascontiguousarray(xm), np.ascontiguousarray(Pm)
        )
    if mu.shape[1] == 1:
        return xm[:, 0].copy(), Pm[:, 0].copy()
    x = np.einsum("nj,njk->nk", mu, xm)
    d = xm - x[:, None, :]
    P = np.einsum("nj,njkl->nkl", mu, Pm + d[:, :, :, None] * d[:, :, None, :])
    return x, 0.5 * (P + P.transpose(0, 2, 1))
