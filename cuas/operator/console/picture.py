"""The picture as the console holds it (one camp, or a mission's camps), and what each browser
is sent.

Per camp the console keeps the latest track cycle with the track updates merged into it since
(`tracks.CampTracks`), the active alerts, sensor health and the state of its links (broker,
core); across camps, the recent alert transitions. A browser that connects is sent all of it
at once (a `snapshot`), then every change. Every message names its camp. Messages are encoded
to JSON once and shared by every browser.

Each browser has its own bounded feed, so a slow one never holds up the others: a camp's track
cycle replaces that camp's cycle not yet sent (latest wins: the picture is always current,
cycles are skipped), while alert, sensor and link messages are never dropped; a browser so far
behind that its feed overflows is disconnected, and its page reconnects to a fresh snapshot.
Track updates are paced: a browser is sent at most one update message per camp every
`UPDATE_INTERVAL_S`, the first at once, and updates arriving meanwhile are merged into the
one waiting (newest state per track), so they never queue; a cycle drops the updates of its
camp still waiting (it holds them, or newer).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import msgspec

from cuas import wire
from cuas.operator.console.tracks import CampTracks

HISTORY = 100  # recent alert transitions kept for the page's history list
FEED_LIMIT = 1000  # alert/sensor/link messages queued for one browser before it is dropped
# At most one track update message per camp this often to each browser: 10 a second moves a
# drone at 30 m/s in 3 m steps, smooth to the eye, while the core may send tens a second.
UPDATE_INTERVAL_S = 0.1

_encode = msgspec.json.Encoder().encode


def message(kind: str, **fields: Any) -> str:
    """One message to the page, as JSON text: `{"kind": ..., **fields}`."""
    return _encode({"kind": kind, **fields}).decode()


class TrackBatch:
    """A camp's track updates for the page, merged by `track_id`; encoded once, when first
    sent, and shared by every browser that sends it as it is."""

    def __init__(self, camp: str, t: float, tracks: dict[int, wire.Track]) -> None:
        self.camp = camp
        self.t = t
        self.tracks = tracks
        self._text: str | None = None

    def merged(self, newer: TrackBatch) -> TrackBatch:
        """One batch with the tracks of both; where both have a track, the newer state."""
        return TrackBatch(self.camp, max(self.t, newer.t), {**self.tracks, **newer.tracks})

    @property
    def text(self) -> str:
        if self._text is None:
            update = {"t": self.t, "tracks": list(self.tracks.values())}
            self._text = message("track_update", camp=self.camp, update=update)
        return self._text


class BrowserFeed:
    """What one browser has still to be sent: queued messages, then the newest track cycles,
    then the track updates each camp may be sent now."""

    def __init__(self, limit: int = FEED_LIMIT, update_interval: float = UPDATE_INTERVAL_S) -> None:
        self.limit = limit
        self.update_interval = update_interval
        self._queue: deque[str] = deque()
        self._tracks: dict[str, str] = {}  # camp id -> its newest cycle not yet sent
        self._updates: dict[str, TrackBatch] = {}  # camp id -> its updates not yet sent
        self._update_due: dict[str, float] = {}  # camp id -> when (loop time) it may send one
        self._wake = asyncio.Event()
        self.overflowed = False
        self.tracks_skipped = 0
        self.updates_merged = 0  # update messages merged into one waiting to be sent

    def push(self, text: str) -> None:
        """Queue a message that must arrive (alerts, sensors, links); never dropped."""
        if len(self._queue) >= self.limit:
            self.overflowed = True  # the sender ends this browser's connection
        else:
            self._queue.append(text)
        self._wake.set()

    def push_tracks(self, camp: str, text: str) -> None:
        """Offer a camp's track cycle: it replaces that camp's cycle not yet sent."""
        if camp in self._tracks:  # replaced in place: the camp keeps its turn
            self.tracks_skipped += 1
        self._tracks[camp] = text
        self._updates.pop(camp, None)  # older than the cycle, which has them or newer
        self._wake.set()

    def push_update(self, batch: TrackBatch) -> None:
        """Offer a camp's track updates: merged into that camp's updates not yet sent."""
        waiting = self._updates.get(batch.camp)
        if waiting is not None:  # merged in place: the camp keeps its turn
            self.updates_merged += 1
            batch = waiting.merged(batch)
        self._updates[batch.camp] = batch
        self._wake.set()

    async def next(self) -> str | None:
        """The next message to send, waiting for one; None once the feed has overflowed."""
        loop = asyncio.get_running_loop()
        while True:
            if self.overflowed:
                return None
            if self._queue:
                return self._queue.popleft()
            if self._tracks:
                camp = next(iter(self._tracks))  # the camp waiting longest
                return self._tracks.pop(camp)
            now = loop.time()
            ready = [c for c in self._updates if self._update_due.get(c, now) <= now]
            if ready:  # the camp waiting longest
                self._update_due[ready[0]] = now + self.update_interval
                return self._updates.pop(ready[0]).text
            self._wake.clear()
            if not self._updates:
                await self._wake.wait()
                continue
            wait = min(self._update_due[c] for c in self._updates) - now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)


@dataclass
class CampPicture:
    """One camp's part of the picture."""

    tracks: CampTracks = field(default_factory=CampTracks)
    alerts: dict[str, Any] = field(default_factory=dict)  # alert id -> alert (wire builtins)
    sensors: dict[str, Any] = field(default_factory=dict)  # sensor id -> health
    broker: bool | None = None  # connected to the broker where the camp is seen (None: unknown)
    core: str | None = None  # the core's last `status` state

    def link(self) -> dict[str, Any]:
        return {"broker": self.broker, "core": self.core}

    def snapshot(self) -> dict[str, Any]:
        return {
            "tracks": self.tracks.snapshot(),
            "alerts": list(self.alerts.values()),
            "sensors": list(self.sensors.values()),
            "link": self.link(),
        }


