"""The live core under hostile input: fuzz on the real ZeroMQ ingest socket while a drone is
tracked, and a sensor flooding far beyond its rate. Nothing crashes, every bad message is
counted, the valid traffic is unharmed. (The 100,000-message and 60 s versions, with their
figures, are benchmarks/robustness_io.py.)"""

from __future__ import annotations

import asyncio
import time

import zmq
import zmq.asyncio
from support.live import Intruder, camp, core_running, eventually, listening, live_camp

from cuas import wire
from cuas.service.run import FusionService
from sensors.publisher import SensorPublisher
from simulators.hostile import HostilePeer

FUZZ_MESSAGES = 10_000
NOT_FUZZ = ("late", "future", "flood")  # rejects the valid traffic may earn under load


def fuzz_rejects(service: FusionService) -> int:
    by_reason = service.pipeline.ingest.rejects.by_reason()
    return sum(n for reason, n in by_reason.items() if reason not in NOT_FUZZ)


def firm(cycle: wire.TrackCycle) -> list[wire.Track]:
    return [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]


async def send_when_heard(socket: zmq.asyncio.Socket, service: FusionService) -> None:
    """Probe until the core counts one (a PUB drops what it sends before it is connected),
    then let the probes in flight land, so that what follows is counted from a known base."""
    deadline = time.monotonic() + 10
    while fuzz_rejects(service) == 0:
        assert time.monotonic() < deadline, "the core never heard the hostile peer"
        await socket.send_multipart([b"probe", b""])
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)


def test_ten_thousand_fuzzed_messages_are_each_rejected_once_while_a_drone_stays_tracked(
    mosquitto, tmp_path
):
    path = live_camp(tmp_path, mosquitto.port)
    # The intake limit would shed most of the fuzz unread; here the decoders face all of it.
    path.write_text(path.read_text().replace("intake_rate_factor = 20.0", "intake_rate_factor = 0"))
    config = camp(path)

    async def scenario() -> None:
        stop = asyncio.Event()
        context = zmq.asyncio.Context()
        peer = context.socket(zmq.PUB)
        peer.setsockopt(zmq.SNDHWM, 0)  # queue everything: the count must be exact
        peer.setsockopt(zmq.LINGER, 0)
        peer.connect(config.zmq.ingest)
        try:
            async with core_running(config) as service, listening(mosquitto.port) as heard:
                await asyncio.wait_for(service.ready.wait(), 5)
                flight = asyncio.create_task(Intruder(config).fly(stop))
                await eventually(lambda: any(firm(c) for c in heard.cycles[-1:]), 15, "a track")
                (track,) = firm(heard.cycles[-1])
                await send_when_heard(peer, service)
                base = fuzz_rejects(service)
                hostile = HostilePeer(config, seed=12)
                for k, frames in enumerate(hostile.messages(FUZZ_MESSAGES)):
                    await peer.send_multipart(frames)
                    if k % 200 == 199:
                        await asyncio.sleep(0.01)  # the drone's radar shares the loop
                await eventually(
                    lambda: fuzz_rejects(service) - base >= FUZZ_MESSAGES, 60, "every reject"
                )
                await asyncio.sleep(0.5)
                # Exactly one reject per message: none lost, none accepted.
                assert fuzz_rejects(service) - base == FUZZ_MESSAGES
                # The drone is still tracked, as the same track, updated just now.
                cycles = len(heard.cycles)
                await eventually(lambda: len(heard.cycles) > cycles + 3, 5, "more cycles")
                latest = heard.cycles[-1]
                assert [t.track_id for t in firm(latest)] == [track.track_id]
                assert latest.t - firm(latest)[0].t_update < 1.0
                # Counters stay bounded whatever the topics: unknown ids count under "?".
                sources = {source for source, _ in service.pipeline.ingest.rejects.counts}
                assert sources <= {s.id for s in config.sensors} | {"?"}
                stop.set()
                await flight
        finally:
            peer.close(0)
            context.term()

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_a_sensor_flooding_at_ten_times_its_rate_is_shed_while_another_is_still_fused(
    mosquitto, tmp_path
):
    """rf-ne (configured at 2 Hz) sends 20 reports a second for 5 s while the radar tracks a
    drone: rf-ne is shed beyond its limit (counted, `flood`), the radar is not."""
    path = live_camp(tmp_path, mosquitto.port)
    text = path.read_text().replace("intake_rate_factor = 20.0", "intake_rate_factor = 2")
    # radar-1 (the first sensor) at the 10 Hz the test intruder scans at.
    path.write_text(text.replace("update_period_s = 1.0", "update_period_s = 0.1", 1))
    config = camp(path)
    rf = config.sensor("rf-ne")
    assert rf is not None and rf.update_period_s == 0.5

    async def scenario() -> None:
        stop = asyncio.Event()
        async with core_running(config) as service, listening(mosquitto.port) as heard:
            await asyncio.wait_for(service.ready.wait(), 5)
            flight = asyncio.create_task(Intruder(config).fly(stop))
            await eventually(lambda: any(firm(c) for c in heard.cycles[-1:]), 15, "a track")
            async with SensorPublisher("rf-ne", "rf", config.zmq.ingest) as flooder:
                await flooder.wait_connected(5)
                started = time.monotonic()
                for _ in range(100):
                    await flooder.send_report(time.time(), [])
                    await asyncio.sleep(0.05)
                elapsed = time.monotonic() - started
                await asyncio.sleep(0.5)
            shed = service.intake.shed["rf-ne"]
            admitted = service.pipeline.ingest.sensors["rf-ne"].reports
            rate = service.intake.rate_of("rf-ne")  # 2 x (2 Hz + 1 Hz of heartbeats)
            # What got through is at most the bucket's burst (2 s at its rate) plus its rate
            # over the flood (and the heartbeats share the bucket).
            assert admitted < 100 and shed >= 100 - admitted  # heartbeats may be shed too
            assert admitted <= rate * 2.0 + rate * (elapsed + 1.0)
            counts = service.pipeline.ingest.rejects.counts
            assert counts[("rf-ne", "flood")] == shed
            assert service.intake.shed["radar-1"] == 0
            latest = heard.cycles[-1]
            assert any(latest.t - t.t_update < 1.0 for t in firm(latest))
            stop.set()
            await flight

    asyncio.run(asyncio.wait_for(scenario(), 60))
