"""`cuas tail`: follow a camp's MQTT output on a terminal, one readable line per event.

For operators and integrators checking what the core publishes (DESIGN.md, "Core ->
consumers"): service status, alert transitions, the active alerts retained at start-up, a
one-line summary per track cycle and sensor health changes; or, with `--json`, every message
as a JSON line with its topic. Every payload is validated with `cuas.wire`; a bad one is
reported and counted, never fatal. aiomqtt does not reconnect by itself, so `tail` retries
with exponential backoff until the broker is back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import aiomqtt
import msgspec

from cuas import wire
from cuas.config import MqttConfig
from cuas.io.mqtt_client import mqtt_client
from cuas.io.mqtt_output import AlertDeduplicator, decode_output
from cuas.topics import Topics
from cuas.wire import Alert, SensorHealth, ServiceStatus, TrackCycle, WireError

_THREAT_RANK = {name: rank for rank, name in enumerate(wire.THREATS)}


@dataclass(frozen=True)
class TailSettings:
    """What to follow and how: broker, camp prefix, output form and when to stop."""

    prefix: str
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    raw_json: bool = False  # print every message as {"topic", "retain", "payload"}
    tracks: bool = True  # subscribe to the track stream at all
    count: int | None = None  # stop after this many messages
    duration_s: float | None = None  # stop after this many seconds
    top: int = 3  # threats listed per track cycle
    retry_min_s: float = 0.5
    retry_max_s: float = 10.0
    connect_timeout_s: float = 5.0
    # The camp's `[mqtt]`, for its credentials and TLS (password_file, tls_*); host, port,
    # username and password above override it.
    mqtt: MqttConfig | None = None

    def broker(self) -> MqttConfig:
        """The `[mqtt]` settings to connect with: the camp's, with this tail's overrides."""
        base = self.mqtt or MqttConfig()
        if self.password is not None:
            base = msgspec.structs.replace(base, password=self.password, password_file=None)
        return msgspec.structs.replace(
            base,
            host=self.host,
            port=self.port,
            username=self.username if self.username is not None else base.username,
            keepalive_s=self.keepalive_s,
        )

    @property
    def topics(self) -> Topics:
        return Topics(self.prefix.rstrip("/"))


@dataclass
class TailStats:
    """What `tail` saw: messages, bad payloads by reason, connections and losses."""

    messages: int = 0
    bad: int = 0
    bad_reasons: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    connection_failures: int = 0
    duplicates: int = 0  # alert transitions seen before (same `seq`), dropped


# --- rendering ----------------------------------------------------------------------------


def clock(t: float | None) -> str:
    """UTC time of day to a tenth of a second, e.g. `16:00:03.2Z` (`--:--:--.-Z` if None)."""
    if t is None or not math.isfinite(t):
        return "--:--:--.-Z"
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S.%f")[:-5] + "Z"


def _distance(metres: float) -> str:
    return f"{metres:.0f}m" if metres < 1000.0 else f"{metres / 1000.0:.1f}km"


def _counts(counter: Counter[str], order: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {counter[name]}" for name in order if counter[name])


def format_status(status: ServiceStatus, received: float) -> str:
    return f"{clock(status.t or received)} STATUS  camp {status.camp_id} {status.state}"


def format_alert(alert: Alert, *, retained: bool = False) -> str:
    """One alert line: time, state, level, id, zone, eta, track, who acked, reason."""
    label = "ACTIVE " if retained else "ALERT  "
    eta = "-" if alert.eta_s is None else f"{alert.eta_s:.0f}s"
    parts = [
        f"{clock(alert.t)} {label} {alert.state:<12} {alert.level:<8} {alert.alert_id}",
        f"zone={alert.zone or '-'}",
        f"eta={eta}",
        f"track={'-' if alert.track_id is None else alert.track_id}",
    ]
    if alert.acknowledged_by:
        parts.append(f"ack={alert.acknowledged_by}")
    parts.append(alert.reason)
    return "  ".join(parts)


def format_cycle(cycle: TrackCycle, top: int = 3) -> str:
    """One track-cycle line: counts by status, class and threat, then the top threats."""
    live = [t for t in cycle.tracks if t.status != "deleted"]
    statuses = Counter(t.status for t in cycle.tracks)
    classes = Counter(t.class_ for t in live)
    threats = Counter(t.threat for t in live)
    text = f"{clock(cycle.t)} TRACKS  {len(live)} live"
    if cycle.tracks:
        text += f": {_counts(statuses, wire.TRACK_STATUSES)}"
        text += f" | {_counts(classes, wire.CLASSES) or '-'}"
        text += f" | threat {_counts(threats, tuple(reversed(wire.THREATS))) or '-'}"
    ranked = sorted(
        (t for t in live if t.threat != "none"),
        key=lambda t: (-_THREAT_RANK[t.threat], math.hypot(t.enu[0], t.enu[1])),
    )[:top]
    if ranked:
        shown = [
            f"#{t.track_id} {t.class_} {t.threat} {_distance(math.hypot(t.enu[0], t.enu[1]))}"
            + (" friendly" if t.friendly else "")
            for t in ranked
        ]
        text += " | top: " + ", ".join(shown)
    return text


def format_sensor(health: SensorHealth) -> str:
    """One sensor-health line: state, rate, reports, last report, rejects, detail."""
    text = (
        f"{clock(health.t)} SENSOR  {health.sensor_id} ({health.kind}) {health.state}"
        f"  {health.report_rate_hz:.1f} Hz  {health.reports} reports"
        f"  last {clock(health.t_last_report)}"
    )
    rejected = sum(health.rejects.values())
    if rejected:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(health.rejects.items()) if v)
        text += f"  rejects {rejected} ({reasons})"
    if health.detail:
        text += f"  {health.detail}"
    return text


# --- message handling ----------------------------------------------------------------------


class _View:
    """Decodes each message, prints what changed, counts what was bad."""

    def __init__(self, settings: TailSettings, out: TextIO, notes: TextIO, stats: TailStats):
        self.settings = settings
        self.out = out
        self.notes = notes
        self.stats = stats
        self.head = settings.topics.prefix + "/"
        self.status: tuple[str, float | None] | None = None
        self.alerts: dict[str, tuple[str, float]] = {}
        self.dedupe = AlertDeduplicator()
        self.sensors: dict[str, tuple[str, str, tuple[tuple[str, int], ...]]] = {}

    def emit(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.notes.write(f"{clock(time.time())} TAIL    {text}\n")
        self.notes.flush()

    def handle(self, topic: str, payload: bytes, retain: bool) -> None:
        """Route one message by its topic under the prefix; never raises on bad payloads."""
        self.stats.messages += 1
        received = time.time()
        try:
            out = decode_output(self.settings.topics, topic, payload)
            if out.kind == "status":
                self._status(out.message, received, topic, payload, retain)
            elif out.kind == "tracks":
                self._cycle(out.message, topic, payload, retain)
            elif out.kind == "alert_event":
                self._alert(out.message, topic, payload, retain, event=True)
            elif out.kind == "alert_state":
                self._alert(out.message, topic, payload, retain, event=False)
            elif out.kind == "alert_cleared":  # an empty retained payload clears the alert
                self.alerts.pop(out.key or "", None)
                self._raw(topic, payload, retain)
            elif out.kind == "sensor":
                self._sensor(out.message, topic, payload, retain)
            else:
                self._raw(topic, payload, retain)
        except WireError as exc:
            self._bad(topic, payload, retain, exc, received)

    def _raw(self, topic: str, payload: bytes, retain: bool) -> bool:
        """In `--json` mode print the message as received (compacted) and say so."""
        if not self.settings.raw_json:
            return False
        # A validated payload is spliced in as sent, only minus its whitespace; anything else
        # (a topic tail does not decode) as a JSON string.
        try:
            body = msgspec.json.format(payload, indent=-1) if payload else b"null"
        except msgspec.DecodeError:
            body = msgspec.json.encode(payload.decode("utf-8", errors="replace"))
        head = msgspec.json.encode({"topic": topic, "retain": retain})[:-1]
        self.emit((head + b',"payload":' + body + b"}").decode())
        return True

    def _bad(
        self, topic: str, payload: bytes, retain: bool, exc: WireError, received: float
    ) -> None:
        self.stats.bad += 1
        self.stats.bad_reasons[exc.reason] += 1
        if self.settings.raw_json:
            raw = payload.decode("utf-8", errors="replace")
            error = f"{exc.reason}: {exc.detail}"
            line = {"topic": topic, "retain": retain, "error": error, "raw": raw}
            self.emit(msgspec.json.encode(line).decode())
        else:
            self.emit(f"{clock(received)} WARNING bad payload on {topic}: {exc}")

    def _status(
        self, status: ServiceStatus, received: float, topic: str, payload: bytes, retain: bool
    ) -> None:
        if self._raw(topic, payload, retain):
            return
        key = (status.state, status.t)
        if key != self.status:
            self.status = key
            self.emit(format_status(status, received))

    def _cycle(self, cycle: TrackCycle, topic: str, payload: bytes, retain: bool) -> None:
        if not self._raw(topic, payload, retain):
            self.emit(format_cycle(cycle, self.settings.top))

    def _alert(self, alert: Alert, topic: str, payload: bytes, retain: bool, event: bool) -> None:
        if event and not self.dedupe.is_new(alert):
            self.stats.duplicates += 1  # a redelivery (same `seq`): shown once only
            return
        known = self.alerts.get(alert.alert_id)
        self.alerts[alert.alert_id] = (alert.state, alert.t)
        if self._raw(topic, payload, retain):
            return
        if event:
            self.emit(format_alert(alert))
        elif retain and known != (alert.state, alert.t):
            # A retained alert is one active before we subscribed (or reconnected); a live
            # update of the same alert also comes as a transition on events/alerts.
            self.emit(format_alert(alert, retained=True))

    def _sensor(self, health: SensorHealth, topic: str, payload: bytes, retain: bool) -> None:
        if self._raw(topic, payload, retain):
            return
        key = (health.state, health.detail, tuple(sorted(health.rejects.items())))
        if self.sensors.get(health.sensor_id) != key:
            self.sensors[health.sensor_id] = key
            self.emit(format_sensor(health))


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


# --- the loop -----------------------------------------------------------------------------


def subscriptions(settings: TailSettings) -> list[tuple[str, int]]:
    """Topic filters and QoS levels `tail` subscribes to (the track stream is optional)."""
    topics = settings.topics
    subs = [(topics.status, 1), (topics.alerts, 1), (topics.alert_events, 1), (topics.sensors, 1)]
    if settings.tracks:
        subs.append((topics.tracks, 0))
    return subs


async def tail(
    settings: TailSettings,
    out: TextIO,
    *,
    notes: TextIO | None = None,
    stats: TailStats | None = None,
    ready: asyncio.Event | None = None,
) -> TailStats:
    """Follow the camp's topics, writing lines to `out`, until `count`/`duration_s` is reached.

    Connection notes (lost, retrying, back) go to `notes`: `out` by default, stderr with
    `--json` so that `out` stays pure JSON lines. `ready` is set once subscribed.
    """
    stats = stats if stats is not None else TailStats()
    if notes is None:
        notes = sys.stderr if settings.raw_json else out
    view = _View(settings, out, notes, stats)
    if settings.count is not None and settings.count <= 0:
        return stats
    try:
        async with asyncio.timeout(settings.duration_s) as deadline:
            await _follow(settings, view, ready)
    except TimeoutError:
        if not deadline.expired():
            raise
    return stats


async def _follow(settings: TailSettings, view: _View, ready: asyncio.Event | None) -> None:
    stats = view.stats
    delay = settings.retry_min_s
    where = f"{settings.host}:{settings.port}"
    while True:
        try:
            async with mqtt_client(
                settings.broker(),
                identifier=f"cuas-tail-{uuid.uuid4().hex[:8]}",
                timeout=settings.connect_timeout_s,
                clean_session=True,
            ) as client:
                await client.subscribe(subscriptions(settings))
                stats.connects += 1
                if stats.connects > 1:
                    view.note(f"reconnected to {where}")
                delay = settings.retry_min_s
                if ready is not None:
                    ready.set()
                async for message in client.messages:
                    view.handle(str(message.topic), _payload_bytes(message.payload), message.retain)
                    if settings.count is not None and stats.messages >= settings.count:
                        return
        except aiomqtt.MqttError as exc:
            stats.connection_failures += 1
            view.note(f"broker {where}: {exc}; retrying in {delay:.1f} s")
        # Jitter keeps a room full of consoles from reconnecting in lockstep.
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(delay * 2.0, settings.retry_max_s)


# --- command line -------------------------------------------------------------------------


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas tail` on the CLI's subparsers (`argparse._SubParsersAction`)."""
    p = subparsers.add_parser(
        "tail",
        help="follow a camp's MQTT output: status, alerts, track summaries, sensor health",
        description="Subscribe to a camp's MQTT topics and print, as they arrive, service "
        "status changes, alert transitions (and the active alerts retained at start-up), one "
        "summary per track cycle and sensor health changes. Reconnects if the broker goes away.",
    )
    p.add_argument("--config", help="camp configuration (TOML): broker and topic prefix")
    p.add_argument("--host", help="MQTT broker host (default: from --config, else 127.0.0.1)")
    p.add_argument("--port", type=int, help="MQTT broker port (default: from --config, else 1883)")
    p.add_argument("--prefix", help="topic prefix (default: from --config, cuas/<camp_id>)")
    p.add_argument("--json", action="store_true", help="print every message as a JSON line")
    p.add_argument(
        "--tracks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="follow the track stream (default: yes)",
    )
    p.add_argument("--top", type=int, default=3, help="threats listed per track cycle")
    p.add_argument("--count", type=int, help="exit after N messages")
    p.add_argument("--duration", type=float, help="exit after S seconds")
    p.set_defaults(func=run)
    return p


