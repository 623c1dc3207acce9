"""The integrators' track stream: a ZeroMQ PUB socket sending the track picture as MessagePack.

Two topics: `tracks`, every track cycle (the whole picture), and `track_updates`, the tracks
that scans just updated, sent as soon as they are fused (`[zmq] track_updates`). On a
secured camp it is a CURVE server with the core's key (`CurveServer.secure_publisher`):
encrypted, and only `[zmq] track_subscriber_keys` may subscribe.
"""

from __future__ import annotations

import zmq
import zmq.asyncio

from cuas import wire
from cuas.io.curve_auth import CurveServer
from cuas.topics import TRACK_STREAM, TRACK_UPDATES_STREAM

TOPIC = TRACK_STREAM.encode()
UPDATES_TOPIC = TRACK_UPDATES_STREAM.encode()


class TrackSocket:
    """Publishes `[b"tracks", msgpack TrackCycle]` and `[b"track_updates", msgpack
    TrackUpdate]`; never blocks (a full queue drops, counted per topic)."""

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
        self.updates_sent = 0
        self.updates_dropped = 0

    def send(self, cycle: wire.TrackCycle) -> None:
        if self._send(TOPIC, cycle):
            self.sent += 1
        else:
            self.dropped += 1

    def send_update(self, update: wire.TrackUpdate) -> None:
        if self._send(UPDATES_TOPIC, update):
            self.updates_sent += 1
        else:
            self.updates_dropped += 1

    def _send(self, topic: bytes, message: wire.TrackCycle | wire.TrackUpdate) -> bool:
        try:
            self._sync.send_multipart([topic, wire.to_msgpack(message)], zmq.NOBLOCK)
        except zmq.Again:
            return False
        return True

    def close(self, linger_ms: int = 0) -> None:
        """Close; with `linger_ms`, what is still queued (the final cycle) may take that long
        to leave when the context is terminated."""
        self._socket.close(linger=linger_ms)
