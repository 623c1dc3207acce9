"""`cuas adapter-sapient`: SAPIENT sensor nodes (written here from the v2.0 protos) register
over real TCP, and their status and detection reports reach the core's ingest as the camp's
sensors; every kind of bad input gets an Error or a refusal naming the problem, and a count."""

from __future__ import annotations

import asyncio
import math
import struct
import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.ingest_stub import BoundSub
from support.live import EXAMPLE, eventually
from support.sapient_peers import SensorNode, located, polar, registration, status

from cuas import wire
from cuas.config import parse_config
from cuas.gateways.sapient_protocol import (
    FrameError,
    FrameReader,
    Registration,
    StatusReport,
    icd_errors,
    parse,
    ulid,
)
from cuas.tomlfile import read_toml
from sensors.sapient import server

RADAR_NODE = str(uuid.uuid4())
CAMERA_NODE = str(uuid.uuid4())


def sapient_camp():
    data = read_toml(EXAMPLE, ValueError)
    for sensor in data["sensors"]:
        if sensor["id"] == "radar-1":
            sensor["sapient_node_id"] = RADAR_NODE
        if sensor["id"] == "cam-nw":
            sensor["sapient_node_id"] = CAMERA_NODE
    return parse_config(data)


class Ingest(BoundSub):
    def __init__(self) -> None:
        super().__init__()
        self.reports: list[wire.Report] = []
        self.statuses: list[wire.Status] = []

    def received(self, topic: bytes, payload: bytes) -> None:
        if topic.startswith(b"report."):
            self.reports.append(wire.decode_report(payload))
        elif topic.startswith(b"status."):
            self.statuses.append(wire.decode_status(payload))


async def adapter_running(ingest: Ingest, stop: asyncio.Event, **options):
    ready = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        server.run(
            sapient_camp(),
            ingest.endpoint,
            "127.0.0.1",
            0,
            stop=stop,
            ready=lambda a, addr: ready.set_result((a, addr)),
            **options,
        )
    )
    adapter, (_, port) = await asyncio.wait_for(ready, 5)
    assert await adapter.wait_connected(5)
    return task, adapter, port


def test_a_radar_node_registers_and_its_reports_of_one_timestamp_become_one_scan():
    async def scenario() -> None:
        async with Ingest() as ingest:
            stop = asyncio.Event()
            task, adapter, port = await adapter_running(ingest, stop)
            drone, bird = ulid(), ulid()
            async with SensorNode(RADAR_NODE, port) as node:
                await node.send(registration=registration())
                await eventually(lambda: node.of("registration_ack"), 5, "the registration ack")
                [ack] = node.of("registration_ack")
                assert ack.registration_ack.acceptance
                assert ack.destination_id == RADAR_NODE
                await node.send(status_report=status(StatusReport.SYSTEM_WARNING, "rain fade"))
                t = time.time()
                await node.send(t, detection_report=polar(drone, 900.0, 80.0, 4.0))
                await node.send(t, detection_report=polar(bird, 1500.0, 200.0, 2.0, "Bird", 0.7))
                await node.send(t, detection_report=located(ulid(), 8.6545, 24.5000, 680.0))
                await node.send(t + 0.5, detection_report=polar(drone, 890.0, 80.1, 4.0))
                await eventually(lambda: len(ingest.reports) >= 2, 5, "two scans")
                await eventually(
                    lambda: any(s.state == "degraded" for s in ingest.statuses), 5, "the warning"
                )
            stop.set()
            await task

        first, second = ingest.reports[:2]
        assert (first.sensor_id, wire.report_kind(first)) == ("radar-1", "radar")
        assert first.t == pytest.approx(t)
        assert len(first.detections) == 3 and len(second.detections) == 1
        near, far, placed = first.detections
        assert (near.range_m, near.az_deg, near.el_deg) == (900.0, 80.0, 4.0)
        assert (near.sigma_range_m, near.sigma_az_deg) == (6.0, 0.5)
        assert near.object_id == drone and far.object_id == bird
        assert near.class_probs == {"drone": pytest.approx(0.8)}
        assert far.class_probs == {"bird": pytest.approx(0.7)}
        # A location is turned into what the radar on its mast sees: ~498 m north, 65 m up.
        assert placed.az_deg == pytest.approx(0.0, abs=0.1) or placed.az_deg > 359.9
        assert placed.range_m == pytest.approx(math.hypot(497.6, 65.0), abs=1.0)
        degraded = next(s for s in ingest.statuses if s.state == "degraded")
        assert "SYSTEM_WARNING" in degraded.detail and "rain fade" in degraded.detail
        assert adapter.counts["registrations"] == 1 and not adapter.rejects

    asyncio.run(scenario())


