"""Compiled passes over a radar scan's gated and assigned pairs.

At the live load (four radars, 250 scans a second) each radar scan asks, after the
association, which tracks saw their plot go to a neighbour (`tracker._plots_elsewhere`): a
dozen numpy calls (gathers, masks, `np.add.at`) over a few hundred pairs. Here it is one loop
over the pairs. The numpy code in `cuas.tracking.tracker` stays the reference
(`kernels.ENABLED` off); tests/test_kernels.py holds the pass to its bits.
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
    raw_track: Index,
    raw_det: Index,
    raw_d2: Array,
    track: Index,
    det: Index,
    placed: Mask,
    echo: Array,
) -> tuple[Mask, Mask]:
    """(shadowed, crowded) of `tracker._plots_elsewhere`, for gated pairs (raw_track,
    raw_det, at squared distances raw_d2) and assigned pairs (track, det) of tracks
    flagged `placed`; a plot shadows a track only within its `echo` (per track)."""
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
            elif placed[taken] and raw_d2[p] <= echo[i]:
                shadowed[i] = True
    return shadowed, crowded


def warm_up() -> None:
    """Load (or compile) the passes with the argument types the tracker passes."""
    if not kernels.ENABLED:
        return
    one = np.zeros(1, dtype=np.intp)
    plots_elsewhere(one, one, np.zeros(1), one, one, np.ones(1, dtype=bool), np.zeros(1))
