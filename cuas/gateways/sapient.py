"""`cuas gateway-sapient`: the camp's fusion core as a SAPIENT FUSION_NODE, reporting to a
higher decision node (BSI Flex 335 v2.0).

    cuas gateway-sapient --config camp.toml --connect c2.example:5020

It connects, registers (node type FUSION_NODE, with the mandatory `config_data`, the camp's
sensors as capabilities, and the classes and location type it will report), waits for the
`RegistrationAck`, then sends a status report every `[sapient] status_interval_s` and follows
the camp's MQTT output (`feed.follow`):

| ours | SAPIENT |
|---|---|
| `[sapient] node_id` (default: derived from `camp_id`) | `SapientMessage.node_id` |
| confirmed or coasting track, each cycle | one `DetectionReport` |
| `track_id` | `object_id`: a ULID, stable for the life of the track |
| `lat`, `lon`, `alt_m` | `location` y, x, z (WGS84, degrees and metres) |
| `horiz_sigma_m` / sqrt 2, `alt_sigma_m` | `location` x_error, y_error (degrees), z_error (m) |
| `vel_enu` | `enu_velocity` east, north, up rates (m/s) |
| `class_probs` | `classification[]` (drone → "UAV", bird → "Bird", ...: `CLASS_NAMES`) |
| `status` coasting / deleted or gone | `state` "coasting" / "lost" (the object's last report) |
| alert raised, escalated, updated / acknowledged / cleared | status ACTIVE / ACKNOWLEDGE / CLEAR |
| alert `level` warning / critical | `alert_type` WARNING / CRITICAL, `priority` MEDIUM / HIGH |
| `alert_id` | `alert_id`: a ULID, the same through ACTIVE → CLEAR |
| `reason`, `eta_s` | `description` |
| alert `lat`, `lon`, `alt_m` | `location` |
| alert `track_id` | `associated_detection`: our node_id and the track's object_id |

Messages are stamped when sent (decision nodes check that a timestamp is recent). The
connection is retried with a backoff from 0.5 s doubling to `[sapient] reconnect_max_s`;
a refused registration is logged with the node's reasons and retried the same way. While
unregistered, detection reports are dropped (counted: a track picture is only worth sending
now) and alert transitions wait in a bounded queue, sent in order on registration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import sys
import time
from collections import Counter, deque

from sapient_msg.bsi_flex_335_v2_0 import associated_detection_pb2 as associated
from sapient_msg.bsi_flex_335_v2_0 import velocity_pb2 as velocity

from cuas.config import CampConfig, load_config
from cuas.gateways.feed import FeedStats, follow, run_until_signal
from cuas.gateways.sapient_protocol import (
    LAT_LNG_DEG_M,
    SPEED_MS,
    WGS84_E,
    Alert,
    DetectionReport,
    ENUVelocity,
    FrameError,
    FrameReader,
    Location,
    Registration,
    SapientMessage,
    StatusReport,
    duration,
    envelope,
    frame,
    fusion_node_id,
    parse,
    stable_ulid,
    ulid,
)
from cuas.io.mqtt_output import OutputMessage
from cuas.wire import Alert as OurAlert
from cuas.wire import Track, TrackCycle

log = logging.getLogger("cuas.gateways.sapient")

COMMAND = "gateway-sapient"
SENT_STATUSES = frozenset({"confirmed", "coasting"})
CLASS_NAMES = {
    "drone": "UAV",
    "bird": "Bird",
    "aircraft": "Aircraft",
    "clutter": "Clutter",
    "unknown": "Unknown",
}
ALERT_STATUS = {
    "raised": Alert.ALERT_STATUS_ACTIVE,
    "escalated": Alert.ALERT_STATUS_ACTIVE,
    "updated": Alert.ALERT_STATUS_ACTIVE,
    "acknowledged": Alert.ALERT_STATUS_ACKNOWLEDGE,
    "cleared": Alert.ALERT_STATUS_CLEAR,
}
MAX_QUEUED_ALERTS = 1000
METRES_PER_DEGREE = 111_320.0


def registration(config: CampConfig) -> Registration:
    """Our Registration: a FUSION_NODE with what the ICD makes mandatory, and no more."""
    loc = Registration.LocationType(location_units=LAT_LNG_DEG_M, location_datum=WGS84_E)
    return Registration(
        node_definition=[
            Registration.NodeDefinition(
                node_type=Registration.NODE_TYPE_FUSION_NODE, node_sub_type=["C-UAS"]
            )
        ],
        icd_version="BSI Flex 335 v2.0",
        name=f"cuas camp {config.camp_id}",
        short_name=config.camp_id[:16],
        capabilities=[
            Registration.Capability(
                category="Sensor", type=s.kind, value=s.id, units=f"max range {s.max_range_m:.0f} m"
            )
            for s in config.sensors
        ]
        or [Registration.Capability(category="Fusion", type="tracks")],
        status_definition=Registration.StatusDefinition(
            status_interval=duration(config.sapient.status_interval_s), location_definition=loc
        ),
        mode_definition=[
            Registration.ModeDefinition(
                mode_name="default",
                mode_type=Registration.MODE_TYPE_DEFAULT,
                settle_time=duration(0.0),
                tracking_type=Registration.TRACKING_TYPE_TRACK,
                detection_definition=[
                    Registration.DetectionDefinition(
                        location_type=loc,
                        velocity_type=Registration.VelocityType(
                            enu_velocity_units=velocity.ENUVelocityUnits(
                                east_north_rate_units=SPEED_MS, up_rate_units=SPEED_MS
                            ),
                            location_datum=WGS84_E,
                        ),
                        detection_class_definition=[
                            Registration.DetectionClassDefinition(
                                confidence_definition=(
                                    Registration.CONFIDENCE_DEFINITION_MULTI_CLASS
                                ),
                                class_definition=[
                                    Registration.ClassDefinition(type=name, units="probability")
                                    for name in CLASS_NAMES.values()
                                ],
                            )
                        ],
                    )
                ],
                task=Registration.TaskDefinition(
                    region_definition=Registration.RegionDefinition(
                        region_type=[Registration.REGION_TYPE_AREA_OF_INTEREST],
                        region_area=[loc],
                    )
                ),
            )
        ],
        config_data=[
            Registration.ConfigurationData(
                manufacturer="cuas (open source)", model="cuas fusion core", software_version="0.1"
            )
        ],
    )


class SapientPicture:
    """Our output as SAPIENT contents: stable object and alert ids, lost tracks, alerts."""

    def __init__(self, config: CampConfig, node_id: str) -> None:
        self.camp_id = config.camp_id
        self.node_id = node_id
        self.object_ids: dict[int, str] = {}
        self.alert_ids: dict[str, str] = {}
        self.tracks: dict[int, Track] = {}
        self.active_alerts: dict[str, OurAlert] = {}

    def object_id(self, track_id: int) -> str:
        if track_id not in self.object_ids:
            self.object_ids[track_id] = stable_ulid(int(time.time() * 1000), self.camp_id, track_id)
        return self.object_ids[track_id]

    def on_cycle(self, cycle: TrackCycle) -> list[DetectionReport]:
        out = []
        live: set[int] = set()
        for track in cycle.tracks:
            if track.status in SENT_STATUSES:
                live.add(track.track_id)
                self.tracks[track.track_id] = track
                out.append(self.detection(track, "coasting" if track.status == "coasting" else ""))
        for track_id in [t for t in self.tracks if t not in live]:
            out.append(self.detection(self.tracks.pop(track_id), "lost"))
            self.object_ids.pop(track_id, None)
        return out

    def detection(self, track: Track, state: str) -> DetectionReport:
        horizontal, vertical = track.sigmas()
        sigma = max(horizontal / math.sqrt(2.0), 0.01)  # per axis, of the east-north circle
        coslat = max(math.cos(math.radians(track.lat)), 1e-6)
        report = DetectionReport(
            report_id=ulid(),
            object_id=self.object_id(track.track_id),
            location=Location(
                x=track.lon,
                y=track.lat,
                z=track.alt_m,
                x_error=sigma / (METRES_PER_DEGREE * coslat),
                y_error=sigma / METRES_PER_DEGREE,
                z_error=max(vertical, 0.01),
                coordinate_system=LAT_LNG_DEG_M,
                datum=WGS84_E,
            ),
            enu_velocity=ENUVelocity(
                east_rate=track.vel_enu[0], north_rate=track.vel_enu[1], up_rate=track.vel_enu[2]
            ),
            classification=[
                DetectionReport.DetectionReportClassification(
                    type=CLASS_NAMES.get(name, "Unknown"), confidence=p
                )
                for name, p in sorted(track.class_probs.items(), key=lambda kv: -kv[1])
                if p > 0.0
            ],
        )
        if state:
            report.state = state
        return report

    def alert(self, alert: OurAlert) -> Alert:
        if alert.alert_id not in self.alert_ids:
            self.alert_ids[alert.alert_id] = stable_ulid(
                int(alert.t_raised * 1000), self.camp_id, alert.alert_id
            )
        if alert.state == "cleared":
            self.active_alerts.pop(alert.alert_id, None)
        else:
            self.active_alerts[alert.alert_id] = alert
        eta = "" if alert.eta_s is None else f"; perimeter in {alert.eta_s:.0f} s"
        message = Alert(
            alert_id=self.alert_ids[alert.alert_id],
            alert_type=Alert.ALERT_TYPE_CRITICAL
            if alert.level == "critical"
            else Alert.ALERT_TYPE_WARNING,
            status=ALERT_STATUS[alert.state],
            description=f"{alert.reason}{eta}"[:1024],
            priority=Alert.DISCRETE_PRIORITY_HIGH
            if alert.level == "critical"
            else Alert.DISCRETE_PRIORITY_MEDIUM,
        )
        if alert.lat is not None and alert.lon is not None:
            message.location.CopyFrom(
                Location(
                    x=alert.lon,
                    y=alert.lat,
                    z=alert.alt_m if alert.alt_m is not None else 0.0,
                    coordinate_system=LAT_LNG_DEG_M,
                    datum=WGS84_E,
                )
            )
        if alert.track_id is not None and alert.track_id in self.object_ids:
            message.associated_detection.append(
                associated.AssociatedDetection(
                    node_id=self.node_id, object_id=self.object_ids[alert.track_id]
                )
            )
        if alert.state == "cleared":
            self.alert_ids.pop(alert.alert_id, None)
        return message


class SapientGateway:
    """The connection to the decision node, and the feed into it; `run(stop)`."""

    def __init__(self, config: CampConfig, host: str, port: int) -> None:
        self.config = config
        self.host, self.port = host, port
        self.node_id = fusion_node_id(config.camp_id, config.sapient.node_id)
        self.picture = SapientPicture(config, self.node_id)
        self.feed = FeedStats()
        self.following = asyncio.Event()
        self.registered = asyncio.Event()
        self.counts: Counter[str] = Counter()
        self.refusals: list[str] = []
        self._alerts: deque[Alert] = deque(maxlen=MAX_QUEUED_ALERTS)
        self._writer: asyncio.StreamWriter | None = None
        self._wake = asyncio.Event()

    def handle(self, out: OutputMessage) -> None:
        if out.kind == "tracks":
            reports = self.picture.on_cycle(out.message)
            if self._writer is None or not self.registered.is_set():
                self.counts["detections_dropped_unregistered"] += len(reports)
                return
            self._writer.write(
                b"".join(frame(envelope(self.node_id, detection_report=r)) for r in reports)
            )
            self.counts["detection_reports"] += len(reports)
        elif out.kind == "alert_event":
            if len(self._alerts) == self._alerts.maxlen:
                self.counts["alerts_dropped_queue_full"] += 1
            self._alerts.append(self.picture.alert(out.message))
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        link = asyncio.create_task(self._link_loop(stop))
        try:
            await follow(self.config, self.handle, stop, stats=self.feed, connected=self.following)
        finally:
            stop.set()
            await link
            log.info("stopped: %s, feed rejects %s", dict(self.counts), dict(self.feed.rejects))

    async def _link_loop(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), 5.0
                )
            except (OSError, TimeoutError) as exc:
                self.counts["connect_failures"] += 1
                log.warning("decision node %s:%s: %s", self.host, self.port, exc)
            else:
                self.counts["connects"] += 1
                try:
                    if await self._session(reader, writer, stop):
                        backoff = 0.5
                except (OSError, ConnectionError, FrameError) as exc:
                    log.warning("decision node connection lost: %s; reconnecting", exc)
                finally:
                    self.registered.clear()
                    self._writer = None
                    writer.close()
                    with contextlib.suppress(OSError, ConnectionError):
                        await writer.wait_closed()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2.0, self.config.sapient.reconnect_max_s)

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stop: asyncio.Event
    ) -> bool:
        """Register and serve one connection; True if it was accepted."""
        frames = FrameReader()
        writer.write(frame(envelope(self.node_id, registration=registration(self.config))))
        await writer.drain()
        ack = await asyncio.wait_for(self._next_ack(reader, frames), 10.0)
        if not ack.registration_ack.acceptance:
            reasons = list(ack.registration_ack.ack_response_reason) or ["no reason given"]
            self.refusals.append("; ".join(reasons))
            self.counts["registrations_refused"] += 1
            log.error("the decision node refused our registration: %s", "; ".join(reasons))
            return False
        self.counts["registrations"] += 1
        log.info("registered with the decision node at %s:%s", self.host, self.port)
        self._writer = writer
        # Alerts still active are re-announced to a decision node that is new to us.
        for alert in self.picture.active_alerts.values():
            self._alerts.append(self.picture.alert(alert))
        self.registered.set()
        first_status = True
        next_status = 0.0
        closed = asyncio.ensure_future(self._read_until_closed(reader, frames))
        try:
            while not stop.is_set() and not closed.done():
                now = time.monotonic()
                if now >= next_status:
                    info = StatusReport.INFO_NEW if first_status else StatusReport.INFO_UNCHANGED
                    writer.write(frame(envelope(self.node_id, status_report=self._status(info))))
                    self.counts["status_reports"] += 1
                    first_status = False
                    next_status = now + self.config.sapient.status_interval_s
                while self._alerts:
                    writer.write(frame(envelope(self.node_id, alert=self._alerts.popleft())))
                    self.counts["alerts"] += 1
                await writer.drain()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        asyncio.wait(
                            {asyncio.ensure_future(self._wake.wait()), closed},
                            return_when=asyncio.FIRST_COMPLETED,
                        ),
                        max(0.01, next_status - time.monotonic()),
                    )
            if stop.is_set():
                goodbye = self._status(StatusReport.INFO_UNCHANGED, StatusReport.SYSTEM_GOODBYE)
                writer.write(frame(envelope(self.node_id, status_report=goodbye)))
                with contextlib.suppress(OSError, ConnectionError):
                    await asyncio.wait_for(writer.drain(), 1.0)
        finally:
            closed.cancel()
        return True

    async def _next_ack(self, reader: asyncio.StreamReader, frames: FrameReader) -> SapientMessage:
        while data := await reader.read(65536):
            for body in frames.feed(data):
                message = parse(body)
                if message.WhichOneof("content") == "registration_ack":
                    return message
                self.counts["ignored_before_ack"] += 1
        raise ConnectionError("the decision node closed the connection before its ack")

    async def _read_until_closed(self, reader: asyncio.StreamReader, frames: FrameReader) -> None:
        """Tasks and acks from the decision node are read and counted (not acted on yet)."""
        while data := await reader.read(65536):
            try:
                for body in frames.feed(data):
                    content = parse(body).WhichOneof("content")
                    self.counts[f"received_{content}"] += 1
            except FrameError as exc:
                self.counts[f"received_{exc.reason}"] += 1
                if exc.fatal:
                    return

    def _status(self, info: int, system: int = StatusReport.SYSTEM_OK) -> StatusReport:
        origin = self.config.origin
        return StatusReport(
            report_id=ulid(),
            system=system,
            info=info,
            mode="default",
            node_location=Location(
                x=origin.lon,
                y=origin.lat,
                z=origin.alt_m,
                coordinate_system=LAT_LNG_DEG_M,
                datum=WGS84_E,
            ),
        )


def add_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        COMMAND, help="report tracks and alerts to a SAPIENT decision node as a FUSION_NODE"
    )
    parser.add_argument("--config", required=True, help="camp configuration (TOML)")
    parser.add_argument("--connect", required=True, metavar="HOST:PORT")
    parser.set_defaults(func=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    host, sep, port = args.connect.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= 65535:
        print(
            f"cuas {COMMAND}: expected --connect HOST:PORT, not {args.connect!r}", file=sys.stderr
        )
        return 2
    run_until_signal(SapientGateway(config, host, int(port)).run)
    return 0
