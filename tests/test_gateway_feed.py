"""The gateways' view of the camp's MQTT output (cuas/gateways/feed.py), over a real Mosquitto:
bad payloads and a gateway's own failure on one message are counted, and the feed goes on."""

from __future__ import annotations

import asyncio

import aiomqtt
from support.live import camp, eventually, live_camp

from cuas import wire
from cuas.gateways.feed import FeedStats, follow
from cuas.io.mqtt_output import OutputMessage
from cuas.topics import Topics


def test_a_bad_payload_and_a_failing_handler_are_counted_and_the_feed_goes_on(mosquitto, tmp_path):
    config = camp(live_camp(tmp_path, mosquitto.port))
    topics = Topics(config.mqtt_prefix)
    seen: list[float] = []

    def handle(out: OutputMessage) -> None:
        if out.message.t == 1.0:
            raise RuntimeError("a gateway bug")
        seen.append(out.message.t)

    async def scenario() -> FeedStats:
        stats, connected, stop = FeedStats(), asyncio.Event(), asyncio.Event()
        running = asyncio.create_task(
            follow(config, handle, stop, stats=stats, connected=connected)
        )
        await asyncio.wait_for(connected.wait(), 5)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as core:
            await core.publish(topics.tracks, b"[1, 2", qos=1)
            for t in (1.0, 2.0):
                await core.publish(
                    topics.tracks, wire.to_json(wire.TrackCycle(v=1, t=t, tracks=[]))
                )
        await eventually(lambda: seen, 5, "the cycle after the failing one")
        stop.set()
        await running
        return stats

    stats = asyncio.run(scenario())
    assert seen == [2.0]
    assert stats.rejects["handler_error"] == 1
    assert sum(stats.rejects.values()) == 2  # and the malformed payload, by its reason
