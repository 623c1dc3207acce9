"""`cuas adapter-sapient`: a TCP server for SAPIENT sensor nodes (ASMs), the camp's sensors.

    cuas adapter-sapient --config camp.toml --listen 127.0.0.1:5020

A node connects and registers; the adapter answers with a `RegistrationAck`: accepted when
the node's `node_id` is the `sapient_node_id` of a `[[sensors]]` entry whose kind matches its
node type and the `icd_version` is v2.0, refused otherwise with the reasons named in
`ack_response_reason`. Then:

- status reports set the sensor's state in its heartbeat (sensors/sapient/convert.py maps
  them); a node that disconnects, or sends nothing for `--silent-after` seconds, is muted:
  its heartbeats stop, so the core applies its silent-sensor rule as to any other sensor;
- detection reports become wire detections of the sensor's kind, gathered per message
  timestamp (a SAPIENT radar sends one report per object: the reports of one timestamp are
  one scan, published together once another timestamp arrives or `--scan-timeout` after
  the first), each with the node's `object_id` and its classes as `class_probs`.

Bad input: a frame that is not a `SapientMessage`, or breaks the ICD's mandatory-field
rules, is answered with an `Error` naming every problem and counted; the connection stays
up (the next frame is intact). A length above 1 MiB loses the framing: the node gets an
`Error` and the connection is closed. Messages from a node that has not registered get an
`Error` too. Nothing a node sends can stop the adapter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cuas.config import CampConfig, SensorConfig, load_config
from cuas.gateways.sapient_protocol import (
    UUID4_RE,
    FrameError,
    FrameReader,
    Registration,
    RegistrationAck,
    SapientMessage,
    envelope,
    error_message,
    frame,
    fusion_node_id,
    icd_errors,
    icd_version_ok,
    parse,
    timestamp_of,
)
from cuas.service.lifetime import release_signals, stop_on_signals
from cuas.wire import Detection
from sensors.publisher import SensorPublisher
from sensors.sapient.convert import NODE_KINDS, DetectionConverter, DetectionError, state_of

log = logging.getLogger("sensors.sapient")

COMMAND = "adapter-sapient"
LOG_INTERVAL_S = 10.0
SAPIENT_KINDS = frozenset({"radar", "camera", "rf"})


@dataclass
class Session:
    """One node's TCP connection: who it is once registered, and its scan being gathered."""

    peer: str
    writer: asyncio.StreamWriter
    sensor: SensorConfig | None = None
    converter: DetectionConverter | None = None
    node_id: str | None = None
    scan_t: float | None = None
    scan: list[Detection] = field(default_factory=list)
    scan_started: float = 0.0
    last_heard: float = field(default_factory=time.monotonic)


