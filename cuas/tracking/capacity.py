"""The cap on live tracks (`tracker.max_tracks`): bounded memory and cycle time under clutter
or a hostile flood of detections.

Called after each scan (cuas/fusion/pipeline.py), outside the tracker's own stages: when the
table holds more than the cap, the least established tracks go first: tentative, then
coasting, then confirmed, and within each the longest without an update. Shed tracks are
counted (`CapacityStats`), never silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.tracks import COASTING, CONFIRMED, TENTATIVE, TrackTable

# Shedding order of the statuses: lower goes first.
_KEEP_RANK = {TENTATIVE: 0, COASTING: 1, CONFIRMED: 2}


@dataclass
class CapacityStats:
    """Tracks shed by the cap, by status."""

    tentative: int = 0
    coasting: int = 0
    confirmed: int = 0

    @property
    def total(self) -> int:
        return self.tentative + self.coasting + self.confirmed


def over_capacity(table: TrackTable, max_tracks: int) -> NDArray[np.bool_]:
    """A mask of the live rows to drop so that at most `max_tracks` remain (see module doc)."""
    n = len(table)
    drop = np.zeros(n, dtype=bool)
    excess = n - max_tracks
    if excess <= 0:
        return drop
    status = table.status[:n]
    rank = np.select(
        [status == TENTATIVE, status == COASTING],
        [_KEEP_RANK[TENTATIVE], _KEEP_RANK[COASTING]],
        _KEEP_RANK[CONFIRMED],
    )
    # Sort by rank, then by last update (oldest first): the first `excess` rows go.
    order = np.lexsort((table.t_update[:n], rank))
    drop[order[:excess]] = True
    return drop


def enforce(table: TrackTable, max_tracks: int, stats: CapacityStats) -> NDArray[np.int64]:
    """Drop the rows over the cap from `table`, counting them; returns the track ids shed."""
    drop = over_capacity(table, max_tracks)
    if not drop.any():
        return np.zeros(0, dtype=np.int64)
    status = table.status[: len(table)][drop]
    stats.tentative += int((status == TENTATIVE).sum())
    stats.coasting += int((status == COASTING).sum())
    stats.confirmed += int((status == CONFIRMED).sum())
    return table.remove(drop)
