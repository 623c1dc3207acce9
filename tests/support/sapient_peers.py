"""SAPIENT peers written from the standard's protos: a sensor node (ASM) that registers and
reports to `cuas adapter-sapient`, a decision node that `cuas gateway-sapient` registers
with, and sapient-pydantic, an independent validator, run in its own virtualenv."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import subprocess
from typing import Any

from sapient_msg.bsi_flex_335_v2_0 import velocity_pb2 as velocity

from cuas.gateways.sapient_protocol import (
    LAT_LNG_DEG_M,
    RB_DEGREES_M,
    RB_TRUE,
    SPEED_MS,
    WGS84_E,
    DetectionReport,
    ENUVelocity,
    FrameReader,
    Location,
    RangeBearing,
    Registration,
    RegistrationAck,
    SapientMessage,
    StatusReport,
    duration,
    envelope,
    frame,
    parse,
    ulid,
)
from support.peers import ensure


def registration(node_type: int = Registration.NODE_TYPE_RADAR, icd: str = "BSI Flex 335 v2.0"):
    """The smallest Registration that the ICD's mandatory rules accept."""
    rb = Registration.LocationType(range_bearing_units=RB_DEGREES_M, range_bearing_datum=RB_TRUE)
    loc = Registration.LocationType(location_units=LAT_LNG_DEG_M, location_datum=WGS84_E)
    return Registration(
        node_definition=[Registration.NodeDefinition(node_type=node_type)],
        icd_version=icd,
        name="test sensor node",
        capabilities=[Registration.Capability(category="Radar", type="MaxRange", value="3000")],
        status_definition=Registration.StatusDefinition(status_interval=duration(1.0)),
        mode_definition=[
            Registration.ModeDefinition(
                mode_name="default",
                mode_type=Registration.MODE_TYPE_DEFAULT,
                settle_time=duration(0.0),
                detection_definition=[
                    Registration.DetectionDefinition(
                        location_type=rb,
                        velocity_type=Registration.VelocityType(
                            enu_velocity_units=velocity.ENUVelocityUnits(
                                east_north_rate_units=SPEED_MS, up_rate_units=SPEED_MS
                            ),
                            location_datum=WGS84_E,
                        ),
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
        config_data=[Registration.ConfigurationData(manufacturer="test", model="node")],
    )


def status(system: int = StatusReport.SYSTEM_OK, text: str = "") -> StatusReport:
    return StatusReport(
        report_id=ulid(),
        system=system,
        info=StatusReport.INFO_NEW,
        mode="default",
        status=[
            StatusReport.Status(
                status_type=StatusReport.STATUS_TYPE_INTERNAL_FAULT,
                status_level=StatusReport.STATUS_LEVEL_WARNING_STATUS,
                status_value=text,
            )
        ]
        if text
        else [],
    )


def polar(
    object_id: str,
    range_m: float,
    az: float,
    el: float,
    cls: str = "UAV rotary wing",
    confidence: float = 0.8,
) -> DetectionReport:
    return DetectionReport(
        report_id=ulid(),
        object_id=object_id,
        range_bearing=RangeBearing(
            range=range_m,
            azimuth=az,
            elevation=el,
            range_error=6.0,
            azimuth_error=0.5,
            coordinate_system=RB_DEGREES_M,
            datum=RB_TRUE,
        ),
        classification=[
            DetectionReport.DetectionReportClassification(type=cls, confidence=confidence)
        ],
        enu_velocity=ENUVelocity(east_rate=-10.0, north_rate=0.0),
    )


def located(object_id: str, lat: float, lon: float, alt: float) -> DetectionReport:
    return DetectionReport(
        report_id=ulid(),
        object_id=object_id,
        location=Location(x=lon, y=lat, z=alt, coordinate_system=LAT_LNG_DEG_M, datum=WGS84_E),
    )


class SensorNode:
    """An ASM over TCP: `send` frames, `received` holds every message the adapter sent back."""

    def __init__(self, node_id: str, port: int) -> None:
        self.node_id = node_id
        self.port = port
        self.received: list[SapientMessage] = []
        self.closed = asyncio.Event()

    async def __aenter__(self) -> SensorNode:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _read(self) -> None:
        frames = FrameReader()
        with contextlib.suppress(ConnectionError, OSError):
            while data := await self.reader.read(65536):
                self.received += [parse(b) for b in frames.feed(data)]
        self.closed.set()

    async def send(self, t: float | None = None, raw: bytes | None = None, **content: Any) -> None:
        self.writer.write(raw if raw is not None else frame(envelope(self.node_id, t, **content)))
        await self.writer.drain()

    def of(self, content: str) -> list[SapientMessage]:
        return [m for m in self.received if m.WhichOneof("content") == content]


class DecisionNode:
    """A higher decision node: a TCP server that acks every registration (or refuses, when
    `accept` is False) and keeps every frame it receives, raw, in arrival order."""

    def __init__(self, node_id: str, accept: bool = True) -> None:
        self.node_id = node_id
        self.accept = accept
        self.frames: list[bytes] = []
        self.connections = 0
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def messages(self) -> list[SapientMessage]:
        return [SapientMessage.FromString(f) for f in self.frames]

    def of(self, content: str) -> list[SapientMessage]:
        return [m for m in self.messages if m.WhichOneof("content") == content]

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.server.close()
        for w in self._writers:
            w.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        frames = FrameReader()
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                for body in frames.feed(data):
                    self.frames.append(body)
                    message = SapientMessage.FromString(body)
                    if message.WhichOneof("content") == "registration":
                        ack = envelope(
                            self.node_id,
                            registration_ack=RegistrationAck(
                                acceptance=self.accept,
                                ack_response_reason=[] if self.accept else ["not today"],
                            ),
                        )
                        ack.destination_id = message.node_id
                        writer.write(frame(ack))
                        await writer.drain()


VALIDATOR = r"""
import json, struct, sys
from pydantic import ValidationError
from sapient_msg.bsi_flex_335_v2_0.sapient_message_pb2 import SapientMessage as Pb
from sapient_msg_pydantic._options import IcdValidationError
from sapient_msg_pydantic.bsi_flex_335_v2_0.sapient_message import SapientMessage
data = sys.stdin.buffer.read()
off = 0
while off < len(data):
    (n,) = struct.unpack_from("<I", data, off)
    raw = data[off + 4 : off + 4 + n]
    off += 4 + n
    try:
        pb = Pb.FromString(raw)
        SapientMessage.from_pb2(pb)
        print(json.dumps({"ok": True, "content": pb.WhichOneof("content")}))
    except (IcdValidationError, ValidationError, ValueError) as exc:
        print(json.dumps({"ok": False, "error": str(exc).splitlines()[:3]}))
"""


def validate(bodies: list[bytes]) -> list[dict[str, Any]]:
    """sapient-pydantic's verdict on each serialized SapientMessage."""
    framed = b"".join(struct.pack("<I", len(b)) + b for b in bodies)
    done = subprocess.run(
        [str(ensure("sapient-pydantic")), "-c", VALIDATOR],
        input=framed,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.decode().splitlines()]
