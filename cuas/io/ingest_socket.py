"""The core's ZeroMQ ingest: one SUB socket that sensors' PUB sockets connect to.

Reading one message per event-loop wakeup caps asyncio at ~25k msg/s (FIELD-NOTES), so after
each wakeup everything already queued is drained without blocking, through a synchronous
shadow of the same socket. The socket binds and subscribes at construction: a SUB that binds
must already be subscribed when publishers connect, or their first messages are lost.
"""

from __future__ import annotations

import zmq
import zmq.asyncio

MAX_BATCH = 5000  # messages per drain, so one flood cannot starve the rest of the loop


class IngestSocket:
    """Receives `[topic, payload]` messages from every sensor of the camp."""

    def __init__(self, endpoint: str, context: zmq.asyncio.Context, hwm: int = 100_000) -> None:
        self.endpoint = endpoint
        self._socket = context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, hwm)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        self._socket.bind(endpoint)
        self.bound = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
        self._sync = zmq.Socket.shadow(self._socket.underlying)
        self.received = 0
        self.bad_frames = 0

    async def batch(self) -> list[tuple[str, bytes]]:
        """Wait for traffic, then return everything queued (up to MAX_BATCH messages).

        A message that is not exactly two frames, or whose topic is not UTF-8, is counted in
        `bad_frames` and returned with the topic `""` so ingest can count it as a reject.
        """
        await self._socket.poll(flags=zmq.POLLIN)
        out: list[tuple[str, bytes]] = []
        while len(out) < MAX_BATCH:
            try:
                frames = self._sync.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.Again:
                break
            self.received += 1
            if len(frames) != 2:
                self.bad_frames += 1
                out.append(("", b""))
                continue
            try:
                topic = frames[0].decode()
            except UnicodeDecodeError:
                self.bad_frames += 1
                topic = ""
            out.append((topic, frames[1]))
        return out

    def close(self) -> None:
        self._socket.close(linger=0)
