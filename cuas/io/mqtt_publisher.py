"""MQTT output: the operations centres' view of the camp, published to the camp's broker.

The publisher owns its connection in a task of its own, so the fusion core never waits on
the broker: the core hands it messages and goes on. aiomqtt does not reconnect by itself,
so `run` is a retry loop with exponential backoff. While the broker is away:
- alert transitions wait in the journal's outbox (`cuas/io/journal.py`, SQLite, written by the
  service before the publisher hears of them) and go out in order when the broker is back;
  each is marked published only after the broker's PUBACK (QoS 1) for both its event and its
  retained state, so a crash or an outage loses none (a transition whose PUBACK was lost may
  go out twice: MQTT QoS 1 is at-least-once);
- tracks and sensor health are coalesced: only the newest of each topic is kept, because an
  operator wants the current picture, not a backlog of stale ones;
- track updates (`tracks/updates`, the tracks each scan updated) are merged while one waits:
  the waiting message takes the newer one's tracks (by `track_id`, newest state wins), so a
  slow broker costs intermediate states, never a track, and at most one update message is
  ever queued. Alerts always go first (they are in the journal's outbox, and the pump sends
  the outbox before anything else), so no amount of track traffic delays or sheds them.
On its first connection it republishes the retained state of the alerts a previous run left
active (`refresh`), so a broker that lost them (no persistence) shows them again.
Operator acknowledgements on `alerts/+/ack` are validated and handed to `on_ack`; bad ones
are counted and logged, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiomqtt

from cuas import wire
from cuas.config import CampConfig
from cuas.io.journal import Journal, Row
from cuas.io.mqtt_client import mqtt_client
from cuas.topics import Topics

log = logging.getLogger("cuas.mqtt")


@dataclass(frozen=True, slots=True)
class Publication:
    """One message to publish; a wire message is encoded (JSON) only when it is sent, so
    the core's hot path never pays for it and a coalesced one is never encoded at all."""

    topic: str
    message: wire.TrackCycle | wire.TrackUpdate | wire.SensorHealth
    qos: int
    retain: bool

    @property
    def payload(self) -> bytes:
        return wire.to_json(self.message)


@dataclass
class PublisherStats:
    published: int = 0
    connections: int = 0
    failures: int = 0
    coalesced: int = 0  # track cycles or health replaced by a newer one before they went out
    updates_merged: int = 0  # track updates merged into one still waiting to go out
    acks: int = 0
    bad_acks: int = 0
    transitions: int = 0  # alert transitions published and marked in the journal


