"""`cuas gateway-tak`: the camp's tracks and alerts as Cursor-on-Target events for TAK.

    cuas gateway-tak --config camp.toml --url tcp://takserver:8087
    cuas gateway-tak --config camp.toml --url udp://239.2.3.1:6969      # SA multicast

It follows the camp's MQTT output (`feed.follow`) and sends one CoT event (cuas/gateways/cot.py
has the field mapping) per confirmed or coasting track:

- at most one event per track every `[tak] min_interval_s` of the core's cycle times (with
  10 % slack for cycles exactly that far apart), except that a change of CoT type
  (an alert raised or cleared, a friendly identified) goes out at once;
- `stale` is `stale_periods` times the larger of the track period and the interval ahead,
  so a TAK client greys a track out when the camp stops talking about it;
- a track that is deleted, or gone from the cycle, gets a stale-now event (ended at once);
- a track's active alert makes it hostile (`a-h-`), with the alert's level, reason and time
  to the perimeter in the remarks; alerts without a track (a silent sensor) are not CoT
  objects and are only counted.

Delivery: over TCP (or TLS) the sender keeps only the newest event per uid while the server is
unreachable or slow, so a backlog can never build up (a TAK client wants the present, not the
past), and reconnects with a backoff of 0.2 s doubling to 5 s. Over UDP each event is one
datagram.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import ssl
import sys
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from cuas.config import CampConfig, TakConfig, load_config
from cuas.gateways import cot
from cuas.gateways.feed import FeedStats, follow, run_until_signal
from cuas.io.mqtt_output import OutputMessage
from cuas.wire import Alert, Track, TrackCycle

log = logging.getLogger("cuas.gateways.tak")

COMMAND = "gateway-tak"
SENT_STATUSES = frozenset({"confirmed", "coasting"})
MAX_PENDING = 10_000  # distinct uids waiting for a slow server; beyond: the newest are refused
# The rate limit runs on the core's cycle times, with this much slack, so that cycles exactly
# `min_interval_s` apart are all sent (arrival times jitter; 0.999 s apart is not too soon).
RATE_SLACK = 0.9


class CotPicture:
    """Which CoT events the camp's output calls for, and when (see the module docstring)."""

    def __init__(self, camp_id: str, tak: TakConfig, track_period_s: float) -> None:
        self.camp_id = camp_id
        self.tak = tak
        self.stale_s = tak.stale_periods * max(track_period_s, tak.min_interval_s)
        self.alerts: dict[str, Alert] = {}  # active alerts by id
        self.sent: dict[int, tuple[float, str]] = {}  # track id -> (cycle time sent, CoT type)
        self.tracks: dict[int, Track] = {}  # the last cycle's tracks that were sent
        self.counts: Counter[str] = Counter()

    def alert_of(self, track_id: int) -> Alert | None:
        """The track's most severe active alert."""
        mine = [a for a in self.alerts.values() if a.track_id == track_id]
        return max(mine, key=lambda a: (a.level == "critical", a.t), default=None)

    def on_alert(self, alert_id: str, alert: Alert | None, now: float) -> list[tuple[str, bytes]]:
        """An alert state (None: cleared); the track's event at once if its type changed."""
        if alert is None or alert.state == "cleared":
            gone = self.alerts.pop(alert_id, None)
            track_id = gone.track_id if gone is not None else None
        else:
            self.alerts[alert_id] = alert
            track_id = alert.track_id
            if track_id is None:
                self.counts["alerts_without_track"] += 1
        if track_id is None or track_id not in self.tracks:
            return []
        return self._maybe_send(self.tracks[track_id], now, force_on_type_change=True)

    def on_cycle(self, cycle: TrackCycle, now: float) -> list[tuple[str, bytes]]:
        """One track cycle: events of the tracks due, and stale-now events of the ended ones."""
        out: list[tuple[str, bytes]] = []
        live: set[int] = set()
        for track in cycle.tracks:
            if track.status in SENT_STATUSES:
                live.add(track.track_id)
                self.tracks[track.track_id] = track
                out += self._maybe_send(track, now, force_on_type_change=True)
        for track_id in [t for t in self.tracks if t not in live]:
            track = self.tracks.pop(track_id)
            if self.sent.pop(track_id, None) is not None:
                self.counts["ended"] += 1
                out.append(
                    (
                        cot.track_uid(self.camp_id, track_id),
                        cot.ended_event(self.camp_id, track, now),
                    )
                )
        return out

    def _maybe_send(
        self, track: Track, now: float, *, force_on_type_change: bool
    ) -> list[tuple[str, bytes]]:
        alert = self.alert_of(track.track_id)
        kind = cot.cot_type(track, alert is not None)
        last = self.sent.get(track.track_id)
        changed = last is None or last[1] != kind
        due = last is None or track.t - last[0] >= RATE_SLACK * self.tak.min_interval_s
        if not due and not (changed and force_on_type_change):
            self.counts["rate_limited"] += 1
            return []
        self.sent[track.track_id] = (track.t, kind)
        self.counts["events"] += 1
        event = cot.track_event(
            self.camp_id,
            track,
            alert,
            self.stale_s,
            callsign_prefix=self.tak.callsign_prefix,
            now=track.t,  # the time of the position it carries (the core's cycle time)
        )
        return [(cot.track_uid(self.camp_id, track.track_id), event)]


