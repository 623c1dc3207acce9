"""The camp's MQTT output into the console's picture; operators' acknowledgements out.

The console subscribes like any consumer (`cuas.io.mqtt_client`, `cuas.io.mqtt_output`): the
retained status, alert states and sensor health give a console that starts late the current
picture at once; the track cycles and, between them, each scan's track updates keep the map
current. aiomqtt does not reconnect by itself, so the bridge retries with backoff and
tells the picture when the broker is lost (the page's offline banner). A bad payload is
counted by reason and logged once per reason, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiomqtt
import msgspec

from cuas import wire
from cuas.config import MqttConfig
from cuas.errors import WireError
from cuas.io.mqtt_client import mqtt_client
from cuas.io.mqtt_output import AlertDeduplicator, decode_output
from cuas.operator.console.picture import Picture
from cuas.topics import Topics

log = logging.getLogger(__name__)

ACK_QUEUE = 1000  # acknowledgements waiting for the broker before new ones are refused
# After a reconnect the broker re-sends every active alert's retained state at once; an alert
# the console still shows that is not among them within this time ended while it was away.
RECONFIRM_S = 2.0


@dataclass
class BridgeStats:
    """What the bridge saw: messages, bad payloads by reason, connections, acks."""

    messages: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    connection_failures: int = 0
    acks_sent: int = 0
    acks_refused: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0  # alert transitions delivered twice, dropped by their `seq`
    stale_updates: int = 0  # track updates older than the last cycle, ignored


class AckRefusedError(ValueError):
    """An acknowledgement from a page that cannot be sent; `reason` is a counter key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class MqttBridge:
    """One camp, as seen on one broker <-> its part of the picture."""

    def __init__(
        self,
        mqtt: MqttConfig,
        topics: Topics,
        picture: Picture,
        camp: str,
        *,
        retry_min_s: float = 0.5,
        retry_max_s: float = 5.0,
    ) -> None:
        self.mqtt = mqtt
        self.topics = topics
        self.picture = picture
        self.camp = camp
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.stats = BridgeStats()
        self._acks: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(ACK_QUEUE)
        self.connected = asyncio.Event()
        self._unconfirmed: set[str] = set()  # alerts not yet re-sent since the reconnect
        self._seen = AlertDeduplicator()  # MQTT delivers at least once; a seen `seq` is a copy

    # --- acknowledgements from the page ------------------------------------------------------

    def acknowledge(self, alert_id: object, by: object) -> None:
        """Queue an operator's ack of `alert_id` for `alerts/<id>/ack`; `AckRefusedError` if the id
        or name is not acceptable, or the queue is full (the broker long gone)."""
        try:
            if not isinstance(alert_id, str) or not alert_id or len(alert_id) > 128:
                raise AckRefusedError("bad_alert_id", "alert id must be a non-empty string")
            if any(c in alert_id for c in "/+#\0"):
                raise AckRefusedError("bad_alert_id", f"alert id {alert_id!r}: not one topic level")
            if not isinstance(by, str) or not by.strip() or len(by.strip()) > 128:
                raise AckRefusedError("bad_operator", "operator name must be 1-128 characters")
            payload = wire.to_json(wire.Ack(by=by.strip(), t=time.time()))
            try:
                self._acks.put_nowait((alert_id, payload))
            except asyncio.QueueFull:
                raise AckRefusedError("queue_full", "broker unreachable; ack not queued") from None
        except AckRefusedError as exc:
            self.stats.acks_refused[exc.reason] += 1
            raise

    # --- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the camp's topics until cancelled, reconnecting whenever the broker goes."""
        delay = self.retry_min_s
        where = f"{self.mqtt.host}:{self.mqtt.port}"
        me = asyncio.current_task()
        while True:
            # Python 3.11's wait_for (inside aiomqtt) can swallow a cancellation that lands as
            # its operation completes; the task still knows it was asked to stop.
            if me is not None and me.cancelling():
                raise asyncio.CancelledError
            try:
                async with mqtt_client(
                    self.mqtt,
                    identifier=f"cuas-console-{self.camp}-{uuid.uuid4().hex[:8]}",
                    clean_session=True,
                    timeout=5.0,
                ) as client:
                    t = self.topics
                    await client.subscribe(
                        [(t.status, 1), (t.alerts, 1), (t.alert_events, 1), (t.sensors, 1)]
                    )
                    await client.subscribe([(t.tracks, 0), (t.track_updates, 0)])
                    self.stats.connects += 1
                    log.info("console: subscribed to %s on %s", t.prefix, where)
                    delay = self.retry_min_s
                    self.picture.on_broker(self.camp, True)
                    self.connected.set()
                    self._unconfirmed = set(self.picture.camp(self.camp).alerts)
                    if self._unconfirmed:
                        asyncio.get_running_loop().call_later(RECONFIRM_S, self._drop_stale)
                    sender = asyncio.create_task(self._send_acks(client))
                    try:
                        async for m in client.messages:
                            self.handle(m.topic.value, _payload(m.payload))
                    finally:
                        sender.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await sender
            except aiomqtt.MqttError as exc:
                self.stats.connection_failures += 1
                log.warning("console: broker %s: %s; retrying in %.1f s", where, exc, delay)
            self.connected.clear()
            self.picture.on_broker(self.camp, False)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2.0, self.retry_max_s)

    async def _send_acks(self, client: aiomqtt.Client) -> None:
        while True:
            alert_id, payload = await self._acks.get()
            await client.publish(self.topics.ack(alert_id), payload, qos=1)
            self.stats.acks_sent += 1
            log.info("console: ack of %s sent", alert_id)

    def _drop_stale(self) -> None:
        """Alerts whose retained state did not come back after a reconnect: gone (cleared, or
        lost by a broker restarted without persistence)."""
        for alert_id in sorted(self._unconfirmed):
            log.info("console: alert %s no longer retained; removed", alert_id)
            self.picture.on_alert_cleared(self.camp, alert_id)
        self._unconfirmed.clear()

    def handle(self, topic: str, payload: bytes) -> None:
        """One message from the broker into the picture; a bad one is counted, never fatal."""
        self.stats.messages += 1
        try:
            out = decode_output(self.topics, topic, payload)
        except WireError as exc:
            self._bad(exc.reason, f"{topic}: {exc}")
            return
        except msgspec.DecodeError as exc:  # defensive: the decoder should wrap these
            self._bad("malformed", f"{topic}: {exc}")
            return
        p, camp = self.picture, self.camp
        if out.key is not None:
            self._unconfirmed.discard(out.key)
        if out.kind == "tracks":
            p.on_tracks(camp, payload)
        elif out.kind == "track_update":
            if not p.on_track_update(camp, out.message):
                self.stats.stale_updates += 1
        elif out.kind == "alert_event":
            if self._seen.is_new(out.message):
                p.on_alert(camp, out.message, event=True)
            else:
                self.stats.duplicates += 1
        elif out.kind == "alert_state":
            p.on_alert(camp, out.message, event=False)
        elif out.kind == "alert_cleared" and out.key:
            p.on_alert_cleared(camp, out.key)
        elif out.kind == "sensor":
            p.on_sensor(camp, out.message)
        elif out.kind == "status":
            p.on_status(camp, out.message)

    def _bad(self, reason: str, detail: str) -> None:
        self.stats.bad[reason] += 1
        n = self.stats.bad[reason]
        if n == 1 or n % 1000 == 0:  # once per reason, then every thousandth
            log.warning("console: bad payload (%s, %d so far): %s", reason, n, detail)


def _payload(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()
