"""Multi-sensor fusion in the live service: every simulated sensor kind over real ZeroMQ
sockets into `FusionService`, and what an operations centre hears over a real Mosquitto."""

from __future__ import annotations

import asyncio

from support.live import camp, core_running, eventually, listening, live_camp

from cuas import wire
from simulators.flight.realtime import run_realtime
from simulators.scenario_library import FRIENDLY_UAS_ID


def firm(cycle: wire.TrackCycle) -> list[wire.Track]:
    return [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]


def test_the_mixed_camp_fuses_every_sensor_kind_live(mosquitto, tmp_path) -> None:
    config = camp(live_camp(tmp_path, mosquitto.port))
    kinds = {s.id: s.kind for s in config.sensors}

    async def scenario() -> None:
        stop = asyncio.Event()
        async with core_running(config) as service, listening(mosquitto.port) as heard:
            await asyncio.wait_for(service.ready.wait(), 5)
            flight = asyncio.create_task(
                run_realtime("mixed", config, stop, speed=2.0, duration_s=60.0)
            )

            def friendly_patrol() -> bool:
                return any(
                    t.friendly and t.uas_id == FRIENDLY_UAS_ID
                    for c in heard.cycles[-3:]
                    for t in firm(c)
                )

            await eventually(friendly_patrol, 20, "the friendly patrol, friendly, on MQTT")

            def fused_kinds() -> set[str]:
                return {kinds[s] for c in heard.cycles for t in firm(c) for s in t.sensors}

            await eventually(
                lambda: fused_kinds() == {"radar", "rf", "camera", "remote_id"},
                20,
                "tracks fused from radar, RF, camera and Remote ID reports",
            )
            # One track fuses several kinds at once: the patrol is seen by all of them.
            patrol = next(
                t for c in reversed(heard.cycles) for t in firm(c) if t.uas_id == FRIENDLY_UAS_ID
            )
            assert {kinds[s] for s in patrol.sensors} >= {"radar", "remote_id"}
            assert patrol.class_ == "drone"
            # Every sensor is healthy; nothing the simulators sent was refused.
            await eventually(
                lambda: {h.sensor_id for h in heard.health if h.state == "ok"} >= set(kinds),
                10,
                "every sensor reported ok",
            )
            assert not any(h.rejects for h in heard.health[-len(kinds) :])
            stop.set()
            await flight
            # The friendly patrol never raised anything.
            patrol_ids = {
                t.track_id for c in heard.cycles for t in c.tracks if t.uas_id == FRIENDLY_UAS_ID
            }
            assert not patrol_ids & {a.track_id for a in heard.events}

    asyncio.run(asyncio.wait_for(scenario(), 90))
