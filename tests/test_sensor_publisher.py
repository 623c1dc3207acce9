"""The sensor side of the ingest link (DESIGN.md, "Sensor → core: ZeroMQ, MessagePack").

Every test runs a real core end on loopback: a SUB socket bound to a free port that is always
receiving, as the live core's is, and checks what arrives with the wire decoders.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from support.broker import free_port
from support.ingest_stub import BoundSub

from cuas import wire
from cuas.wire import (
    CameraDetection,
    RadarDetection,
    RemoteIdDetection,
    RfDetection,
    WireError,
    decode_report,
    decode_status,
)
from sensors.publisher import SensorPublisher

T0 = 1764000000.0


def run(scenario: Coroutine[Any, Any, None], timeout: float = 5.0) -> None:
    """Run one async scenario, never longer than `timeout`."""
    asyncio.run(asyncio.wait_for(scenario, timeout))


class Core(BoundSub):
    """Queues raw reports and heartbeats, by topic family; binds `endpoint` if given."""

    def __init__(self, endpoint: str = "tcp://127.0.0.1:0") -> None:
        super().__init__(endpoint)
        self.reports: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
        self.statuses: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()

    def received(self, topic: bytes, payload: bytes) -> None:
        queue = self.statuses if topic.startswith(b"status.") else self.reports
        queue.put_nowait((topic, payload))

    async def report(self, timeout: float = 2.0) -> tuple[bytes, bytes]:
        return await asyncio.wait_for(self.reports.get(), timeout)

    async def status(self, timeout: float = 2.0) -> wire.Status:
        topic, payload = await asyncio.wait_for(self.statuses.get(), timeout)
        assert topic == b"status.radar-1"
        return decode_status(payload)


def free_tcp_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


async def until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


def plot(range_m: float = 900.0) -> RadarDetection:
    return RadarDetection(range_m=range_m, az_deg=10.0, el_deg=2.0)


async def connected(pub: SensorPublisher) -> SensorPublisher:
    assert await pub.wait_connected(2.0), "publisher never connected to the core"
    return pub


def test_reports_arrive_in_order_with_seq_counting_from_zero() -> None:
    async def scenario() -> None:
        async with Core() as core, SensorPublisher("radar-1", "radar", core.endpoint) as pub:
            await connected(pub)
            batches = [[plot(100.0 + 10 * i + j) for j in range(i)] for i in range(5)]
            for i, detections in enumerate(batches):
                assert await pub.send_report(T0 + i, detections)
            for i, detections in enumerate(batches):
                topic, payload = await core.report()
                report = decode_report(payload)
                assert topic == b"report.radar-1"
                assert isinstance(report, wire.RadarReport)
                assert (report.v, report.sensor_id, report.seq, report.t) == (
                    1,
                    "radar-1",
                    i,
                    T0 + i,
                )
                assert report.detections == detections
            assert (pub.reports_sent, pub.detections_sent, pub.dropped) == (5, 10, 0)

    run(scenario())


@pytest.mark.parametrize(
    ("kind", "detection", "report_type"),
    [
        ("radar", plot(), wire.RadarReport),
        ("rf", RfDetection(az_deg=45.0, freq_mhz=2440.0), wire.RfReport),
        ("camera", CameraDetection(az_deg=45.0, el_deg=5.0, label="drone"), wire.CameraReport),
        (
            "remote_id",
            RemoteIdDetection(lat=8.65, lon=24.5, alt_m=700.0, uas_id="UN-PKO-0001"),
            wire.RemoteIdReport,
        ),
    ],
)
def test_each_kind_is_sent_as_its_own_report_type(
    kind: wire.Kind, detection: wire.Detection, report_type: type
) -> None:
    async def scenario() -> None:
        async with Core() as core, SensorPublisher("s-1", kind, core.endpoint) as pub:
            await connected(pub)
            await pub.send_report(T0, [detection])
            topic, payload = await core.report()
            report = decode_report(payload)
            assert topic == b"report.s-1"
            assert type(report) is report_type
            assert wire.report_kind(report) == kind
            assert report.detections == [detection]

    run(scenario())


def test_an_empty_report_says_looked_and_saw_nothing() -> None:
    async def scenario() -> None:
        async with Core() as core, SensorPublisher("radar-1", "radar", core.endpoint) as pub:
            await connected(pub)
            await pub.send_report(T0, [])
            report = decode_report((await core.report())[1])
            assert report.detections == []

    run(scenario())


def test_detections_of_another_kind_and_bad_times_are_refused() -> None:
    async def scenario() -> None:
        async with SensorPublisher("radar-1", "radar", free_tcp_endpoint()) as pub:
            with pytest.raises(TypeError, match="RadarDetection"):
                await pub.send_report(T0, [RfDetection(az_deg=1.0)])
            for t in (float("nan"), float("inf"), -1.0):
                with pytest.raises(ValueError, match="report time"):
                    await pub.send_report(t, [plot()])
            assert pub.seq == 0

    run(scenario())
    with pytest.raises(ValueError, match="kind"):
        SensorPublisher("radar-1", "sonar", "tcp://127.0.0.1:1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="heartbeat"):
        SensorPublisher("radar-1", "radar", "tcp://127.0.0.1:1", heartbeat_period_s=3.0)


def test_a_heartbeat_goes_out_on_connect_and_then_every_second() -> None:
    async def scenario() -> None:
        async with Core() as core, SensorPublisher("radar-1", "radar", core.endpoint) as pub:
            await connected(pub)
            first = await core.status(timeout=0.5)  # at once, not a period later
            arrived = time.monotonic()
            second = await core.status(timeout=1.5)
            period = time.monotonic() - arrived
            for status in (first, second):
                assert (status.sensor_id, status.state, status.detail) == ("radar-1", "ok", "")
                assert abs(status.t - time.time()) < 2.0  # the sensor's own clock
            assert 0.8 < period < 1.3
            assert second.t - first.t == pytest.approx(1.0, abs=0.25)
            assert pub.heartbeats_sent == 2

    run(scenario())


def test_a_state_change_is_sent_at_once_and_repeated() -> None:
    async def scenario() -> None:
        async with Core() as core, SensorPublisher("radar-1", "radar", core.endpoint) as pub:
            await connected(pub)
            assert (await core.status()).state == "ok"
            pub.set_state("degraded", "no data from device")
            status = await core.status(timeout=0.3)
            assert (status.state, status.detail) == ("degraded", "no data from device")
            status = await core.status(timeout=1.5)
            assert (status.state, status.detail) == ("degraded", "no data from device")
            pub.set_state("fault", "x" * 5000)  # would be rejected whole by the core if sent
            status = await core.status(timeout=0.3)
            assert (status.state, len(status.detail)) == ("fault", 1024)
            with pytest.raises(ValueError, match="state"):
                pub.set_state("broken")  # type: ignore[arg-type]

    run(scenario())


def test_without_a_core_nothing_is_ready_and_reports_count_as_dropped() -> None:
    async def scenario() -> None:
        async with SensorPublisher("radar-1", "radar", free_tcp_endpoint()) as pub:
            assert not await pub.wait_connected(0.2)
            assert not pub.connected and not pub.subscribed
            results = [await pub.send_report(T0 + i, [plot()]) for i in range(3)]
            assert results == [False, False, False]
            assert pub.seq == 3  # seq counts every report, so the core would see the gap
            assert (pub.reports_sent, pub.dropped, pub.drops["not_subscribed"]) == (0, 3, 3)

    run(scenario())


def test_the_publisher_reconnects_when_the_core_comes_back() -> None:
    async def scenario() -> None:
        # The publisher outlives the first core, so it is managed by hand here.
        async with Core() as core:
            endpoint = core.endpoint
            publisher = SensorPublisher("radar-1", "radar", endpoint)
            await publisher.start()
            try:
                await connected(publisher)
                await publisher.send_report(T0, [plot()])
                assert decode_report((await core.report())[1]).seq == 0
            except BaseException:
                await publisher.close()
                raise
        try:
            await until(lambda: not publisher.connected)
            assert await publisher.send_report(T0 + 1, [plot()])  # queued for the core's return
            async with Core(endpoint) as core:
                await connected(publisher)
                assert await publisher.send_report(T0 + 2, [plot()])
                seqs = [decode_report((await core.report())[1]).seq for _ in range(2)]
                assert seqs == [1, 2]
                assert (await core.status()).state == "ok"  # told at once after reconnecting
        finally:
            await publisher.close()

    run(scenario())


def test_a_full_queue_drops_the_newest_and_seq_shows_the_gap() -> None:
    async def scenario() -> None:
        async with Core() as core:
            endpoint = core.endpoint
            publisher = SensorPublisher("radar-1", "radar", endpoint, 2.0, sndhwm=5)
            await publisher.start()
            await connected(publisher)
        try:
            await until(lambda: not publisher.connected)
            results = [await publisher.send_report(T0 + i, [plot()]) for i in range(20)]
            kept = results.count(True)
            assert 1 <= kept <= 5 and results == [True] * kept + [False] * (20 - kept)
            assert publisher.drops["queue_full"] >= 20 - kept
            async with Core(endpoint) as core:
                await connected(publisher)
                await asyncio.sleep(0.1)  # let the backlog drain into TCP
                assert await publisher.send_report(T0 + 20, [plot()])
                seqs = [decode_report((await core.report())[1]).seq for _ in range(kept + 1)]
            assert seqs == [*range(kept), 20]
        finally:
            started = time.monotonic()
            await publisher.close()
            assert time.monotonic() - started < 1.0

    run(scenario())


def test_send_raw_delivers_frames_unchanged() -> None:
    async def scenario() -> None:
        async with Core() as core, SensorPublisher("radar-1", "radar", core.endpoint) as pub:
            await connected(pub)
            assert await pub.send_raw("report.radar-1", b"\xc1garbage")
            topic, payload = await core.report()
            assert (topic, payload) == (b"report.radar-1", b"\xc1garbage")
            with pytest.raises(WireError) as err:
                decode_report(payload)
            assert err.value.reason == "malformed"

    run(scenario())
