"""Id switches the CLEAR-MOT way (Bernardin and Stiefelhagen, 2008), one frame at a time.

A drone's correspondence with a track holds while the track stays within the match distance;
drones without one are assigned afresh (optimal assignment), and a drone whose new track
differs from its last one switched.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def clear_mot_step(
    owner: dict[int, int], d: np.ndarray, track_ids: np.ndarray, match_m: float = 100.0
) -> int:
    """The switches in one frame, given the distances `d` (drones, tracks) and the tracks'
    ids; `owner` (drone -> track id) carries the correspondences and is updated in place."""
    kept: dict[int, int] = {}
    for drone, track in owner.items():  # a correspondence holds while still near
        j = np.flatnonzero(track_ids == track)
        if j.size and d[drone, j[0]] < match_m:
            kept[drone] = track
    free_d = [i for i in range(d.shape[0]) if i not in kept]
    free_t = [j for j in range(d.shape[1]) if track_ids[j] not in kept.values()]
    switches = 0
    if free_d and free_t:
        sub = d[np.ix_(free_d, free_t)]
        for a, b in zip(*linear_sum_assignment(np.minimum(sub, 1e6)), strict=True):
            if sub[a, b] < match_m:
                track = int(track_ids[free_t[b]])
                switches += free_d[a] in owner and owner[free_d[a]] != track
                kept[free_d[a]] = track
    owner.update(kept)
    return switches
