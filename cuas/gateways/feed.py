"""The camp's MQTT output as a gateway sees it: subscribed, decoded, and resubscribed after a
broker outage, with bad payloads counted instead of raised.

Every gateway runs `follow(config, handle, stop)`: it connects through
`cuas.io.mqtt_client.mqtt_client` (so `[mqtt]` credentials and TLS apply), subscribes to the
track cycles, the alert events and the retained alert states, and hands each decoded
`OutputMessage` to `handle` (a message that `handle` fails on is counted as
`handler_error` and logged, and the feed carries on). aiomqtt has no reconnect of its own;
this loop retries with a backoff of 0.2 s doubling to `max_backoff_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt

from cuas.config import CampConfig
from cuas.errors import WireError
from cuas.io.mqtt_client import mqtt_client
from cuas.io.mqtt_output import AlertDeduplicator, OutputMessage, decode_output
from cuas.topics import Topics

log = logging.getLogger("cuas.gateways")

Handler = Callable[[OutputMessage], Awaitable[None] | None]


class FeedStats:
    """What the feed received and refused (refusals by reason)."""

    def __init__(self) -> None:
        self.messages = 0
        self.connects = 0
        self.rejects: Counter[str] = Counter()


async def follow(
    config: CampConfig,
    handle: Handler,
    stop: asyncio.Event,
    *,
    stats: FeedStats | None = None,
    connected: asyncio.Event | None = None,
    identifier: str | None = None,
    max_backoff_s: float = 5.0,
) -> None:
    """Feed the camp's output to `handle` until `stop` is set; never raises for the broker."""
    stats = stats if stats is not None else FeedStats()
    topics = Topics(config.mqtt_prefix)
    seen = AlertDeduplicator()  # MQTT delivers at least once; a seen `seq` is a copy
    wanted = [topics.tracks, topics.alert_events, topics.alerts]
    backoff = 0.2

    async def session() -> None:
        nonlocal backoff
        async with mqtt_client(config.mqtt, identifier=identifier) as client:
            for topic in wanted:
                await client.subscribe(topic, qos=1)
            stats.connects += 1
            backoff = 0.2
            if connected is not None:
                connected.set()
            log.info("following %s/# at %s:%s", topics.prefix, config.mqtt.host, config.mqtt.port)
            async for m in client.messages:
                payload = bytes(m.payload) if m.payload is not None else b""  # type: ignore[arg-type]
                try:
                    out = decode_output(topics, m.topic.value, payload)
                except WireError as exc:
                    stats.rejects[exc.reason] += 1
                    log.debug("bad message on %s: %s", m.topic.value, exc)
                    continue
                stats.messages += 1
                if out.kind == "alert_event" and not seen.is_new(out.message):
                    stats.rejects["duplicate"] += 1
                    continue
                try:
                    result = handle(out)
                    if result is not None:
                        await result
                except (aiomqtt.MqttError, asyncio.CancelledError):
                    raise
                except Exception:  # a gateway's bug on one message must not stop the feed
                    stats.rejects["handler_error"] += 1
                    log.exception("gateway failed on a message from %s", m.topic.value)

    while not stop.is_set():
        task = asyncio.ensure_future(session())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            try:
                await task
            except aiomqtt.MqttError as exc:
                if connected is not None:
                    connected.clear()
                log.warning("broker %s:%s: %s; retrying", config.mqtt.host, config.mqtt.port, exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2.0, max_backoff_s)


def run_until_signal(main: Callable[[asyncio.Event], Awaitable[Any]]) -> Any:
    """Run `main(stop)` in a new loop; SIGINT or SIGTERM sets `stop` (the gateways' lifetime,
    as `cuas.service.lifetime` gives the service, which this layer may not import)."""

    async def runner() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        return await main(stop)

    return asyncio.run(runner())