def settings_from_args(args: argparse.Namespace) -> TailSettings:
    """Settings from `--config` (broker, credentials, prefix) with command-line overrides."""
    host, port, prefix = "127.0.0.1", 1883, None
    keepalive = 30
    mqtt = None
    if args.config:
        from cuas.config import load_config

        config = load_config(args.config)
        host, port, prefix = config.mqtt.host, config.mqtt.port, config.mqtt_prefix
        keepalive = config.mqtt.keepalive_s
        mqtt = config.mqtt  # credentials and TLS, password_file included
    prefix = args.prefix or prefix
    if not prefix:
        raise SystemExit("cuas tail: give --config CAMP.toml or --prefix cuas/<camp_id>")
    return TailSettings(
        prefix=prefix,
        host=args.host or host,
        port=args.port or port,
        keepalive_s=keepalive,
        mqtt=mqtt,
        raw_json=args.json,
        tracks=args.tracks,
        count=args.count,
        duration_s=args.duration,
        top=args.top,
    )


def run(args: argparse.Namespace) -> int:
    """`cuas tail`: follow until --count/--duration or Ctrl-C, then print a one-line tally."""
    settings = settings_from_args(args)
    stats = TailStats()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a tail normally ends
        asyncio.run(tail(settings, sys.stdout, stats=stats))
    bad = ", ".join(f"{k} {v}" for k, v in sorted(stats.bad_reasons.items()))
    print(
        f"cuas tail: {stats.messages} messages, {stats.bad} bad"
        + (f" ({bad})" if bad else "")
        + (f", {stats.duplicates} duplicate alerts dropped" if stats.duplicates else ""),
        file=sys.stderr,
    )
    return 0
