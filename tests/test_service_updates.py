"""Per-scan track updates live: a radar over ZeroMQ -> `cuas run` -> a real Mosquitto and the
ZeroMQ track stream, with track cycles every 5 s so that only an update can bring a scan out
before the next cycle."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import numpy as np
import zmq
import zmq.asyncio
from support.live import camp, core_running, eventually, live_camp

from cuas import wire
from cuas.io.mqtt_output import decode_output
from cuas.topics import TRACK_STREAM, TRACK_UPDATES_STREAM, Topics
from sensors.publisher import SensorPublisher
from simulators.radar import SimulatedRadar

CYCLE_S = 5.0
SCANS = 10


def test_each_scan_reaches_mqtt_and_zeromq_as_an_update_before_the_next_cycle(mosquitto, tmp_path):
    config = camp(live_camp(tmp_path, mosquitto.port, cycle_s=CYCLE_S))
    topics = Topics(config.mqtt_prefix)
    over_mqtt: list[tuple[str, wire.TrackCycle | wire.TrackUpdate]] = []  # in arrival order
    over_zmq: list[tuple[bytes, wire.TrackCycle | wire.TrackUpdate]] = []

    async def mqtt_listener(ready: asyncio.Event) -> None:
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as client:
            await client.subscribe(topics.tracks, qos=0)
            await client.subscribe(topics.track_updates, qos=0)
            ready.set()
            async for m in client.messages:
                out = decode_output(topics, m.topic.value, bytes(m.payload))  # type: ignore[arg-type]
                over_mqtt.append((out.kind, out.message))

    async def zmq_listener(sub: zmq.asyncio.Socket) -> None:
        while True:
            topic, payload = await sub.recv_multipart()
            kind = wire.TrackUpdate if topic == TRACK_UPDATES_STREAM.encode() else wire.TrackCycle
            over_zmq.append((topic, wire.from_msgpack(payload, kind)))

    async def scenario() -> list[float]:
        ctx = zmq.asyncio.Context()
        sub = ctx.socket(zmq.SUB)
        for topic in (TRACK_STREAM, TRACK_UPDATES_STREAM):
            sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        async with core_running(config) as service:
            await asyncio.wait_for(service.ready.wait(), 5)
            sub.connect(config.zmq.tracks)
            ready = asyncio.Event()
            listeners = [
                asyncio.create_task(mqtt_listener(ready)),
                asyncio.create_task(zmq_listener(sub)),
            ]
            await asyncio.wait_for(ready.wait(), 5)
            # The picture is live (an empty cycle on both) before the radar speaks, so the ZeroMQ
            # subscription is in place.
            await eventually(lambda: over_zmq and over_mqtt, 2 * CYCLE_S + 5, "a first cycle")
            sensor = config.sensor("radar-1")
            assert sensor is not None
            radar = SimulatedRadar.from_camp(
                sensor,
                config.local_frame(),
                np.random.default_rng(3),
                p_detection=1.0,
                clutter_per_scan=0.0,
            )
            sent: list[float] = []
            pub = SensorPublisher("radar-1", "radar", config.zmq.ingest)
            await pub.start()
            try:
                await pub.wait_connected(timeout=5.0)
                for _ in range(SCANS):  # a drone hovering 700 m north-east, 10 scans a second
                    t = time.time()
                    scan = radar.scan(t, np.array([[500.0, 500.0, 80.0]]), np.zeros((1, 3)))
                    assert await pub.send_report(t, scan.detections)
                    sent.append(t)
                    await asyncio.sleep(0.1)
                last = sent[-1]

                def updated(seen: list) -> bool:
                    return any(
                        isinstance(m, wire.TrackUpdate)
                        and any(tr.t_update == last for tr in m.tracks)
                        for _, m in seen
                    )

                await eventually(lambda: updated(over_mqtt), 2 * CYCLE_S, "the update over MQTT")
                await eventually(lambda: updated(over_zmq), 2 * CYCLE_S, "the update over ZeroMQ")
            finally:
                await pub.close()
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
        sub.close(0)
        ctx.term()
        return sent

    sent = asyncio.run(asyncio.wait_for(scenario(), 60))
    last = sent[-1]
    for seen in (over_mqtt, over_zmq):
        first = next(
            i
            for i, (_, m) in enumerate(seen)
            if isinstance(m, wire.TrackUpdate) and any(tr.t_update == last for tr in m.tracks)
        )
        # Before any cycle that holds the scan: out on the scan, not on the cycle grid.
        assert not any(isinstance(m, wire.TrackCycle) and m.t >= last for _, m in seen[:first])
        updates = [m for _, m in seen if isinstance(m, wire.TrackUpdate)]
        assert updates[0].t >= sent[0]
        for before, update in zip([None, *updates], updates, strict=False):
            # Only tracks updated since the previous update, each once, in its state now.
            assert update.tracks and update.v == wire.VERSION
            assert len({tr.track_id for tr in update.tracks}) == len(update.tracks)
            assert all(tr.t_update <= tr.t <= update.t for tr in update.tracks)
            if before is not None:
                assert all(tr.t_update > before.t for tr in update.tracks)
    # One message serialised twice: what ZeroMQ carried at a time, MQTT carried (merged at
    # most with earlier scans' tracks while the broker was busy).
    by_t = {m.t: m for kind, m in over_mqtt if kind == "track_update"}
    for _, m in over_zmq:
        if isinstance(m, wire.TrackUpdate) and m.t in by_t:
            mqtt = {tr.track_id: tr for tr in by_t[m.t].tracks}
            assert all(mqtt[tr.track_id] == tr for tr in m.tracks)