def test_registrations_are_refused_with_the_reason_named():
    async def scenario() -> None:
        async with Ingest() as ingest:
            stop = asyncio.Event()
            task, adapter, port = await adapter_running(ingest, stop)
            cases = [
                (str(uuid.uuid4()), registration(), "is not a sensor of camp alpha"),
                (RADAR_NODE, registration(icd="BSI Flex 335 v1.0"), "icd_version"),
                (RADAR_NODE, registration(Registration.NODE_TYPE_CAMERA), "is radar 'radar-1'"),
            ]
            for node_id, message, reason in cases:
                async with SensorNode(node_id, port) as node:
                    await node.send(registration=message)
                    await eventually(lambda n=node: n.of("registration_ack"), 5, "a refusal")
                    [ack] = node.of("registration_ack")
                    assert not ack.registration_ack.acceptance
                    assert reason in " ".join(ack.registration_ack.ack_response_reason)
            stop.set()
            await task
            assert adapter.rejects["registration_refused"] == 3
            assert adapter.counts["registrations"] == 0

    asyncio.run(scenario())


def test_bad_frames_get_an_error_and_a_count_and_the_node_carries_on():
    async def scenario() -> None:
        async with Ingest() as ingest:
            stop = asyncio.Event()
            task, adapter, port = await adapter_running(ingest, stop)
            async with SensorNode(CAMERA_NODE, port) as node:
                await node.send(detection_report=polar(ulid(), 900.0, 10.0, 3.0))  # too early
                await node.send(registration=registration(Registration.NODE_TYPE_CAMERA))
                await node.send(raw=struct.pack("<I", 5) + b"\xff\xff\xff\xff\xff")  # not protobuf
                bad = polar("not-a-ulid", 900.0, 10.0, 3.0)
                await node.send(detection_report=bad)  # breaks the ICD: object_id
                nowhere = polar(ulid(), 900.0, 10.0, 3.0)
                nowhere.ClearField("range_bearing")
                await node.send(detection_report=nowhere)  # no location: ICD mandatory oneof
                await node.send(detection_report=polar(ulid(), 800.0, 300.0, 6.0))  # good
                await eventually(lambda: ingest.reports, 5, "the good detection")
                await eventually(lambda: len(node.of("error")) >= 4, 5, "four errors")
                errors = [" ".join(m.error.error_message) for m in node.of("error")]
                assert len(errors) == 4
                assert "not registered" in errors[0]
                assert "not a SapientMessage" in errors[1]
                assert "object_id: not a ULID" in errors[2]
                assert "location_oneof" in errors[3]
                # An oversize length loses the framing: an Error, then the connection closes.
                await node.send(raw=struct.pack("<I", (1 << 20) + 1) + b"x" * 100)
                await asyncio.wait_for(node.closed.wait(), 5)
                assert "oversize" in " ".join(node.of("error")[-1].error.error_message)
            stop.set()
            await task
        [report] = ingest.reports
        assert (report.sensor_id, wire.report_kind(report)) == ("cam-nw", "camera")
        assert adapter.rejects == {
            "not_registered": 1,
            "malformed": 1,
            "icd": 2,
            "oversize": 1,
        }

    asyncio.run(scenario())


def test_a_node_that_disconnects_falls_silent_at_the_core():
    async def scenario() -> None:
        async with Ingest() as ingest:
            stop = asyncio.Event()
            task, adapter, port = await adapter_running(ingest, stop)
            async with SensorNode(RADAR_NODE, port) as node:
                await node.send(registration=registration())
                await eventually(lambda: node.of("registration_ack"), 5, "the ack")
                await eventually(lambda: ingest.statuses, 5, "a heartbeat")
            await eventually(lambda: adapter.publishers["radar-1"].muted, 5, "the mute")
            await asyncio.sleep(0.5)  # a heartbeat already on its way may still land
            heard = len(ingest.statuses)
            await asyncio.sleep(2.5)  # more than the 1 s heartbeat period, twice over
            assert len(ingest.statuses) == heard
            stop.set()
            await task

    asyncio.run(scenario())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_any_byte_stream_yields_messages_or_frame_errors_only(chunks):
    reader = FrameReader()
    for chunk in chunks:
        try:
            bodies = reader.feed(chunk)
        except FrameError as exc:
            assert exc.fatal
            return
        for body in bodies:
            try:
                icd_errors(parse(body))
            except FrameError as exc:
                assert exc.reason == "malformed"
