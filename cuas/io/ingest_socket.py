"""The core's ZeroMQ ingest: one SUB socket that sensors' PUB sockets connect to.

Reading one message per event-loop wakeup caps asyncio at ~25k msg/s (FIELD-NOTES), so after
each wakeup everything already queued is drained without blocking. A drain that ends on an
empty socket (`emptied`) tells the live service that everything which reached the core before
the drain began is in hand: the wall-clock watermark its reorder window may release up to
(`waiting` tells whether anything has arrived since). The socket binds and subscribes at
construction: a SUB that binds must already be subscribed when publishers connect, or their
first messages are lost.

The socket is a plain ZeroMQ socket watched by the event loop's reader on its descriptor,
not pyzmq's asyncio poll, whose future is done only two turns of the loop after the data is
there (its callbacks chain through `call_soon`), even when messages are already queued: in
those turns the reorder clock would take an unread socket for an empty one. Here `wait`
returns at once when messages are queued, and the reader ends a wait in the turn the
descriptor fires. ZeroMQ's descriptor is edge-triggered: whoever reads the socket's `EVENTS`
and finds messages must see them drained, so `waiting`, when its own look finds them, ends
the wait itself (it never swallows a wakeup).

With a `CurveServer` (`[zmq] curve_secret_key`), the socket is a CURVE server and each
message's `User-Id` (the sensor id its key belongs to, cuas/io/curve_auth.py) must be the
sensor its topic names; any other message is refused here (`key_mismatch`, or
`unauthenticated` without a `User-Id`) and reported through `reject`, never fused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import zmq
import zmq.asyncio

from cuas import topics
from cuas.fusion.reject_log import RejectLog
from cuas.io.curve_auth import CurveServer

MAX_BATCH = 5000  # messages per drain, so one flood cannot starve the rest of the loop

Reject = Callable[[str, str, str], None]  # (sensor id, reason, detail)


class IngestSocket:
    """Receives `[topic, payload]` messages from every sensor of the camp."""

    def __init__(
        self,
        endpoint: str,
        context: zmq.asyncio.Context,
        hwm: int = 100_000,
        *,
        curve: CurveServer | None = None,
        reject: Reject | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.curve = curve
        self._reject = reject or RejectLog().add
        # A plain socket of the asyncio context (its CURVE monitor is then an asyncio socket).
        self._socket = zmq.Socket(context, zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, hwm)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        if curve is not None:
            curve.secure(self._socket)  # before bind: no handshake may precede the ZAP handler
        self._socket.bind(endpoint)
        self.bound = self._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
        self._fd = self._socket.getsockopt(zmq.FD)
        self.received = 0
        self.bad_frames = 0
        self.key_mismatch = 0  # an admitted sensor's key on another sensor's topic
        self.unauthenticated = 0  # a message without a User-Id (cannot happen if ZAP runs)
        self.emptied = False  # the last drain ended on an empty socket
        self.idle = True  # the last `wait` found nothing queued and had to wait
        self._arrived: asyncio.Future[None] | None = None  # `wait`'s, while it waits

    async def batch(self) -> list[tuple[str, bytes]]:
        """Wait for traffic, then return everything queued (up to MAX_BATCH messages)."""
        await self.wait()
        return self.drain()

    async def wait(self) -> None:
        """Until a message is queued (at once if one already is: no turn of the loop);
        `idle` says whether it had to wait (False: messages were already queued)."""
        self.idle = not self._queued()
        if not self.idle:
            return
        loop = asyncio.get_running_loop()
        self._arrived = loop.create_future()
        loop.add_reader(self._fd, self._on_readable)
        try:
            await self._arrived
        finally:
            loop.remove_reader(self._fd)
            self._arrived = None

    def waiting(self) -> bool:
        """Whether messages may have arrived unread: nobody is in `wait` (so nobody watches),
        its wait has ended and not yet been handed on, or a message is queued now (then the
        wait ends here: this look took the descriptor's edge, which its reader would miss)."""
        if self._arrived is None or self._arrived.done():
            return True
        if self._queued():
            self._arrived.set_result(None)
            return True
        return False

    def _on_readable(self) -> None:
        """The descriptor fired: end the wait if a message is queued (it may also fire for
        ZeroMQ's own commands, such as a new publisher's subscription)."""
        if self._arrived is not None and not self._arrived.done() and self._queued():
            self._arrived.set_result(None)

    def _queued(self) -> bool:
        return bool(self._socket.getsockopt(zmq.EVENTS) & zmq.POLLIN)

    def drain(self) -> list[tuple[str, bytes]]:
        """Everything queued now, up to MAX_BATCH messages, without waiting; `emptied` says
        whether the socket was found empty at the end (False: MAX_BATCH cut the drain short).

        A message that is not exactly two frames, or whose topic is not UTF-8, is counted in
        `bad_frames` and returned with the topic `""` so ingest can count it as a reject.
        A message refused by CURVE is counted and not returned.
        """
        out: list[tuple[str, bytes]] = []
        self.emptied = False
        taken = 0
        while taken < MAX_BATCH:
            sender: zmq.Frame | None = None  # the first frame, which carries the User-Id
            try:
                if self.curve is None:
                    frames = self._socket.recv_multipart(zmq.NOBLOCK, copy=True)
                else:
                    parts = self._socket.recv_multipart(zmq.NOBLOCK, copy=False)
                    sender, frames = parts[0], [p.bytes for p in parts]
            except zmq.Again:
                self.emptied = True
                break
            self.received += 1
            taken += 1
            if len(frames) != 2:
                self.bad_frames += 1
                out.append(("", b""))
                continue
            try:
                topic = frames[0].decode()
            except UnicodeDecodeError:
                self.bad_frames += 1
                topic = ""
            if sender is not None and not self._authentic(sender, topic):
                continue
            out.append((topic, frames[1]))
        return out

    def _authentic(self, frame: zmq.Frame, topic: str) -> bool:
        """Whether the sensor that sent `frame` (its key's user id) is the topic's sensor."""
        _, claimed = topics.sensor_topic_parts(topic)
        try:
            sender = frame.get("User-Id")
        except zmq.ZMQError:
            self.unauthenticated += 1
            self._reject(claimed or "?", "unauthenticated", "a message without a CURVE user id")
            return False
        if sender != claimed:
            self.key_mismatch += 1
            self._reject(claimed or "?", "key_mismatch", f"sensor {sender!r}'s key on {topic!r}")
            return False
        return True

    def close(self) -> None:
        if self.curve is not None:
            self.curve.close(self._socket)
        self._socket.close(linger=0)
