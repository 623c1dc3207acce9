"""The sensor side of the ingest link: one ZeroMQ publisher per sensor adapter or simulator.

`SensorPublisher` connects to the core's ingest endpoint (the core binds a SUB socket, every
sensor connects) and sends the two-frame messages of DESIGN.md: `[b"report.<id>", payload]`
with a `seq` it stamps itself, and `[b"status.<id>", payload]` heartbeats from a background
task, at least every `heartbeat_period_s` and at once when the adapter changes its state.

    async with SensorPublisher("radar-1", "radar", "tcp://127.0.0.1:5555") as pub:
        await pub.wait_connected(5.0)
        await pub.send_report(t, [RadarDetection(range_m=900.0, az_deg=10.0, el_deg=2.0)])
        pub.set_state("degraded", "no data from device")

Delivery, and what is counted as lost (`dropped`, by reason in `drops`):

- The socket is an XPUB, which is a PUB on the wire (the core's SUB accepts it), for the two
  things a plain PUB hides: the subscriber's subscription arrives as a message, so we know
  when sending is useful, and with `XPUB_NODROP` a full send queue raises `zmq.Again`
  instead of silently discarding, so drops can be counted.
- Slow joiner: until the core's subscription has arrived, ZeroMQ would discard every message
  silently. Such messages are counted as `not_subscribed` drops (and not sent).
  `wait_connected()` waits for the TCP handshake (socket monitor) *and* the subscription;
  the handshake alone is not enough, the subscription trails it by a few hundred µs.
- Once subscribed, the queue to the core outlives reconnects: during an outage up to
  `sndhwm` messages wait and are delivered when the core is back, so a blip loses nothing.
  Beyond that, new messages are dropped (`queue_full`); the oldest are kept.
- `seq` counts every report built, sent or dropped, so a gap the core sees is a loss.
- Heartbeats go out only while connected and subscribed (one at once on every connection),
  as a heartbeat delivered late would be stale; they are never queued or counted as drops.

On a secured camp (`[zmq] curve_secret_key` on the core), the link is CurveZMQ: pass this
sensor's key file (`curve_key`, the `.key_secret` that `cuas secure init` wrote for it) and
the core's public key (`curve_server_key`: its `.key` file or the Z85 key; the camp file's
`[zmq] curve_server_key`, see `curve_options`, which adapters' `--curve-key` feeds). The core then
accepts this sensor's messages, and only this sensor's, from that key; a refused handshake
shows in the log as a failed handshake and `wait_connected()` never returns True.

ZeroMQ reconnects by itself, from `reconnect_ivl_ms` backing off to `reconnect_ivl_max_ms`;
ZMTP heartbeats notice a core that vanished without closing TCP (a cut cable). `close()`
never waits more than `linger_ms` for unsent messages. The core must be polling its SUB
socket for the subscription to reach us (see FIELD-NOTES.md); a live core always is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from cuas.config import CampConfig
from cuas.errors import ConfigError
from cuas.fusion.reject_log import RejectLog
from cuas.security.curve_keys import load_public_key, load_secret_key, secret_path
from cuas.topics import report_topic, status_topic
from cuas.wire import (
    DETECTION_TYPES,
    KINDS,
    REPORT_TYPES,
    SENSOR_STATES,
    VERSION,
    Detection,
    Kind,
    SensorState,
    Status,
    to_msgpack,
)

log = logging.getLogger("sensors.publisher")

MAX_HEARTBEAT_PERIOD_S = 2.0  # DESIGN.md: a heartbeat at least every 2 s
MAX_DETAIL_CHARS = 1024  # wire `Text`: a longer detail would get the whole status rejected
MAX_SENSOR_ID_CHARS = 128  # wire `Ident`
DROP_LOG_INTERVAL_S = 10.0
_HANDSHAKE_FAILURES = {
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: (
        "key_refused",
        "the core does not know this sensor's CURVE key (is it in the camp file?)",
    ),
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: (
        "security_mismatch",
        "CURVE on one side only, or a protocol error",
    ),
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: (
        "closed",
        "the core closed the handshake: a wrong core key (curve_server_key)?",
    ),
}


class SensorPublisher:
    """Publishes one sensor's reports and heartbeats to the core; see the module docstring."""

    def __init__(
        self,
        sensor_id: str,
        kind: Kind,
        endpoint: str,
        heartbeat_period_s: float = 1.0,
        *,
        sndhwm: int = 1000,
        reconnect_ivl_ms: int = 100,
        reconnect_ivl_max_ms: int = 5000,
        linger_ms: int = 500,
        zmtp_heartbeat_ivl_ms: int = 1000,
        zmtp_heartbeat_timeout_ms: int = 3000,
        context: zmq.asyncio.Context | None = None,
        curve_key: str | Path | None = None,
        curve_server_key: str | Path | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown sensor kind {kind!r}; expected one of {KINDS}")
        if not 1 <= len(sensor_id) <= MAX_SENSOR_ID_CHARS:
            raise ValueError(f"sensor_id must have 1..{MAX_SENSOR_ID_CHARS} characters")
        if not 0.0 < heartbeat_period_s <= MAX_HEARTBEAT_PERIOD_S:
            raise ValueError(f"heartbeat_period_s must be in (0, {MAX_HEARTBEAT_PERIOD_S}]")
        if sndhwm < 1:
            raise ValueError("sndhwm must be at least 1")
        self.sensor_id = sensor_id
        self.kind: Kind = kind
        self.endpoint = endpoint
        self.heartbeat_period_s = heartbeat_period_s
        self._options: dict[int, int | bytes] = {
            zmq.XPUB_NODROP: 1,
            zmq.SNDHWM: sndhwm,
            zmq.RECONNECT_IVL: reconnect_ivl_ms,
            zmq.RECONNECT_IVL_MAX: reconnect_ivl_max_ms,
            zmq.LINGER: linger_ms,
            zmq.HEARTBEAT_IVL: zmtp_heartbeat_ivl_ms,
            zmq.HEARTBEAT_TIMEOUT: zmtp_heartbeat_timeout_ms,
        }
        if (curve_key is None) != (curve_server_key is None):
            raise ValueError("curve_key and curve_server_key go together")
        if curve_key is not None and curve_server_key is not None:
            public, secret = load_secret_key(curve_key, "curve_key")
            self._options |= {
                zmq.CURVE_SERVERKEY: load_public_key(str(curve_server_key), "curve_server_key"),
                zmq.CURVE_PUBLICKEY: public,
                zmq.CURVE_SECRETKEY: secret,
            }
        self._context = context
        self._report_type = REPORT_TYPES[kind]
        self._detection_type = DETECTION_TYPES[kind]
        self._report_topic = report_topic(sensor_id).encode()
        self._status_topic = status_topic(sensor_id).encode()

        self.seq = 0  # the seq of the next report
        self.reports_sent = 0
        self.detections_sent = 0
        self.heartbeats_sent = 0
        # Drill fault injection (simulators.events): a muted publisher sends no heartbeats,
        # and heartbeats are stamped clock_offset_s off the wall clock.
        self.muted = False
        self.clock_offset_s = 0.0
        self.dropped = 0
        self.drops: Counter[str] = Counter()
        self.state: SensorState = "ok"
        self.detail = ""

        self._socket: zmq.asyncio.Socket | None = None
        self._monitor: zmq.asyncio.Socket | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._peers = 0  # connections whose handshake succeeded and that are still up
        self._subscriptions: set[bytes] = set()
        self._ready = asyncio.Event()
        self._wake_heartbeat = asyncio.Event()
        self.handshake_failures = RejectLog(
            logger=log, what=f"{sensor_id}: handshake refused by the core"
        )
        self._drop_logged: dict[str, float] = {}
        self._drops_unlogged: Counter[str] = Counter()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Create the socket, connect it and start the heartbeat; needs a running loop."""
        if self._socket is not None:
            raise RuntimeError("publisher already started")
        context = self._context or zmq.asyncio.Context.instance()
        sock = context.socket(zmq.XPUB)
        for option, value in self._options.items():
            sock.setsockopt(option, value)
        self._monitor = sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED
            | zmq.EVENT_DISCONNECTED
            | zmq.EVENT_CONNECT_RETRIED
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
        )
        self._socket = sock
        self._tasks = [
            asyncio.create_task(self._watch_monitor(), name=f"{self.sensor_id}-monitor"),
            asyncio.create_task(self._watch_subscriptions(), name=f"{self.sensor_id}-subs"),
            asyncio.create_task(self._heartbeat_loop(), name=f"{self.sensor_id}-heartbeat"),
        ]
        sock.connect(self.endpoint)

    async def close(self) -> None:
        """Stop the heartbeat and close the socket, waiting at most `linger_ms`."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._socket is not None:
            with contextlib.suppress(zmq.ZMQError):
                self._socket.disable_monitor()
            if self._monitor is not None:
                self._monitor.close(linger=0)
            self._socket.close()
        self._socket = self._monitor = None
        self._peers = 0
        self._ready.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- connection state ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """A TCP connection to the core is up (its ZMTP handshake succeeded)."""
        return self._peers > 0

    @property
    def subscribed(self) -> bool:
        """The core has subscribed to this sensor's reports (it survives reconnects)."""
        return self._accepts(self._report_topic)

    async def wait_connected(self, timeout: float | None = None) -> bool:
        """Wait until messages sent now will reach the core; False if `timeout` ran out."""
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    def _accepts(self, topic: bytes) -> bool:
        return any(topic.startswith(prefix) for prefix in self._subscriptions)

    def _update_ready(self) -> None:
        if self.connected and self.subscribed:
            if not self._ready.is_set():
                self._ready.set()
                self._wake_heartbeat.set()  # tell the core our state at once
        else:
            self._ready.clear()

    async def _watch_monitor(self) -> None:
        assert self._monitor is not None
        while True:
            event = parse_monitor_message(await self._monitor.recv_multipart())
            kind = event["event"]
            if kind == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self._peers += 1
                log.info("%s: connected to the core at %s", self.sensor_id, self.endpoint)
            elif kind == zmq.EVENT_DISCONNECTED:
                if self._peers > 0:  # not after a failed handshake: that was never connected
                    self._peers -= 1
                    log.warning(
                        "%s: lost the core at %s; reconnecting", self.sensor_id, self.endpoint
                    )
            elif kind == zmq.EVENT_CONNECT_RETRIED:
                log.debug("%s: core at %s not reachable; retrying", self.sensor_id, self.endpoint)
            else:  # retried every ~100 ms by ZeroMQ: counted, logged once per interval
                reason, detail = _HANDSHAKE_FAILURES.get(kind, ("handshake_failed", str(kind)))
                self.handshake_failures.add(self.endpoint, reason, detail)
            self._update_ready()

    async def _watch_subscriptions(self) -> None:
        """XPUB hands us each (un)subscription as `b"\\x01<prefix>"` / `b"\\x00<prefix>"`."""
        assert self._socket is not None
        while True:
            message = await self._socket.recv()
            if not message:
                continue
            if message[0] == 1:
                self._subscriptions.add(message[1:])
            elif message[0] == 0:
                self._subscriptions.discard(message[1:])
            self._update_ready()

    # --- state and heartbeat ------------------------------------------------------------

    def set_state(self, state: SensorState, detail: str = "") -> None:
        """Set the state the heartbeat reports; a change is sent at once."""
        if state not in SENSOR_STATES:
            raise ValueError(f"unknown sensor state {state!r}; expected one of {SENSOR_STATES}")
        detail = detail[:MAX_DETAIL_CHARS]
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self._wake_heartbeat.set()

    async def send_status(self) -> bool:
        """Send one heartbeat now, stamped with the sensor's clock; False if dropped."""
        status = Status(
            v=VERSION,
            sensor_id=self.sensor_id,
            t=time.time() + self.clock_offset_s,
            state=self.state,
            detail=self.detail,
        )
        sent = await self._send(self._status_topic, to_msgpack(status))
        self.heartbeats_sent += sent
        return sent

    async def _heartbeat_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.heartbeat_period_s):
                    await self._wake_heartbeat.wait()
            self._wake_heartbeat.clear()
            # A heartbeat queued for later would be stale on arrival; a muted sensor is down.
            if self._ready.is_set() and not self.muted:
                await self.send_status()

    # --- reports ------------------------------------------------------------------------

    async def send_report(self, t: float, detections: Sequence[Detection]) -> bool:
        """Send one report of this sensor's kind, measured at `t`; False if dropped.

        `detections` must be the wire detection type of this kind (`RadarDetection` for a
        radar); an empty list means "looked, saw nothing". Values are not validated here:
        the core rejects a report with any bad value as a whole, so adapters validate.
        """
        if not (math.isfinite(t) and t >= 0.0):
            raise ValueError(f"report time must be finite and non-negative, not {t!r}")
        for detection in detections:
            if not isinstance(detection, self._detection_type):
                raise TypeError(
                    f"a {self.kind} report takes {self._detection_type.__name__}, "
                    f"not {type(detection).__name__}"
                )
        report = self._report_type(
            v=VERSION, sensor_id=self.sensor_id, seq=self.seq, t=t, detections=list(detections)
        )
        self.seq += 1
        sent = await self._send(self._report_topic, to_msgpack(report))
        if sent:
            self.reports_sent += 1
            self.detections_sent += len(detections)
        return sent

    async def send_raw(self, topic: str | bytes, payload: bytes) -> bool:
        """Send arbitrary frames (tests, fault injection); counted only if dropped."""
        return await self._send(topic.encode() if isinstance(topic, str) else topic, payload)

    async def _send(self, topic: bytes, payload: bytes) -> bool:
        if self._socket is None:
            raise RuntimeError("publisher not started (use `async with` or start())")
        if not self._accepts(topic):
            self._drop("not_subscribed")
            return False
        try:
            await self._socket.send_multipart([topic, payload], flags=zmq.NOBLOCK)
        except zmq.Again:
            self._drop("queue_full")
            return False
        return True

    def _drop(self, reason: str) -> None:
        """Count a lost message; log each reason at most once per interval."""
        self.dropped += 1
        self.drops[reason] += 1
        now = time.monotonic()
        last = self._drop_logged.get(reason)
        if last is not None and now - last < DROP_LOG_INTERVAL_S:
            self._drops_unlogged[reason] += 1
            return
        more = self._drops_unlogged.pop(reason, 0)
        suffix = f" (+{more} more since last logged)" if more else ""
        log.warning(
            "%s: dropping messages to %s: %s%s", self.sensor_id, self.endpoint, reason, suffix
        )
        self._drop_logged[reason] = now


