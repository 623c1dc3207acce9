"""The integrators' track stream: a ZeroMQ PUB socket sending every track cycle as MessagePack.

On a secured camp it is a CURVE server with the core's key (`CurveServer.secure_publisher`):
encrypted, and only `[zmq] track_subscriber_keys` may subscribe.
"""

from __future__ import annotations

import zmq
import zmq.asyncio

from cuas import wire
from cuas.io.curve_auth import CurveServer
from cuas.topics import TRACK_STREAM

TOPIC = TRACK_STREAM.encode()


class TrackSocket:
    """Publishes `[b"tracks", msgpack TrackCycle]`; never blocks (a full queue drops, counted)."""

    def __init__(
        self,
        endpoint: str,
        context: zmq.asyncio.Context,
        hwm: int = 1000,
        *,
        curve: CurveServer | None = None,
    ) -> None:
        self._socket = context.socket(zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, hwm)
        self._socket.setsockopt(zmq.LINGER, 0)
        if curve is not None:
            curve.secure_publisher(self._socket)
        self._socket.bind(endpoint)
        self.bound = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
        self._sync = zmq.Socket.shadow(self._socket.underlying)
        self.sent = 0
        self.dropped = 0

    def send(self, cycle: wire.TrackCycle) -> None:
        try:
            self._sync.send_multipart([TOPIC, wire.to_msgpack(cycle)], zmq.NOBLOCK)
            self.sent += 1
        except zmq.Again:
            self.dropped += 1

    def close(self) -> None:
        self._socket.close(linger=0)
