"""A camp's tracks as the console holds them: the last track cycle, and the per-scan track
updates merged into it since.

The core publishes every live track once a cycle (`tracks`) and, between cycles, the tracks
each scan just updated (`tracks/updates`). The merge rules are the README's ("Track updates"):
an updated track replaces the entry with its `track_id`, or is added if the cycle did not
have it; an update never removes a track; a cycle replaces everything; an update older than
the last cycle is ignored (the cycle already holds that scan, or newer). If cycles stop
while updates keep coming (a core whose cycles a broker drops), the updates held are
bounded: beyond `MAX_UPDATED` tracks the least recently updated ones go first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from cuas import wire

# Updated tracks held between two cycles at most: five times the core's default track limit
# (`tracker.max_tracks`), so only a picture whose cycles have stopped ever reaches it.
MAX_UPDATED = 10_000


class _Timed(msgspec.Struct):
    t: float


_cycle_time = msgspec.json.Decoder(_Timed).decode  # the cycle's `t`, its tracks skipped


@dataclass
class CampTracks:
    """One camp's track picture: the last cycle as received, and the updates since."""

    cycle: bytes | None = None  # the last cycle's JSON, as the core published it
    t: float | None = None  # that cycle's time
    updated: dict[int, wire.Track] = field(default_factory=dict)  # merged since the cycle
    t_update: float | None = None  # the newest update merged since the cycle

    def take_cycle(self, cycle_json: bytes) -> None:
        """A cycle: the whole picture, replacing the last cycle and every update since."""
        self.cycle = cycle_json
        self.t = _cycle_time(cycle_json).t
        self.updated.clear()
        self.t_update = None

    def take_update(self, update: wire.TrackUpdate) -> bool:
        """Merge an update by `track_id`; False (and nothing changed) if it is older than the
        last cycle."""
        if self.t is not None and update.t < self.t:
            return False
        for track in update.tracks:
            self.updated.pop(track.track_id, None)  # re-inserted last: dicts keep order
            self.updated[track.track_id] = track
        while len(self.updated) > MAX_UPDATED:  # the least recently updated go first
            del self.updated[next(iter(self.updated))]
        self.t_update = update.t if self.t_update is None else max(self.t_update, update.t)
        return True

    def snapshot(self) -> dict[str, Any] | None:
        """The merged picture in a cycle's shape (`{"v", "t", "tracks"}`), or None before any
        cycle or update."""
        if self.cycle is None and not self.updated:
            return None
        if self.cycle is not None:
            merged: dict[str, Any] = msgspec.json.decode(self.cycle)
        else:
            merged = {"v": wire.VERSION, "t": self.t_update, "tracks": []}
        if self.updated:
            tracks = {t["track_id"]: t for t in merged["tracks"]}
            tracks.update((i, wire.to_builtins(t)) for i, t in self.updated.items())
            merged["tracks"] = list(tracks.values())
        return merged