class SapientAdapter:
    """The server and its counters; `start(host, port)`, then `close()`."""

    def __init__(
        self,
        config: CampConfig,
        ingest: str,
        *,
        scan_timeout_s: float = 0.1,
        silent_after_s: float = 10.0,
    ) -> None:
        self.config = config
        self.ingest = ingest
        self.scan_timeout_s = scan_timeout_s
        self.silent_after_s = silent_after_s
        self.node_id = fusion_node_id(config.camp_id, config.sapient.node_id)
        self.frame = config.local_frame()
        self.sensors = {
            s.sapient_node_id.lower(): s
            for s in config.sensors
            if s.sapient_node_id is not None and s.kind in SAPIENT_KINDS
        }
        self.publishers: dict[str, SensorPublisher] = {}
        self.sessions: dict[str, Session] = {}  # node id -> its registered session
        self.counts: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self._logged: dict[str, float] = {}
        self._server: asyncio.Server | None = None
        self._tick: asyncio.Task[None] | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self, host: str, port: int) -> tuple[str, int]:
        for sensor in self.sensors.values():
            publisher = SensorPublisher(sensor.id, sensor.kind, self.ingest)
            publisher.muted = True  # silent until its node registers
            await publisher.start()
            self.publishers[sensor.id] = publisher
        self._server = await asyncio.start_server(self._serve, host, port)
        self._tick = asyncio.create_task(self._tick_loop())
        name = self._server.sockets[0].getsockname()
        return name[0], name[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        # Closing a connection's transport ends its read loop (EOF) so it winds down itself;
        # cancelling instead would make asyncio's server log the cancellation as an error.
        for writer in list(self._writers):
            writer.close()
        if self._connections:
            await asyncio.wait(set(self._connections), timeout=2.0)
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
        for publisher in self.publishers.values():
            await publisher.close()

    async def wait_connected(self, timeout: float) -> bool:
        """Every sensor's publisher can reach the core."""
        results = [await p.wait_connected(timeout) for p in self.publishers.values()]
        return all(results)

    # --- one connection -----------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        peer = str(writer.get_extra_info("peername"))
        session = Session(peer, writer)
        frames = FrameReader()
        self.counts["connections"] += 1
        try:
            while data := await reader.read(65536):
                try:
                    bodies = frames.feed(data)
                except FrameError as exc:
                    self._reject(exc.reason, f"{peer}: {exc.detail}")
                    writer.write(error_message(self.node_id, session.node_id, data[:4], str(exc)))
                    await writer.drain()
                    break  # the framing is lost: where the next frame starts is unknown
                for body in bodies:
                    await self._message(session, body)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.info("SAPIENT node %s: connection lost: %s", peer, exc)
        finally:
            await self._end(session)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            self._connections.discard(task)
            self._writers.discard(writer)

    async def _end(self, session: Session) -> None:
        await self._flush(session)
        if session.node_id is not None and self.sessions.get(session.node_id) is session:
            del self.sessions[session.node_id]
            assert session.sensor is not None
            self.publishers[session.sensor.id].muted = True
            log.warning("SAPIENT node %s (%s) disconnected", session.node_id, session.sensor.id)

    async def _message(self, session: Session, body: bytes) -> None:
        self.counts["frames"] += 1
        session.last_heard = time.monotonic()
        try:
            message = parse(body)
        except FrameError as exc:
            self._reject(exc.reason, f"{session.peer}: {exc.detail}")
            session.writer.write(error_message(self.node_id, session.node_id, body, str(exc)))
            return
        content = message.WhichOneof("content")
        problems = icd_errors(message)
        if content == "registration":
            self._register(session, message, problems)
            return
        if problems:
            self._reject("icd", f"{session.peer}: {content}: {problems[0]}")
            session.writer.write(error_message(self.node_id, message.node_id, body, *problems))
            return
        if session.sensor is None or message.node_id.lower() != session.node_id:
            self._reject("not_registered", f"{session.peer}: {content} before registration")
            session.writer.write(
                error_message(
                    self.node_id, message.node_id, body, f"{content} from a node not registered"
                )
            )
            return
        publisher = self.publishers[session.sensor.id]
        publisher.muted = False
        if content == "status_report":
            self.counts["status_reports"] += 1
            publisher.set_state(*state_of(message.status_report))
        elif content == "detection_report":
            await self._detection(session, message)
        else:
            self.counts[f"ignored_{content}"] += 1

    def _register(self, session: Session, message: SapientMessage, problems: list[str]) -> None:
        registration = message.registration
        reasons = list(problems)
        node_id = message.node_id.lower()
        sensor = self.sensors.get(node_id)
        if not icd_version_ok(registration.icd_version):
            reasons.append(
                f"icd_version {registration.icd_version!r} is not supported "
                "(this fusion node speaks 'BSI Flex 335 v2.0')"
            )
        if sensor is None:
            reasons.append(
                f"node_id {message.node_id} is not a sensor of camp {self.config.camp_id}"
            )
        else:
            kinds = {NODE_KINDS.get(d.node_type) for d in registration.node_definition}
            if sensor.kind not in kinds:
                types = [
                    Registration.NodeType.Name(d.node_type) for d in registration.node_definition
                ]
                reasons.append(
                    f"node_id {message.node_id} is {sensor.kind} {sensor.id!r}, not {types}"
                )
        accepted = not reasons
        ack = envelope(
            self.node_id,
            registration_ack=RegistrationAck(acceptance=accepted, ack_response_reason=reasons),
        )
        if UUID4_RE.fullmatch(message.node_id):
            ack.destination_id = message.node_id
        session.writer.write(frame(ack))
        if not accepted:
            self._reject("registration_refused", f"{session.peer}: {'; '.join(reasons)}")
            return
        assert sensor is not None
        old = self.sessions.get(node_id)
        if old is not None and old is not session:
            old.writer.close()  # the node came back on a new connection: the old one is dead
        session.sensor, session.node_id = sensor, node_id
        session.converter = DetectionConverter(sensor, self.frame)
        self.sessions[node_id] = session
        self.publishers[sensor.id].muted = False
        self.counts["registrations"] += 1
        log.info("SAPIENT node %s registered as %s %s", node_id, sensor.kind, sensor.id)

    # --- detections and scans -----------------------------------------------------------

    async def _detection(self, session: Session, message: SapientMessage) -> None:
        assert session.converter is not None
        t = timestamp_of(message)
        try:
            detection = session.converter.convert(message.detection_report)
        except DetectionError as exc:
            self._reject(exc.reason, f"{session.peer}: {exc.detail}")
            session.writer.write(
                error_message(self.node_id, session.node_id, message.SerializeToString(), str(exc))
            )
            return
        if not (math.isfinite(t) and t > 0.0):
            self._reject("bad_time", f"{session.peer}: timestamp {t!r}")
            return
        if session.scan_t is not None and t != session.scan_t:
            await self._flush(session)
        if session.scan_t is None:
            session.scan_t, session.scan_started = t, time.monotonic()
        session.scan.append(detection)
        self.counts["detections"] += 1

    async def _flush(self, session: Session) -> None:
        if session.scan_t is None or session.sensor is None:
            return
        t, scan = session.scan_t, session.scan
        session.scan_t, session.scan = None, []
        if await self.publishers[session.sensor.id].send_report(t, scan):
            self.counts["reports"] += 1
        else:
            self.rejects["dropped"] += 1

    async def _tick_loop(self) -> None:
        tick = max(0.01, min(0.05, self.scan_timeout_s / 2))
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for session in list(self.sessions.values()):
                if session.scan_t is not None and now - session.scan_started >= self.scan_timeout_s:
                    await self._flush(session)
                if session.sensor is not None and now - session.last_heard > self.silent_after_s:
                    self.publishers[session.sensor.id].muted = True  # the silent-sensor rule

    def _reject(self, reason: str, detail: str) -> None:
        self.rejects[reason] += 1
        now = time.monotonic()
        if now - self._logged.get(reason, -math.inf) >= LOG_INTERVAL_S:
            self._logged[reason] = now
            log.warning(
                "SAPIENT input refused (%s): %s (%d so far)", reason, detail, self.rejects[reason]
            )


async def run(
    config: CampConfig,
    ingest: str,
    host: str,
    port: int,
    *,
    scan_timeout_s: float = 0.1,
    silent_after_s: float = 10.0,
    stop: asyncio.Event | None = None,
    ready: Any = None,
) -> SapientAdapter:
    """Serve until `stop` (default: SIGINT or SIGTERM); returns the adapter, for its counts."""
    own_signals = stop is None
    stop = stop_on_signals() if stop is None else stop
    adapter = SapientAdapter(
        config, ingest, scan_timeout_s=scan_timeout_s, silent_after_s=silent_after_s
    )
    try:
        address = await adapter.start(host, port)
        log.info(
            "SAPIENT fusion node %s listening on %s:%s for %d sensor nodes",
            adapter.node_id,
            *address,
            len(adapter.sensors),
        )
        if ready is not None:
            ready(adapter, address)
        await stop.wait()
    finally:
        await adapter.close()
        log.info("stopped: %s, rejects %s", dict(adapter.counts), dict(adapter.rejects))
        if own_signals:
            release_signals()
    return adapter


def _hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host, int(port)


def add_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(COMMAND, help="a TCP server for SAPIENT sensor nodes")
    parser.add_argument("--config", required=True, help="camp configuration (TOML)")
    parser.add_argument("--listen", required=True, type=_hostport, metavar="HOST:PORT")
    parser.add_argument("--ingest", metavar="ENDPOINT", help="default: zmq.ingest of the config")
    parser.add_argument("--scan-timeout", type=float, default=0.1, metavar="S")
    parser.add_argument("--silent-after", type=float, default=10.0, metavar="S")
    parser.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not any(s.sapient_node_id for s in config.sensors):
        print(
            f"cuas {COMMAND}: no [[sensors]] entry of {args.config} has a sapient_node_id",
            file=sys.stderr,
        )
        return 2
    host, port = args.listen
    asyncio.run(
        run(
            config,
            args.ingest or config.zmq.ingest,
            host,
            port,
            scan_timeout_s=args.scan_timeout,
            silent_after_s=args.silent_after,
        )
    )
    return 0
