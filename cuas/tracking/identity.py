"""Identity: who a track is (its Remote ID serial and RF emitter id) and whether it is friendly.

Rules, for both identifiers (`uas_id` from Remote ID detections, `emitter_id` from RF ones):

1. A track without an identifier takes the one of the first detection that names one and
   initiates or updates it, unless another live track holds it (rule 4).
2. It keeps it for life: updates by sensors that name nobody (radar, cameras) and gaps in
   Remote ID reception change nothing.
3. A track is re-identified only when `switch_after` (3) consecutive detections naming
   something for it all name the *same other* identifier. A detection naming its own
   identifier resets the count: one stray association does not rename a drone.
4. An identifier belongs to one track at a time. When a detection gives a track an
   identifier, or confirms the one it has, every other track holding it loses it, and any
   other track's pending claim on it (rule 3) starts again from zero.
   - A Remote ID serial held by another track changes hands at once: the most recent update
     wins (a Remote ID detection is associated by the position it broadcasts, so it knows
     which track it is, e.g. over a stale duplicate).
   - An RF emitter id comes with a bearing, and any track along that line may be given it. A
     held emitter id changes hands only as in rule 3, and (as every emitter re-identification)
     only when the consecutive detections come from at least two sensors, whose bearings
     cross on the track: a hostile drone on the same bearing as a friendly one, from one
     site, does not become friendly. A camp with one direction finder therefore never moves
     an emitter id between live tracks.

`friendly` is true when the track's `uas_id` is in `[friendly] uas_ids` or its `emitter_id` is
in `[friendly] emitter_ids`; it is recomputed for every track whose identity changes.
Identifiers of non-friendly tracks are kept (and published) too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from cuas.config import FriendlyConfig
from cuas.tracking.scan import Scan
from cuas.tracking.tracks import TrackTable

Index = NDArray[np.intp]

MAX_PENDING = 1024  # pending claims kept before those of dead tracks are dropped


@dataclass(frozen=True)
class _Policy:
    """How one identifier column changes hands (rule 4)."""

    column: str  # the TrackTable column
    contest_at_once: bool  # a held identifier moves to the most recent track at once
    min_sensors: int  # distinct sensors among the consecutive detections of a change


_UAS = _Policy("uas_id", contest_at_once=True, min_sensors=1)
_EMITTER = _Policy("emitter_id", contest_at_once=False, min_sensors=2)


@dataclass(frozen=True)
class _Claim:
    """Consecutive detections naming `name` for a track that holds something else."""

    name: str
    count: int
    sensors: frozenset[int]


class IdentityKeeper:
    """The `Annotator` that keeps `uas_id`, `emitter_id` and `friendly` (see the module
    docstring for the rules)."""

    # Tracks hold the emitter ids their bearings name: the lifecycle counts a finder as a site
    # only on a track that holds one (a bearing of an emitter held elsewhere only crossed it).
    names_emitters: ClassVar[bool] = True

    def __init__(self, friendly: FriendlyConfig, switch_after: int = 3) -> None:
        self.friendly_uas_ids = frozenset(friendly.uas_ids)
        self.friendly_emitter_ids = frozenset(friendly.emitter_ids)
        self.switch_after = switch_after
        self._pending: dict[tuple[int, str], _Claim] = {}  # (track id, column) -> claim

    def initiated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> Index | None:
        """New tracks take the identifiers their first detection names (rules 1 and 4)."""
        return self.updated(tracks, rows, scan, dets)

    def updated(self, tracks: TrackTable, rows: Index, scan: Scan, dets: Index) -> Index | None:
        """Apply the rules to the tracks in `rows`, updated with detections `dets`; returns
        the rows whose emitter ids changed, these or others that lost theirs to them (None:
        none)."""
        labels = scan.labels
        if labels is None:
            return None
        changed: set[int] = set()
        reidentified = None
        for policy, names in ((_UAS, labels.uas_id), (_EMITTER, labels.emitter_id)):
            if names.count(None) < len(names):  # most scans name nobody: skip them quickly
                named = [names[d] for d in dets.tolist()]
                moved = self._assign(tracks, policy, rows, named, scan.sensor)
                if policy is _EMITTER and moved:  # a new emitter: the radar's lean starts over
                    reidentified = np.array(sorted(moved), dtype=np.intp)
                    tracks.radar_lean[reidentified] = 0.0
                    tracks.emitter_odds[reidentified] = 0.0
                changed |= moved
        if changed:
            self._refresh_friendly(tracks, changed)
        if len(self._pending) > MAX_PENDING:
            live = set(tracks.track_id[: tracks.n].tolist())
            self._pending = {k: v for k, v in self._pending.items() if k[0] in live}
        return reidentified

    def reidentified(self, tracks: TrackTable, rows: Index) -> None:
        """The tracker changed the emitter ids of `rows`: released one whose bearings did not
        fit, or bound a swarm member's by the evidence of its bearings."""
        self._refresh_friendly(tracks, set(rows.tolist()))

    def _assign(
        self,
        tracks: TrackTable,
        policy: _Policy,
        rows: Index,
        names: list[str | None],
        sensor: int,
    ) -> set[int]:
        """Apply the rules to one column; returns the rows whose identifier changed."""
        column = policy.column
        live = getattr(tracks, column)[: tracks.n]
        holder: dict[str, int] = {}
        if not policy.contest_at_once:
            holder = tracks.holders(column)
        claims: dict[str, int] = {}  # identifier -> the row this scan gives or confirms it to
        changed: set[int] = set()
        for row, name in zip(rows.tolist(), names, strict=True):
            if name is None:
                continue
            key = (int(tracks.track_id[row]), column)
            current = live[row]
            if current == name:
                self._pending.pop(key, None)
            elif current is None and holder.get(name, row) == row:
                live[row] = name  # rule 1
                changed.add(row)
            elif self._count(key, name, sensor, policy.min_sensors):
                live[row] = name  # rule 3, or rule 4 for an emitter id held elsewhere
                changed.add(row)
            else:
                continue
            claims[name] = row
        if claims:
            for row, name in enumerate(live.tolist()):
                if name is not None and claims.get(name, row) != row:
                    live[row] = None
                    changed.add(row)
            if self._pending:  # rule 4: claims on what was just given or confirmed restart
                self._pending = {
                    k: c for k, c in self._pending.items() if k[1] != column or c.name not in claims
                }
        return changed

    def _count(self, key: tuple[int, str], name: str, sensor: int, min_sensors: int) -> bool:
        """One more consecutive detection naming `name` for a track; whether it now changes."""
        claim = self._pending.get(key)
        if claim is None or claim.name != name:
            claim = _Claim(name, 1, frozenset((sensor,)))
        else:
            claim = _Claim(name, claim.count + 1, claim.sensors | {sensor})
        if claim.count >= self.switch_after and len(claim.sensors) >= min_sensors:
            self._pending.pop(key, None)
            return True
        self._pending[key] = claim
        return False

    def _refresh_friendly(self, tracks: TrackTable, rows: set[int]) -> None:
        """`friendly` of rows whose identity changed, from the camp's friendly lists."""
        for row in rows:
            tracks.friendly[row] = (
                tracks.uas_id[row] in self.friendly_uas_ids
                or tracks.emitter_id[row] in self.friendly_emitter_ids
            )