def add_curve_argument(parser: argparse.ArgumentParser) -> None:
    """`--curve-key FILE`: the sensor's key on a secured camp (see `curve_options`)."""
    parser.add_argument(
        "--curve-key",
        metavar="FILE",
        help="this sensor's CURVE key file (keys/sensors/<id>.key_secret from `cuas secure "
        "init`); required where the camp file has [zmq] curve_server_key",
    )


def curve_options(config: CampConfig, curve_key: str | Path | None) -> dict[str, str | Path]:
    """`SensorPublisher`'s CURVE arguments for a sensor of `config` holding `curve_key`.

    A secured camp (its file names the core's `curve_server_key`) refuses plain sensors, so
    a missing key is an error here rather than a sensor that silently never connects.
    """
    server_key = config.zmq.curve_server_key
    if curve_key is None:
        if server_key is not None:
            raise ConfigError(
                "--curve-key", "zmq.curve_server_key", "this camp's core admits CURVE sensors only"
            )
        return {}
    if server_key is None:
        raise ConfigError(
            str(curve_key), "zmq.curve_server_key", "needed with a CURVE key: the core's key"
        )
    return {"curve_key": curve_key, "curve_server_key": server_key}


def curve_options_in(
    config: CampConfig, folder: str | Path | None, sensor_id: str
) -> dict[str, str | Path]:
    """`curve_options` with the key file of `sensor_id` in `folder` (`keys/sensors` of
    `cuas secure init`), for tools that fly several sensors (the simulators)."""
    key = None if folder is None else secret_path(Path(folder), sensor_id)
    return curve_options(config, key)