class Picture:
    """The current picture of one or more camps, and the browsers watching it."""

    def __init__(self, hello: dict[str, Any], camps: list[str]) -> None:
        self.set_hello(hello)
        self.camps: dict[str, CampPicture] = {camp: CampPicture() for camp in camps}
        self.history: deque[Any] = deque(maxlen=HISTORY)
        self.feeds: set[BrowserFeed] = set()
        self.dropped_browsers = 0

    def set_hello(self, hello: dict[str, Any]) -> None:
        """What a browser is told first: the camps, the mode (live, mission or review)."""
        self.hello = message("hello", **hello)

    def camp(self, camp: str) -> CampPicture:
        return self.camps[camp]

    # --- browsers ---------------------------------------------------------------------------

    def attach(self) -> BrowserFeed:
        """A feed for a new browser, already holding the hello and the current picture."""
        feed = BrowserFeed()
        feed.push(self.hello)
        feed.push(self.snapshot())
        self.feeds.add(feed)
        return feed

    def detach(self, feed: BrowserFeed) -> None:
        self.feeds.discard(feed)

    def snapshot(self) -> str:
        """Everything the page shows, in one message (it replaces the page's whole state)."""
        camps = {camp: part.snapshot() for camp, part in self.camps.items()}
        return message("snapshot", camps=camps, history=list(self.history))

    def resync(self) -> None:
        """Send every browser a fresh snapshot (after a jump in review mode)."""
        self._broadcast(self.snapshot())

    def _broadcast(self, text: str) -> None:
        for feed in list(self.feeds):
            feed.push(text)

    def send(self, kind: str, **fields: Any) -> None:
        """Any other message to every browser (review mode's clock)."""
        self._broadcast(message(kind, **fields))

    # --- changes ----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget the picture (review mode, before replaying up to a new time)."""
        for camp in self.camps:
            self.camps[camp] = CampPicture()
        self.history.clear()

    def on_tracks(self, camp: str, cycle_json: bytes, *, quiet: bool = False) -> None:
        """A track cycle, as the JSON the core published (validated by the caller): the camp's
        whole track picture."""
        self.camps[camp].tracks.take_cycle(cycle_json)
        if not quiet:
            text = _encode({"kind": "tracks", "camp": camp})[:-1].decode()
            text += ',"cycle":' + cycle_json.decode() + "}"
            for feed in list(self.feeds):
                feed.push_tracks(camp, text)

    def on_track_update(self, camp: str, update: wire.TrackUpdate, *, quiet: bool = False) -> bool:
        """The tracks a scan just updated, merged into the camp's picture and offered to every
        browser; False if the update is older than the camp's last cycle (ignored)."""
        if not self.camps[camp].tracks.take_update(update):
            return False
        if not quiet and update.tracks:
            batch = TrackBatch(camp, update.t, {t.track_id: t for t in update.tracks})
            for feed in list(self.feeds):
                feed.push_update(batch)
        return True

    def on_alert(self, camp: str, alert: wire.Alert, *, event: bool, quiet: bool = False) -> None:
        """An alert's state: a transition (`event`, from `events/alerts` or a recording) or a
        retained state; a `cleared` one leaves the active list for the history."""
        data = {**wire.to_builtins(alert), "camp": camp}
        alerts = self.camps[camp].alerts
        known = alerts.get(alert.alert_id)
        if known is not None and known["t"] > alert.t:
            return  # an older copy (a retained state arriving after a newer transition)
        if alert.state == "cleared":
            alerts.pop(alert.alert_id, None)
        else:
            alerts[alert.alert_id] = data
        if event:
            self.history.appendleft(data)
        if not quiet:
            self._broadcast(message("alert", camp=camp, alert=data, event=event))

    def on_alert_cleared(self, camp: str, alert_id: str, *, quiet: bool = False) -> None:
        """The retained state emptied: the alert is no longer active."""
        if self.camps[camp].alerts.pop(alert_id, None) is not None and not quiet:
            self._broadcast(message("alert_removed", camp=camp, alert_id=alert_id))

    def on_sensor(self, camp: str, health: wire.SensorHealth, *, quiet: bool = False) -> None:
        data = wire.to_builtins(health)
        self.camps[camp].sensors[health.sensor_id] = data
        if not quiet:
            self._broadcast(message("sensor", camp=camp, sensor=data))

    def on_status(self, camp: str, status: wire.ServiceStatus) -> None:
        part = self.camps[camp]
        part.core = status.state
        self._broadcast(message("link", camp=camp, **part.link()))

    def on_broker(self, camp: str, connected: bool) -> None:
        part = self.camps[camp]
        if connected != part.broker:
            part.broker = connected
            self._broadcast(message("link", camp=camp, **part.link()))
