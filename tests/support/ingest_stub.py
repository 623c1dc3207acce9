"""The core's end of the ingest link, for sensor-side tests.

A SUB socket bound on loopback (a free port by default), subscribed to everything and
always receiving: a bound SUB must already be reading when publishers connect, or their
first messages are lost. Subclasses decide what to keep of each message in `received`.
"""

from __future__ import annotations

import asyncio
from typing import Self

import zmq
import zmq.asyncio


class BoundSub:
    """Binds on enter, hands every `[topic, payload]` to `received`, closes on exit."""

    def __init__(self, endpoint: str = "tcp://127.0.0.1:0") -> None:
        self.requested = endpoint
        self.endpoint = ""

    async def __aenter__(self) -> Self:
        self.context = zmq.asyncio.Context()
        self.sub = self.context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.bind(self.requested)
        self.endpoint = self.sub.getsockopt_string(zmq.LAST_ENDPOINT)
        self.task = asyncio.create_task(self._receive())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.sub.close(linger=0)
        self.context.term()

    async def _receive(self) -> None:
        while True:
            topic, payload = await self.sub.recv_multipart()
            self.received(topic, payload)

    def received(self, topic: bytes, payload: bytes) -> None:
        raise NotImplementedError
