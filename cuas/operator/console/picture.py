"""The camp's picture as the console holds it, and what each browser is sent.

The console keeps the latest track cycle, the active alerts, recent alert transitions, sensor
health and the state of its links (broker, core). A browser that connects is sent all of it at
once (a `snapshot`), then every change. Messages are encoded to JSON once and shared by every
browser.

Each browser has its own bounded feed, so a slow one never holds up the others: a track cycle
replaces the one not yet sent (latest wins: the picture is always current, cycles are
skipped), while alert, sensor and link messages are never dropped; a browser so far behind
that its feed overflows is disconnected, and its page reconnects to a fresh snapshot.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import msgspec

from cuas import wire

HISTORY = 100  # recent alert transitions kept for the page's history list
FEED_LIMIT = 1000  # alert/sensor/link messages queued for one browser before it is dropped

_encode = msgspec.json.Encoder().encode


def message(kind: str, **fields: Any) -> str:
    """One message to the page, as JSON text: `{"kind": ..., **fields}`."""
    return _encode({"kind": kind, **fields}).decode()


class BrowserFeed:
    """What one browser has still to be sent: queued messages, then the newest track cycle."""

    def __init__(self, limit: int = FEED_LIMIT) -> None:
        self.limit = limit
        self._queue: deque[str] = deque()
        self._tracks: str | None = None
        self._wake = asyncio.Event()
        self.overflowed = False
        self.tracks_skipped = 0

    def push(self, text: str) -> None:
        """Queue a message that must arrive (alerts, sensors, links); never dropped."""
        if len(self._queue) >= self.limit:
            self.overflowed = True  # the sender ends this browser's connection
        else:
            self._queue.append(text)
        self._wake.set()

    def push_tracks(self, text: str) -> None:
        """Offer a track cycle: it replaces a cycle not yet sent."""
        if self._tracks is not None:
            self.tracks_skipped += 1
        self._tracks = text
        self._wake.set()

    async def next(self) -> str | None:
        """The next message to send, waiting for one; None once the feed has overflowed."""
        while True:
            if self.overflowed:
                return None
            if self._queue:
                return self._queue.popleft()
            if self._tracks is not None:
                text, self._tracks = self._tracks, None
                return text
            self._wake.clear()
            await self._wake.wait()


class Picture:
    """The current picture of one camp, and the browsers watching it."""

    def __init__(self, hello: dict[str, Any]) -> None:
        self.set_hello(hello)
        self.tracks: str | None = None  # the latest `tracks` message
        self.alerts: dict[str, Any] = {}  # alert id -> alert (wire builtins)
        self.sensors: dict[str, Any] = {}  # sensor id -> health (wire builtins)
        self.history: deque[Any] = deque(maxlen=HISTORY)
        self.broker: bool | None = None  # connected to the broker (None: not yet known)
        self.core: str | None = None  # the core's last `status` state
        self.feeds: set[BrowserFeed] = set()
        self.dropped_browsers = 0

    def set_hello(self, hello: dict[str, Any]) -> None:
        """What a browser is told first: the camp, the mode (live or review)."""
        self.hello = message("hello", **hello)

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
        tracks = msgspec.json.decode(self.tracks)["cycle"] if self.tracks else None
        return message(
            "snapshot",
            tracks=tracks,
            alerts=list(self.alerts.values()),
            sensors=list(self.sensors.values()),
            history=list(self.history),
            link=self._link(),
        )

    def resync(self) -> None:
        """Send every browser a fresh snapshot (after a jump in review mode)."""
        text = self.snapshot()
        for feed in list(self.feeds):
            feed.push(text)

    def _broadcast(self, text: str) -> None:
        for feed in list(self.feeds):
            feed.push(text)

    # --- changes ----------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget the picture (review mode, before replaying up to a new time)."""
        self.tracks = None
        self.alerts.clear()
        self.sensors.clear()
        self.history.clear()

    def on_tracks(self, cycle_json: bytes, *, quiet: bool = False) -> None:
        """A track cycle, as the JSON the core published (validated by the caller)."""
        self.tracks = '{"kind":"tracks","cycle":' + cycle_json.decode() + "}"
        if not quiet:
            for feed in list(self.feeds):
                feed.push_tracks(self.tracks)

    def on_alert(self, alert: wire.Alert, *, event: bool, quiet: bool = False) -> None:
        """An alert's state: a transition (`event`, from `events/alerts` or a recording) or a
        retained state; a `cleared` one leaves the active list for the history."""
        data = wire.to_builtins(alert)
        known = self.alerts.get(alert.alert_id)
        if known is not None and known["t"] > alert.t:
            return  # an older copy (a retained state arriving after a newer transition)
        if alert.state == "cleared":
            self.alerts.pop(alert.alert_id, None)
        else:
            self.alerts[alert.alert_id] = data
        if event:
            self.history.appendleft(data)
        if not quiet:
            self._broadcast(message("alert", alert=data, event=event))

    def on_alert_cleared(self, alert_id: str, *, quiet: bool = False) -> None:
        """The retained state emptied: the alert is no longer active."""
        if self.alerts.pop(alert_id, None) is not None and not quiet:
            self._broadcast(message("alert_removed", alert_id=alert_id))

    def on_sensor(self, health: wire.SensorHealth, *, quiet: bool = False) -> None:
        data = wire.to_builtins(health)
        self.sensors[health.sensor_id] = data
        if not quiet:
            self._broadcast(message("sensor", sensor=data))

    def on_status(self, status: wire.ServiceStatus) -> None:
        self.core = status.state
        self._broadcast(message("link", **self._link()))

    def on_broker(self, connected: bool) -> None:
        if connected != self.broker:
            self.broker = connected
            self._broadcast(message("link", **self._link()))

    def send(self, kind: str, **fields: Any) -> None:
        """Any other message to every browser (review mode's clock)."""
        self._broadcast(message(kind, **fields))

    def _link(self) -> dict[str, Any]:
        return {"broker": self.broker, "core": self.core}
