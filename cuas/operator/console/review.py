"""Review mode: a recorded output played into the console's picture, for after-action review.

The recording is the core's output as `cuas replay --out` and drills write it (topics
`tracks`, `alert`, `sensor`, and `track_updates` from `cuas replay --updates`: each scan's
tracks between the cycles, played as the live console shows them). It is read once into
memory; the player walks it at the chosen speed in its own time, and a jump (the page's time
slider) rebuilds the picture from the start up to the new time, then sends every browser a
fresh snapshot. Records that do not
decode are counted and skipped.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cuas import topics, wire
from cuas.errors import CuasError, WireError
from cuas.io.recording import RecordingReader
from cuas.operator.console.picture import Picture

log = logging.getLogger(__name__)

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
TICK_S = 0.05


@dataclass(frozen=True, slots=True)
class Entry:
    """One recorded output, decoded: its time, kind and message (tracks as their JSON)."""

    t: float
    kind: str  # "tracks" | "track_update" | "alert" | "sensor"
    message: Any


class EmptyRecordingError(CuasError):
    """A recording without any of the core's outputs."""


def load_outputs(path: str | Path) -> tuple[list[Entry], Counter[str]]:
    """The recording's outputs in time order, and the records skipped by reason."""
    skipped: Counter[str] = Counter()
    entries: list[Entry] = []
    reader = RecordingReader(path)
    for record in reader:
        try:
            if record.topic == topics.RECORDED_TRACKS:
                cycle = wire.from_msgpack(record.payload, wire.TrackCycle)
                entries.append(Entry(record.t_received, "tracks", wire.to_json(cycle)))
            elif record.topic == topics.RECORDED_TRACK_UPDATES:
                update = wire.from_msgpack(record.payload, wire.TrackUpdate)
                entries.append(Entry(record.t_received, "track_update", update))
            elif record.topic == topics.RECORDED_ALERT:
                alert = wire.from_msgpack(record.payload, wire.Alert)
                entries.append(Entry(record.t_received, "alert", alert))
            elif record.topic == topics.RECORDED_SENSOR:
                health = wire.from_msgpack(record.payload, wire.SensorHealth)
                entries.append(Entry(record.t_received, "sensor", health))
            else:
                skipped["other_topic"] += 1
        except WireError as exc:
            skipped[exc.reason] += 1
    skipped["unreadable"] += reader.skipped
    if reader.truncated:
        skipped["truncated"] += 1
    if not entries:
        raise EmptyRecordingError(
            f"{path}: no track cycles, alerts or sensor health in it (is it an output of "
            "`cuas replay --out` or a drill?)"
        )
    entries.sort(key=lambda e: e.t)  # stable: same-time records keep their order
    return entries, +skipped


class ReviewPlayer:
    """Plays `entries` into `picture`: play, pause, speed and jump, driven by the page."""

    def __init__(
        self, entries: list[Entry], picture: Picture, camp: str, *, speed: float = 1.0
    ) -> None:
        self.entries = entries
        self.camp = camp
        self.times = [e.t for e in entries]
        self.picture = picture
        self.t0 = entries[0].t
        self.t1 = entries[-1].t
        self.t = self.t0  # the review's clock: everything up to it has been applied
        self.next_index = 0
        self.speed = speed if speed in SPEEDS else 1.0
        self.paused = False
        self._wake = asyncio.Event()

    def info(self) -> dict[str, Any]:
        return {"t0": self.t0, "t1": self.t1, "speeds": list(SPEEDS)}

    def clock(self) -> dict[str, Any]:
        return {"t": self.t, "speed": self.speed, "paused": self.paused}

    def control(self, request: dict[str, Any]) -> None:
        """A request from a page: `seek` (a time), `speed` (one of SPEEDS), `paused` (bool)."""
        if "speed" in request:
            speed = request["speed"]
            if isinstance(speed, int | float) and not isinstance(speed, bool) and speed in SPEEDS:
                self.speed = float(speed)
        if isinstance(request.get("paused"), bool):
            self.paused = request["paused"]
        seek = request.get("seek")
        if isinstance(seek, int | float) and not isinstance(seek, bool):
            self.seek(float(seek))
        self.picture.send("review", **self.clock())
        self._wake.set()

    def seek(self, t: float) -> None:
        """Rebuild the picture as it was at `t` and send it to every browser."""
        t = min(max(t, self.t0), self.t1)
        self.picture.clear()
        self.next_index = 0
        self.t = t
        self._apply_until(t, quiet=True)
        self.picture.resync()

    def _apply_until(self, t: float, *, quiet: bool) -> None:
        end = bisect.bisect_right(self.times, t)
        for entry in self.entries[self.next_index : end]:
            if entry.kind == "tracks":
                self.picture.on_tracks(self.camp, entry.message, quiet=quiet)
            elif entry.kind == "track_update":
                self.picture.on_track_update(self.camp, entry.message, quiet=quiet)
            elif entry.kind == "alert":
                self.picture.on_alert(self.camp, entry.message, event=True, quiet=quiet)
            else:
                self.picture.on_sensor(self.camp, entry.message, quiet=quiet)
        self.next_index = max(self.next_index, end)

    async def run(self) -> None:
        """Play until cancelled; at the end of the recording, pause there."""
        self.seek(self.t0)
        last = time.monotonic()
        last_clock = 0.0
        while True:
            now = time.monotonic()
            if not self.paused:
                self.t = min(self.t + (now - last) * self.speed, self.t1)
                self._apply_until(self.t, quiet=False)
                if self.t >= self.t1:
                    self.paused = True
                    self.picture.send("review", **self.clock())
            last = now
            if now - last_clock >= 0.25:  # the page's slider and clock
                self.picture.send("review", **self.clock())
                last_clock = now
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S if not self.paused else 1.0)
            if self.paused:
                last = time.monotonic()
