"""Compiled passes over a radar scan's gated and assigned pairs.

At the live load (four radars, 250 scans a second) each radar scan asks, after the
association, which tracks saw their plot go to a neighbour (`tracker._plots_elsewhere`) and
how widely the plots each track could have taken spread (`tracker._assignment_spread`): a
dozen numpy calls each (gathers, masks, `np.add.at`) over a few hundred pairs, about 4 % of
the live load's replay between them. Here each is one or two loops over the pairs, with
numpy's exp left between the two of the spread. The numpy code in `cuas.tracking.tracker`
stays the reference (`kernels.ENABLED` off); tests/test_kernels.py holds these to its bits.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels
from cuas.tracking.kernels import _jit

Array = NDArray[np.float64]
Index = NDArray[np.intp]
Mask = NDArray[np.bool_]


@_jit
def plots_elsewhere(
    raw_track: Index, raw_det: Index, track: Index, det: Index, placed: Mask
) -> tuple[Mask, Mask]:
    """(shadowed, crowded) of `tracker._plots_elsewhere`, for gated pairs (raw_track,
    raw_det) and assigned pairs (track, det) of tracks flagged `placed`."""
    k = 0
    for d in raw_det:
        k = max(k, d + 1)
    for d in det:
        k = max(k, d + 1)
    owner = np.full(k, -1, dtype=np.intp)
    for p in range(det.shape[0]):
        owner[det[p]] = track[p]
    n = placed.shape[0]
    shadowed = np.zeros(n, dtype=np.bool_)
    crowded = np.zeros(n, dtype=np.bool_)
    for p in range(raw_det.shape[0]):
        taken = owner[raw_det[p]]
        i = raw_track[p]
        if taken >= 0 and taken != i:
            if placed[i]:
                crowded[i] = True
            elif placed[taken]:
                shadowed[i] = True
    return shadowed, crowded


@_jit
def rivals(
    gated_track: Index,
    gated_det: Index,
    gated_d2: Array,
    track: Index,
    det: Index,
    d2: Array,
    n: int,
) -> tuple[Index, Index, Array]:
    """The gated pairs whose track was assigned another plot (positions among the gated
    pairs, in order), the assigned pair of each, and the argument of its weight's exp,
    -0.5 * max(d2 - the assigned pair's d2, -50), as `tracker._assignment_spread`."""
    at = np.full(n, -1, dtype=np.intp)
    for p in range(track.shape[0]):
        at[track[p]] = p
    g = gated_track.shape[0]
    which = np.empty(g, dtype=np.intp)
    of = np.empty(g, dtype=np.intp)
    arg = np.empty(g)
    count = 0
    for q in range(g):
        i = at[gated_track[q]]
        if i >= 0 and gated_det[q] != det[i]:
            which[count] = q
            of[count] = i
            v = gated_d2[q] - d2[i]
            arg[count] = -0.5 * (v if v >= -50.0 or v != v else -50.0)
            count += 1
    return which[:count], of[:count], arg[:count]


@_jit
def spread(gated_y: Array, y: Array, which: Index, of: Index, w: Array, angles: Index) -> Array:
    """The variance each assigned pair's `angles` gain from its rivals (`rivals`) of weights
    `w` (numpy's exp of their arguments), as `tracker._assignment_spread` sums it (its
    `np.add.at`, in the rivals' order)."""
    p, m = y.shape
    total = np.ones(p)
    for r in range(which.shape[0]):
        total[of[r]] += w[r]
    out = np.zeros((p, m))
    for r in range(which.shape[0]):
        i = of[r]
        share = w[r] / total[i]
        for a in angles:
            e = gated_y[which[r], a] - y[i, a]
            out[i, a] += e * e * share
    return out


def warm_up() -> None:
    """Load (or compile) the passes with the argument types the tracker passes."""
    if not kernels.ENABLED:
        return
    one = np.zeros(1, dtype=np.intp)
    plots_elsewhere(one, one, one, one, np.ones(1, dtype=bool))
    which, of, arg = rivals(one, one, np.zeros(1), one, one, np.zeros(1), 1)
    spread(np.zeros((1, 3)), np.zeros((1, 3)), which, of, np.exp(arg), np.arange(2))
