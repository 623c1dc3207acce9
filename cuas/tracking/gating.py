"""Gating (the hypothesiser): which (track, detection) pairs are statistically plausible.

A pair is a hypothesis when the squared Mahalanobis distance of the innovation is below a
chi-square threshold. Doing that for every pair would cost n*k small solves, so a necessary
condition is checked first on all pairs at once: the projection of the gate ellipsoid onto
one measurement axis is an interval of half-width sqrt(G * S_cc), so a pair outside it on
that axis cannot be inside the ellipsoid. Only survivors get the full test.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from cuas.tracking import kernels
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@functools.cache
def gate_threshold(probability: float, dim: int) -> float:
    """Squared Mahalanobis distance containing `probability` of a dim-D Gaussian (computed
    once per pair: the tracker asks for its gates every scan)."""
    return float(chi2.ppf(probability, dim))


class Hypotheses:
    """Gated pairs: track row, detection index, distance, innovation, its covariance, H.

    A subset shares its parent's innovations, covariances and Jacobians and gathers its own
    rows of them only when they are read: the tracker's many filters mostly need the pairs
    alone, and copying three stacks of small matrices per filter cost more than the rest.
    """

    __slots__ = ("_H", "_S", "_at", "_cache", "_h_at", "_y", "d2", "det", "track")

    def __init__(self, track: Index, det: Index, d2: Array, y: Array, S: Array, H: Array) -> None:
        self._init(track, det, d2, y, S, H, None, None)

    def _init(
        self,
        track: Index,
        det: Index,
        d2: Array,
        y: Array,
        S: Array,
        H: Array,
        at: Index | None,
        h_at: Index | None,
    ) -> None:
        self.track, self.det, self.d2 = track, det, d2
        self._y, self._S, self._H = y, S, H  # the parent's arrays ...
        self._at = at  # ... and this subset's rows of y and S (None: all of them)
        self._h_at = h_at  # ... and of H (None: all; H may hold one row per track)
        self._cache: dict[str, Array] = {}

    @classmethod
    def _view(
        cls,
        track: Index,
        det: Index,
        d2: Array,
        source: tuple[Array, Array, Array],
        at: Index | None,
        h_at: Index | None,
    ) -> Hypotheses:
        out = cls.__new__(cls)
        out._init(track, det, d2, *source, at, h_at)
        return out

    def __len__(self) -> int:
        return self.track.shape[0]

    def _gather(self, name: str, base: Array, at: Index | None) -> Array:
        if at is None:
            return base
        cached = self._cache.get(name)
        if cached is None:
            cached = self._cache[name] = base[at]
        return cached

    @property
    def y(self) -> Array:
        return self._gather("y", self._y, self._at)

    @property
    def S(self) -> Array:  # noqa: N802 (the filter's own name)
        return self._gather("S", self._S, self._at)

    @property
    def H(self) -> Array:  # noqa: N802
        return self._gather("H", self._H, self._h_at)

    @classmethod
    def empty(cls, dim: int) -> Hypotheses:
        """No pairs, for measurements of `dim` components."""
        none = np.zeros(0, dtype=np.intp)
        return cls(
            none,
            none,
            np.zeros(0),
            np.zeros((0, dim)),
            np.zeros((0, dim, dim)),
            np.zeros((0, dim, 6)),
        )

    def subset(self, keep: NDArray[np.bool_] | Index) -> Hypotheses:
        """The hypotheses selected by a boolean mask or an index array (itself when there are
        none or a mask keeps all: the tracker's filters usually do, and never write to the
        arrays)."""
        if not len(self):
            return self
        if keep.dtype == np.bool_:
            keep = keep.nonzero()[0]  # once, not once per array
            if keep.size == len(self):  # all kept (one call: `all()` cost as much again)
                return self
        at = keep if self._at is None else self._at[keep]
        track = self.track[keep]
        # H one row per track (the kernels' gating): its rows are the pairs' tracks.
        h_at = (
            keep if self._h_at is None else track if self._h_at is self.track else self._h_at[keep]
        )
        return Hypotheses._view(
            track, self.det[keep], self.d2[keep], (self._y, self._S, self._H), at, h_at
        )


def hypothesise(x: Array, P: Array, scan: Scan, threshold: float) -> Hypotheses:
    """All (track, detection) pairs of `scan` inside the gate, for states x (n, 6), P (n, 6, 6)."""
    model = scan.model
    n, k, m = x.shape[0], len(scan), model.dim
    if n == 0 or k == 0:
        return Hypotheses.empty(m)
    zhat, H = model.predict(x)
    if kernels.ENABLED:  # the same tests in one compiled pass; the code below is the reference
        track, det, d2, y, S = kernels.gate(
            zhat,
            H,
            np.ascontiguousarray(P),
            np.ascontiguousarray(scan.z),
            np.ascontiguousarray(scan.var),
            model.wrap,
            model.coarse,
            threshold,
        )
        # H has one row per track: the pairs read theirs through `track` when they need it.
        return Hypotheses._view(track, det, d2, (y, S, H), None, track)
    HPHt = H @ P @ H.transpose(0, 2, 1)

    # Cheap necessary condition on one axis, for all n*k pairs at once.
    c = model.coarse
    dc = scan.z[None, :, c] - zhat[:, None, c]
    if model.wrap[c]:
        # Measured angles lie in [0, 2pi), predicted ones in [-pi, pi], so |dc| < 3pi and
        # the wrapped size is |dc| or |2pi - |dc||; only its square is used. (Cheaper than a
        # float modulo over all n*k pairs.)
        dc = np.abs(dc)
        np.minimum(dc, 2.0 * np.pi - dc, out=dc)
    width2 = threshold * (HPHt[:, None, c, c] + scan.var[None, :, c])
    track, det = np.nonzero(dc * dc < width2)

    # The same interval test on every axis, then the full Mahalanobis test on survivors.
    y = model.residual(scan.z[det], zhat[track])
    S = HPHt[track].copy()
    diag = np.arange(m)
    S[:, diag, diag] += scan.var[det]
    inside = np.all(y * y < threshold * S[:, diag, diag], axis=1)
    track, det, y, S = track[inside], det[inside], y[inside], S[inside]
    d2 = np.einsum("pi,pi->p", y, np.linalg.solve(S, y[:, :, None])[:, :, 0])
    keep = d2 < threshold
    return Hypotheses(track[keep], det[keep], d2[keep], y[keep], S[keep], H[track[keep]])
