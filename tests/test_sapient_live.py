"""SAPIENT with the real core: a SAPIENT radar node flies an intruder into it through
`cuas adapter-sapient` (its track is confirmed; when the node leaves, the core's silent-sensor
rule reports the sensor in fault), and `cuas gateway-sapient` reports the core's tracks and
alert to a decision node, every message valid for an independent validator."""

from __future__ import annotations

import asyncio
import time
import uuid

from support.live import Intruder, camp, core_running, eventually, listening, live_camp
from support.sapient_peers import DecisionNode, SensorNode, polar, registration, validate

from cuas.gateways.sapient import SapientGateway
from cuas.gateways.sapient_protocol import Alert, icd_errors, ulid, uuid4_of
from sensors.sapient import server

NODE = str(uuid.uuid4())


def test_a_sapient_radar_makes_tracks_in_the_core_and_falls_silent_when_it_leaves(
    mosquitto, tmp_path
):
    path = live_camp(tmp_path, mosquitto.port)
    text = path.read_text().replace(
        'id = "radar-1"\n', f'id = "radar-1"\nsapient_node_id = "{NODE}"\n'
    )
    path.write_text(text)
    config = camp(path)
    radar = config.sensor("radar-1")
    assert radar is not None
    seen_from = config.local_frame().sensor_frame(radar.lat, radar.lon, radar.alt_m)

    async def scenario() -> None:
        async with core_running(config) as service, listening(mosquitto.port) as ops:
            await asyncio.wait_for(service.ready.wait(), 5)
            stop_adapter = asyncio.Event()
            ready = asyncio.get_running_loop().create_future()
            adapter_task = asyncio.create_task(
                server.run(
                    config,
                    config.zmq.ingest,
                    "127.0.0.1",
                    0,
                    stop=stop_adapter,
                    ready=lambda a, addr: ready.set_result((a, addr)),
                )
            )
            adapter, (_, port) = await asyncio.wait_for(ready, 5)
            assert await adapter.wait_connected(5)
            drone = Intruder(config)
            object_id = ulid()
            async with SensorNode(NODE, port) as node:
                await node.send(registration=registration())
                await eventually(lambda: node.of("registration_ack"), 5, "the ack")
                deadline = time.monotonic() + 20
                while not any(
                    t.status == "confirmed" and "radar-1" in t.sensors
                    for c in ops.cycles
                    for t in c.tracks
                ):
                    assert time.monotonic() < deadline, "no confirmed track from the SAPIENT radar"
                    t = time.time()
                    position, _ = drone.position(t)
                    az, el, rng = (float(x) for x in seen_from.enu_to_aer(position))
                    await node.send(t, detection_report=polar(object_id, rng, az, el))
                    await asyncio.sleep(0.1)
            # The node has gone: no more heartbeats, so the core calls the sensor silent.
            await eventually(
                lambda: any(h.sensor_id == "radar-1" and h.state == "fault" for h in ops.health),
                15,
                "radar-1 in fault at the core",
            )
            stop_adapter.set()
            await adapter_task

    asyncio.run(scenario())


def test_the_real_cores_intruder_and_its_alert_reach_a_decision_node_valid(mosquitto, tmp_path):
    config = camp(live_camp(tmp_path, mosquitto.port))

    async def scenario() -> DecisionNode:
        parent = DecisionNode(uuid4_of("decision node"))
        await parent.start()
        gateway = SapientGateway(config, "127.0.0.1", parent.port)
        stop_gateway, stop_flight = asyncio.Event(), asyncio.Event()
        async with core_running(config) as service:
            await asyncio.wait_for(service.ready.wait(), 5)
            running = asyncio.create_task(gateway.run(stop_gateway))
            await asyncio.wait_for(gateway.registered.wait(), 5)
            await asyncio.wait_for(gateway.following.wait(), 5)
            flight = asyncio.create_task(Intruder(config).fly(stop_flight))
            await eventually(lambda: parent.of("alert"), 20, "an alert at the decision node")
            stop_flight.set()
            await flight
            stop_gateway.set()
            await running
        await parent.stop()
        return parent

    parent = asyncio.run(scenario())
    [active, *_] = [m.alert for m in parent.of("alert")]
    assert active.status == Alert.ALERT_STATUS_ACTIVE
    objects = {m.detection_report.object_id for m in parent.of("detection_report")}
    assert active.associated_detection[0].object_id in objects
    assert all(icd_errors(m) == [] for m in parent.messages)
    assert [v for v in validate(parent.frames) if not v["ok"]] == []
