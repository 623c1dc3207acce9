"""Gating (the hypothesiser): which (track, detection) pairs are statistically plausible.

A pair is a hypothesis when the squared Mahalanobis distance of the innovation is below a
chi-square threshold. Doing that for every pair would cost n*k small solves, so a necessary
condition is checked first on all pairs at once: the projection of the gate ellipsoid onto
one measurement axis is an interval of half-width sqrt(G * S_cc), so a pair outside it on
that axis cannot be inside the ellipsoid. Only survivors get the full test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from cuas.tracking import kernels
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]
Index = NDArray[np.intp]


def gate_threshold(probability: float, dim: int) -> float:
    """Squared Mahalanobis distance containing `probability` of a dim-D Gaussian."""
    return float(chi2.ppf(probability, dim))


@dataclass(frozen=True)
class Hypotheses:
    """Gated pairs: track row, detection index, distance, innovation, its covariance, H."""

    track: Index
    det: Index
    d2: Array
    y: Array
    S: Array
    H: Array

    def __len__(self) -> int:
        return self.track.shape[0]

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
            if keep.all():
                return self
            keep = np.flatnonzero(keep)  # once, not once per array
        if not keep.size:  # empty views rather than six fancy indexings
            p = slice(0, 0)
            return Hypotheses(
                self.track[p], self.det[p], self.d2[p], self.y[p], self.S[p], self.H[p]
            )
        return Hypotheses(
            self.track[keep],
            self.det[keep],
            self.d2[keep],
            self.y[keep],
            self.S[keep],
            self.H[keep],
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
        return Hypotheses(track, det, d2, y, S, H[track])
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