class MqttPublisher:
    """Publishes tracks, alerts, sensor health and the service status for one camp."""

    def __init__(
        self,
        config: CampConfig,
        journal: Journal,
        on_ack: Callable[[str, wire.Ack], None] | None = None,
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        publish_timeout_s: float = 10.0,
        refresh: list[Row] | None = None,
        mark_published: Callable[[list[int]], None] | None = None,
    ) -> None:
        """`mark_published` records rows the broker acknowledged (the live core's journal
        writer thread); default: in `journal`, at once."""
        self.config = config
        self.journal = journal
        self._mark_published = mark_published or self._mark_in_journal
        self._sent_through = 0  # the last journal row published (its mark may be on its way)
        self._refresh = [r for r in refresh or [] if r.published_at is not None]
        self.topics = Topics(config.mqtt_prefix)
        self.on_ack = on_ack
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.publish_timeout_s = publish_timeout_s
        self.stats = PublisherStats()
        self.connected = False
        self._latest: dict[str, Publication] = {}
        self._outbox = True  # the journal may hold unpublished transitions
        self._wake: asyncio.Event | None = None
        self._closing = False

    # --- what the core hands over (never blocks) ----------------------------------

    def alerts_journaled(self) -> None:
        """New transitions are in the journal's outbox: publish them when connected."""
        self._outbox = True
        self._poke()

    def tracks(self, cycle: wire.TrackCycle) -> None:
        self._latest_only(Publication(self.topics.tracks, cycle, 0, False))

    def track_update(self, update: wire.TrackUpdate) -> None:
        """The tracks scans just updated; merged into the one still waiting, if any."""
        topic = self.topics.track_updates
        waiting = self._latest.pop(topic, None)
        if waiting is not None:
            self.stats.updates_merged += 1
            update = merge_updates(waiting.message, update)  # type: ignore[arg-type]
        self._latest[topic] = Publication(topic, update, 0, False)
        self._poke()

    @property
    def update_waiting(self) -> bool:
        """Whether a track update is queued and not yet sent."""
        return self.topics.track_updates in self._latest

    def sensor(self, health: wire.SensorHealth) -> None:
        topic = self.topics.sensor(health.sensor_id)
        self._latest_only(Publication(topic, health, 1, True))

    @property
    def pending(self) -> int:
        return self.journal.pending_count(after=self._sent_through) + len(self._latest)

    def _mark_in_journal(self, seqs: list[int]) -> None:
        self.journal.write(delivered=seqs)  # one transaction for the batch

    def close(self) -> None:
        """Ask `run` to publish what is queued, announce `offline`, and return."""
        self._closing = True
        self._poke()

    def _latest_only(self, p: Publication) -> None:
        if self._latest.pop(p.topic, None) is not None:
            self.stats.coalesced += 1
        self._latest[p.topic] = p
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # --- the connection task ------------------------------------------------------

    def _status(self, state: str, t: float | None) -> bytes:
        return wire.to_json(
            wire.ServiceStatus(v=wire.VERSION, camp_id=self.config.camp_id, state=state, t=t)
        )

    async def run(self) -> None:
        """Connect, publish, reconnect with backoff; return after `close()`."""
        self._wake = asyncio.Event()
        backoff = self.min_backoff_s
        mqtt = self.config.mqtt
        will = aiomqtt.Will(self.topics.status, self._status("offline", None), qos=1, retain=True)
        while True:
            try:
                async with mqtt_client(
                    mqtt,
                    identifier=f"cuas-core-{self.config.camp_id}",
                    will=will,
                    timeout=self.publish_timeout_s,
                ) as client:
                    self.connected = True
                    self.stats.connections += 1
                    backoff = self.min_backoff_s
                    log.info("connected to MQTT broker %s:%d", mqtt.host, mqtt.port)
                    await self._session(client)
                    return
            except aiomqtt.MqttError as exc:
                self.connected = False
                self.stats.failures += 1
                if self.stats.failures == 1 or self.stats.connections:
                    log.warning(
                        "MQTT broker %s:%d unavailable: %s (retrying, %d queued)",
                        mqtt.host,
                        mqtt.port,
                        exc,
                        self.pending,
                    )
                if self._closing:
                    log.warning("shutting down with %d MQTT messages unsent", self.pending)
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wait_closing(), timeout=backoff)
                backoff = min(backoff * 2.0, self.max_backoff_s)

    async def _wait_closing(self) -> None:
        while not self._closing:
            assert self._wake is not None
            await self._wake.wait()
            self._wake.clear()

    async def _session(self, client: aiomqtt.Client) -> None:
        await client.publish(
            self.topics.status, self._status("online", time.time()), qos=1, retain=True
        )
        await client.subscribe(self.topics.acks, qos=1)
        listener = asyncio.create_task(self._listen(client))
        pump = asyncio.create_task(self._pump(client))
        done, _ = await asyncio.wait({listener, pump}, return_when=asyncio.FIRST_COMPLETED)
        for task in (listener, pump):
            task.cancel()
        await asyncio.gather(listener, pump, return_exceptions=True)
        for task in done:
            if (exc := task.exception()) is not None:
                raise exc
        await client.publish(
            self.topics.status, self._status("offline", time.time()), qos=1, retain=True
        )
        self.connected = False

    async def _pump(self, client: aiomqtt.Client) -> None:
        """Publish whatever is queued; return once closing and everything has gone out."""
        assert self._wake is not None
        while self._refresh:
            row = self._refresh[0]
            await client.publish(self.topics.alert(row.alert_id), row.payload, qos=1, retain=True)
            self._refresh.pop(0)
            self.stats.published += 1
        self._outbox = True  # whatever a previous session or run left unpublished
        while True:
            self._wake.clear()
            # The outbox is read only when the service says it journaled something: a count
            # of the journal's unpublished rows scans the table, and this loop turns for every
            # track message.
            while self._outbox:
                self._outbox = False
                while rows := self.journal.pending(limit=64, after=self._sent_through):
                    await self._publish_transitions(client, rows)
            while self._latest and not self._outbox:
                await self._publish_latest(client)
            if self._outbox or self._latest:
                continue
            if self._closing:
                return
            await self._wake.wait()

    async def _publish_latest(self, client: aiomqtt.Client) -> None:
        """Everything that waits (at most one message a topic), all in flight at once: the
        track update first, then the cycle, then sensor health. Sent one at a time, each QoS 1
        message held the others for a PUBACK's round trip, a few turns of a busy core's loop;
        and a picture sent before the rest in turns would starve them under a flood."""
        first = [t for t in (self.topics.track_updates, self.topics.tracks) if t in self._latest]
        topics = first + [t for t in self._latest if t not in first]
        batch = [(topic, self._latest.pop(topic)) for topic in topics]
        results = await asyncio.gather(
            *(client.publish(p.topic, p.payload, qos=p.qos, retain=p.retain) for _, p in batch),
            return_exceptions=True,
        )
        for (topic, p), result in zip(batch, results, strict=True):
            if not isinstance(result, BaseException):
                self.stats.published += 1
            elif topic == self.topics.track_updates and topic in self._latest:
                newer = self._latest[topic]  # keep the unsent tracks too
                message = merge_updates(p.message, newer.message)  # type: ignore[arg-type]
                self._latest[topic] = Publication(topic, message, 0, False)
            else:
                self._latest.setdefault(topic, p)  # unless a newer one arrived meanwhile
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _publish_transitions(self, client: aiomqtt.Client, rows: list[Row]) -> None:
        """Each row's event, then its retained state (empty on `cleared`), all in flight at
        once, in journal order (one connection: the broker keeps it); then all are marked
        published. One round trip for the lot, not two per row: on a busy core, each wait
        for a PUBACK costs a turn of a crowded loop, and tracks wait while alerts are pending.
        If the connection fails meanwhile, none is marked and all go again on reconnect
        (at-least-once; consumers drop copies by `seq`)."""
        sends = []
        for row in rows:
            retained = b"" if row.state == "cleared" else row.payload
            sends.append(client.publish(self.topics.alert_events, row.payload, qos=1))
            sends.append(
                client.publish(self.topics.alert(row.alert_id), retained, qos=1, retain=True)
            )
        results = await asyncio.gather(*sends, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self._sent_through = rows[-1].seq
        self._mark_published([row.seq for row in rows])
        self.stats.published += 2 * len(rows)
        self.stats.transitions += len(rows)

    async def _listen(self, client: aiomqtt.Client) -> None:
        """Operator acknowledgements on `alerts/<id>/ack`."""
        async for message in client.messages:
            alert_id = self.topics.alert_id_of_ack(message.topic.value)
            if alert_id is None:
                continue
            try:
                ack = wire.decode_ack(bytes(message.payload))  # type: ignore[arg-type]
            except (wire.WireError, TypeError) as exc:
                self.stats.bad_acks += 1
                log.warning("bad acknowledgement for %s: %s", alert_id, exc)
                continue
            self.stats.acks += 1
            if self.on_ack is not None:
                self.on_ack(alert_id, ack)


def merge_updates(older: wire.TrackUpdate, newer: wire.TrackUpdate) -> wire.TrackUpdate:
    """One update with the tracks of both; where both carry a track, the newer state."""
    tracks = {track.track_id: track for track in older.tracks}
    tracks.update((track.track_id, track) for track in newer.tracks)
    return wire.TrackUpdate(v=newer.v, t=newer.t, tracks=list(tracks.values()))