@dataclass(frozen=True)
class TakUrl:
    """Where the events go: `tcp`, `tls` or `udp` (multicast or unicast), host and port."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> TakUrl:
        parts = urlsplit(text)
        if parts.scheme not in ("tcp", "tls", "udp") or not parts.hostname or not parts.port:
            raise ValueError(f"expected tcp://, tls:// or udp://HOST:PORT, not {text!r}")
        return cls(parts.scheme, parts.hostname, parts.port)


class CotSender:
    """Sends CoT events to a TAK server (TCP/TLS) or a UDP group; see the module docstring."""

    def __init__(self, url: TakUrl, tak: TakConfig, max_backoff_s: float = 5.0) -> None:
        self.url = url
        self.tak = tak
        self.max_backoff_s = max_backoff_s
        self.pending: dict[str, bytes] = {}  # uid -> newest event not yet written
        self.counts: Counter[str] = Counter()
        self.connected = asyncio.Event()
        self._wake = asyncio.Event()
        self._udp: socket.socket | None = None
        if url.scheme == "udp":
            self.open_udp()  # before any send: UDP needs no connection to wait for

    def send(self, uid: str, event: bytes) -> None:
        """Queue an event; it replaces an unsent one of the same uid."""
        if self._udp is not None:
            try:
                self._udp.sendto(event, (self.url.host, self.url.port))
                self.counts["sent"] += 1
            except OSError as exc:
                self.counts["send_errors"] += 1
                log.debug("UDP send failed: %s", exc)
            return
        if uid in self.pending:
            self.counts["superseded"] += 1
        elif len(self.pending) >= MAX_PENDING:
            self.counts["refused_full"] += 1
            return
        self.pending[uid] = event
        self._wake.set()

    def open_udp(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.tak.multicast_ttl)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.setblocking(False)
        self._udp = sock

    def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.url.scheme != "tls":
            return None
        context = ssl.create_default_context(cafile=self.tak.tls_ca)
        if self.tak.tls_cert is not None:
            context.load_cert_chain(self.tak.tls_cert, self.tak.tls_key)
        return context

    async def run(self, stop: asyncio.Event) -> None:
        """Keep a stream connection up and write what is pending, until `stop`."""
        if self.url.scheme == "udp":
            await stop.wait()
            self.close()
            return
        backoff = 0.2
        while not stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.url.host, self.url.port, ssl=self._ssl_context()),
                    5.0,
                )
            except (OSError, TimeoutError) as exc:
                self.counts["connect_failures"] += 1
                log.warning("TAK server %s:%s: %s", self.url.host, self.url.port, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2.0, self.max_backoff_s)
                continue
            backoff = 0.2
            self.counts["connects"] += 1
            self.connected.set()
            log.info("connected to the TAK server at %s:%s", self.url.host, self.url.port)
            try:
                await self._write_loop(reader, writer, stop)
            except (OSError, ConnectionError) as exc:
                log.warning("TAK server connection lost: %s; reconnecting", exc)
            finally:
                self.connected.clear()
                writer.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await writer.wait_closed()

    async def _write_loop(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: asyncio.Event
    ) -> None:
        # Whatever the server sends (pongs, other clients' events) is read and dropped, so its
        # side of the connection never blocks; EOF means it hung up.
        async def drain_reads() -> None:
            while await reader.read(65536):
                pass

        closed = asyncio.ensure_future(drain_reads())
        try:
            while not stop.is_set() and not closed.done():
                if not self.pending:
                    self._wake.clear()
                    waits = {asyncio.ensure_future(self._wake.wait()), closed}
                    stopper = asyncio.ensure_future(stop.wait())
                    await asyncio.wait(waits | {stopper}, return_when=asyncio.FIRST_COMPLETED)
                    stopper.cancel()
                    continue
                batch, self.pending = self.pending, {}
                writer.write(b"".join(batch.values()))
                await writer.drain()  # a slow server: new events pile up in `pending`, merged
                self.counts["sent"] += len(batch)
            if closed.done():
                raise ConnectionError("the server closed the connection")
        finally:
            closed.cancel()


class TakGateway:
    """The camp's output in, CoT events out: `run(stop)` until stopped."""

    def __init__(self, config: CampConfig, url: TakUrl) -> None:
        self.config = config
        self.picture = CotPicture(config.camp_id, config.tak, config.mqtt.tracks_period_s)
        self.sender = CotSender(url, config.tak)
        self.feed = FeedStats()
        self.following = asyncio.Event()

    def handle(self, out: OutputMessage) -> None:
        now = time.time()
        events: list[tuple[str, bytes]] = []
        if out.kind == "tracks":
            events = self.picture.on_cycle(out.message, now)
        elif out.kind in ("alert_state", "alert_cleared") and out.key is not None:
            events = self.picture.on_alert(out.key, out.message, now)
        elif out.kind == "alert_event":
            events = self.picture.on_alert(out.message.alert_id, out.message, now)
        for uid, event in events:
            self.sender.send(uid, event)

    async def run(self, stop: asyncio.Event) -> None:
        sender = asyncio.create_task(self.sender.run(stop))
        try:
            await follow(self.config, self.handle, stop, stats=self.feed, connected=self.following)
        finally:
            stop.set()
            await sender
            log.info(
                "stopped: %s, sender %s, feed rejects %s",
                dict(self.picture.counts),
                dict(self.sender.counts),
                dict(self.feed.rejects),
            )


def add_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        COMMAND, help="send tracks and alerts to TAK as Cursor-on-Target events"
    )
    parser.add_argument("--config", required=True, help="camp configuration (TOML)")
    parser.add_argument(
        "--url", help="tcp://HOST:PORT, tls://HOST:PORT or udp://GROUP:PORT (default: [tak] url)"
    )
    parser.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    text = args.url or config.tak.url
    if text is None:
        print(f"cuas {COMMAND}: give --url or set [tak] url in {args.config}", file=sys.stderr)
        return 2
    try:
        url = TakUrl.parse(text)
    except ValueError as exc:
        print(f"cuas {COMMAND}: {exc}", file=sys.stderr)
        return 2
    run_until_signal(TakGateway(config, url).run)
    return 0
