"""Identity: who a track is (its Remote ID serial and RF emitter id) and whether it is friendly.

Rules, the same for both identifiers (`uas_id` from Remote ID detections, `emitter_id` from RF
detections):

1. A track that has no identifier takes the one of the first detection naming one that
   initiates or updates it.
2. It keeps it for life: updates by sensors that name nobody (radar, cameras) and gaps in
   Remote ID reception change nothing.
3. A track is re-identified only when `switch_after` consecutive detections naming it all
   name the *same other* identifier (3 by default): one stray association does not rename a
   friendly drone. A detection naming the track's own identifier resets the count.
4. An identifier belongs to one track at a time: when a detection gives a track an
   identifier, or confirms the one it has, every other track holding it loses it. For a
   Remote ID serial the most recent update wins at once (a Remote ID detection is associated
   by the position it broadcasts, so it is right about which track it is, e.g. over a stale
   duplicate). An RF emitter id comes with a bearing, which any track along that line may be
   given: one held by another track changes hands only after `switch_after` consecutive
   detections naming it, as in rule 3, so that a hostile drone crossing the bearing of a
   friendly one is not made friendly by one association.

`friendly` is true when the track's `uas_id` is in `[friendly] uas_ids` or its `emitter_id` is
in `[friendly] emitter_ids`, and is recomputed for every track whose identity changes.
Identifiers of non-friendly tracks are kept and published too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.config import FriendlyConfig
from cuas.tracking.scan import Scan
from cuas.tracking.tracks import TrackTable

Index = NDArray[np.intp]

COLUMNS = ("uas_id", "emitter_id")  # TrackTable columns, in the order of their Labels fields
MAX_PENDING = 1024  # re-identification counters kept before those of dead tracks are dropped


class IdentityKeeper:
    """The `Annotator` that keeps `uas_id`, `emitter_id` and `friendly` (see the module
    docstring for the rules)."""

    def __init__(self, friendly: FriendlyConfig, switch_after: int = 3) -> None:
        self.friendly_uas_ids = frozenset(friendly.uas_ids)
        self.friendly_emitter_ids = frozenset(friendly.emitter_ids)
        self.switch_after = switch_after
        # (track id, column) -> (another identifier, consecutive detections naming it)
        self._pending: dict[tuple[int, str], tuple[str, int]] = {}

    def initiated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        self.updated(tracks, rows, scan, dets)

    def updated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> None:
        labels = scan.labels
        if labels is None:
            return
        changed: set[int] = set()
        for column, names in zip(COLUMNS, (labels.uas_id, labels.emitter_id), strict=True):
            if names.count(None) < len(names):  # most scans name nobody: skip them quickly
                changed |= self._assign(tracks, column, rows, [names[d] for d in dets.tolist()])
        if changed:
            self._refresh_friendly(tracks, changed)
        if len(self._pending) > MAX_PENDING:
            live = set(tracks.track_id[: tracks.n].tolist())
            self._pending = {k: v for k, v in self._pending.items() if k[0] in live}

    def _assign(
        self, tracks: TrackTable, column: str, rows: Index, names: list[str | None]
    ) -> set[int]:
        """Apply the rules to one column; returns the rows whose identifier changed."""
        held = getattr(tracks, column)
        live = held[: tracks.n]
        # Emitter ids come with bearings, which any track along the line may take: one held
        # by another track changes hands only as a re-identification does (rule 4).
        holder = {}
        if column == "emitter_id":
            holder = {name: row for row, name in enumerate(live.tolist()) if name is not None}
        claims: dict[str, int] = {}  # identifier -> the row this scan gives or confirms it to
        changed: set[int] = set()
        for row, name in zip(rows.tolist(), names, strict=True):
            if name is None:
                continue
            key = (int(tracks.track_id[row]), column)
            current = held[row]
            if current == name:  # the holder heard again: nobody else's claim is consecutive
                self._pending = {
                    k: v for k, v in self._pending.items() if v[0] != name or k[1] != column
                }
            else:
                contested = current is not None or holder.get(name, row) != row
                if contested:
                    other, count = self._pending.get(key, (name, 0))
                    count = count + 1 if other == name else 1
                    if count < self.switch_after:
                        self._pending[key] = (name, count)
                        continue
                    self._pending.pop(key, None)
                held[row] = name
                changed.add(row)
            claims[name] = row
        if claims:
            for row, name in enumerate(live.tolist()):
                if name is not None and claims.get(name, row) != row:
                    live[row] = None
                    changed.add(row)
        return changed

    def _refresh_friendly(self, tracks: TrackTable, rows: set[int]) -> None:
        for row in rows:
            tracks.friendly[row] = (
                tracks.uas_id[row] in self.friendly_uas_ids
                or tracks.emitter_id[row] in self.friendly_emitter_ids
            )
