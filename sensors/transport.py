"""How adapters receive a device's bytes: UDP datagrams, TCP servers, TCP clients that reconnect.

Nothing here knows what the bytes mean, so every adapter reads its device the same way (the
JSON-lines radar today; SAPIENT and ASTERIX next). An adapter implements `Receiver`: it is
told when a stream opens (a TCP connection, or a UDP socket whose datagrams arrive whole),
gets each chunk of bytes or each datagram, and is told when the stream closes, so that it can
frame, parse and flush what is pending. `Transports` owns the sockets and the reconnect loop;
`LineBuffer` and `datagram_lines` frame line-delimited protocols.

A source is named on the command line as `--udp`, `--tcp-listen` or `--tcp-connect`
`HOST:PORT` (`Source`, `parse_hostport`); `start_source` starts reading from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

StreamT = TypeVar("StreamT")

SourceMode = Literal["udp", "tcp-listen", "tcp-connect"]

__all__ = [
    "LineBuffer",
    "Receiver",
    "Source",
    "SourceMode",
    "SourceReader",
    "Transports",
    "datagram_lines",
    "parse_hostport",
    "start_source",
]


# --- where the bytes come from ----------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a device's data comes from."""

    mode: SourceMode
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.mode} {host}:{self.port}"


def parse_hostport(text: str) -> tuple[str, int]:
    """`"0.0.0.0:4001"` or `"[::1]:4001"` → `(host, port)`."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT, not {text!r}")
    return host, int(port)


class SourceReader(Protocol):
    """Anything that reads from the three kinds of source (`Transports`, or an adapter)."""

    async def listen_udp(self, host: str, port: int) -> tuple[str, int]: ...

    async def listen_tcp(self, host: str, port: int) -> tuple[str, int]: ...

    async def connect_tcp(self, host: str, port: int) -> None: ...


async def start_source(reader: SourceReader, source: Source) -> tuple[str, int]:
    """Start reading from `source`; returns the bound address (the target in client mode)."""
    if source.mode == "udp":
        return await reader.listen_udp(source.host, source.port)
    if source.mode == "tcp-listen":
        return await reader.listen_tcp(source.host, source.port)
    await reader.connect_tcp(source.host, source.port)
    return source.host, source.port


# --- line framing -----------------------------------------------------------------------


class LineBuffer:
    """Splits a byte stream into lines; a line longer than `max_bytes` is skipped whole."""

    def __init__(self, max_bytes: int = 65536) -> None:
        self.max_bytes = max_bytes
        self.too_long = 0  # lines skipped since the last call to `feed`/`end`
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes]:
        """The complete lines in `data` plus what came before; keeps the partial rest."""
        self.too_long = 0
        lines: list[bytes] = []
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            if self._skipping:
                self._skipping = False
            elif len(self._buffer) + end - start > self.max_bytes:
                self.too_long += 1
                self._buffer.clear()
            else:
                lines.append(
                    bytes(self._buffer + data[start:end]) if self._buffer else data[start:end]
                )
                self._buffer.clear()
            start = end + 1
        if not self._skipping:
            self._buffer += data[start:]
            if len(self._buffer) > self.max_bytes:
                self.too_long += 1
                self._buffer.clear()
                self._skipping = True
        return lines

    def end(self) -> list[bytes]:
        """At end of stream: the last line if it had no newline."""
        self.too_long = 0
        rest, self._skipping = bytes(self._buffer), False
        self._buffer.clear()
        return [rest] if rest.strip() else []


def datagram_lines(data: bytes, max_bytes: int) -> tuple[list[bytes], int]:
    """The lines of one datagram (the last one needs no newline) no longer than `max_bytes`,
    and how many longer ones were left out."""
    lines = data.split(b"\n")
    long = sum(1 for line in lines if len(line) > max_bytes)
    if long:
        lines = [line for line in lines if len(line) <= max_bytes]
    return lines, long


# --- sockets ------------------------------------------------------------------------------


class Receiver(Protocol[StreamT]):
    """What an adapter does with the bytes `Transports` hands it, one stream at a time."""

    def open_stream(self, name: str, *, datagrams: bool) -> StreamT:
        """A stream opened: a TCP connection (`datagrams` False) or a UDP socket (True)."""
        ...

    def stream_data(self, stream: StreamT, data: bytes) -> None:
        """Bytes of a TCP connection, cut anywhere."""
        ...

    def datagram(self, stream: StreamT, data: bytes) -> None:
        """One UDP datagram, whole."""
        ...

    def close_stream(self, stream: StreamT) -> None:
        """The stream ended: flush what is pending (also called for a socket never bound)."""
        ...

    def delivered(self, stream: StreamT) -> bool:
        """Whether a client connection brought something useful (reconnect promptly then)."""
        ...


@dataclass(frozen=True)
class Reconnect:
    """Client mode: the delay between attempts doubles from `backoff_min_s` up to the max."""

    backoff_min_s: float = 0.1
    backoff_max_s: float = 5.0
    connect_timeout_s: float = 5.0


class Transports(Generic[StreamT]):
    """The sockets of one adapter: UDP and TCP servers, and TCP clients that reconnect.

    `name` (the sensor id) starts every log line, `peer` names the device in them ("the
    radar"); they go to the adapter's `logger`.
    """

    def __init__(
        self,
        receiver: Receiver[StreamT],
        name: str,
        logger: logging.Logger,
        reconnect: Reconnect | None = None,
        *,
        peer: str = "the device",
    ) -> None:
        self.receiver = receiver
        self.name = name
        self.log = logger
        self.reconnect = reconnect or Reconnect()
        self.peer = peer
        self.client_target: str | None = None  # host:port in client mode (the last one)
        self.client_connected = False
        self._servers: list[asyncio.AbstractServer] = []
        self._transports: set[asyncio.BaseTransport] = set()
        self._clients: list[asyncio.Task[None]] = []

    async def listen_udp(self, host: str, port: int) -> tuple[str, int]:
        """Receive datagrams on host:port; returns the bound address."""
        loop = asyncio.get_running_loop()
        stream = self.receiver.open_stream(f"udp {host}:{port}", datagrams=True)
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _DatagramProtocol(self, stream), local_addr=(host, port)
            )
        except BaseException:
            self.receiver.close_stream(stream)
            raise
        self._transports.add(transport)
        return _address(transport)

    async def listen_tcp(self, host: str, port: int) -> tuple[str, int]:
        """Accept any number of TCP connections on host:port; returns the bound address."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _StreamProtocol(self), host, port, reuse_address=True
        )
        self._servers.append(server)
        return server.sockets[0].getsockname()[:2]

    async def connect_tcp(self, host: str, port: int) -> None:
        """Connect to the device as a TCP client, reconnecting with backoff, in the background."""
        self.client_target = f"{host}:{port}"
        task = asyncio.create_task(self._client_loop(host, port), name=f"{self.name}-tcp")
        self._clients.append(task)

    async def close(self) -> None:
        """Stop the clients, close every socket; each open stream is closed on the receiver
        as its connection goes (the caller closes whatever streams it still holds)."""
        for task in self._clients:
            task.cancel()
        for task in self._clients:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._clients = []
        for server in self._servers:
            server.close()
        for transport in list(self._transports):
            transport.abort()  # its connection_lost closes the stream
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        await asyncio.sleep(0)  # let the connection_lost callbacks run

    async def _client_loop(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        opts = self.reconnect
        backoff = opts.backoff_min_s
        failures = 0
        while True:
            protocol = _StreamProtocol(self)
            try:
                async with asyncio.timeout(opts.connect_timeout_s):
                    await loop.create_connection(lambda p=protocol: p, host, port)
            except (OSError, TimeoutError) as exc:
                failures += 1
                level = logging.WARNING if failures == 1 else logging.DEBUG
                self.log.log(
                    level,
                    "%s: cannot reach %s at %s:%s: %s; retrying",
                    self.name,
                    self.peer,
                    host,
                    port,
                    exc or "timeout",
                )
            else:
                failures = 0
                self.client_connected = True
                self.log.info("%s: connected to %s at %s:%s", self.name, self.peer, host, port)
                await protocol.closed
                self.client_connected = False
                self.log.warning(
                    "%s: %s at %s:%s closed the connection; reconnecting",
                    self.name,
                    self.peer,
                    host,
                    port,
                )
                if protocol.stream is not None and self.receiver.delivered(protocol.stream):
                    backoff = opts.backoff_min_s  # it was useful: retry promptly
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2.0, opts.backoff_max_s)


class _StreamProtocol(asyncio.Protocol, Generic[StreamT]):
    """One TCP connection from or to the device."""

    def __init__(self, owner: Transports[StreamT]) -> None:
        self.owner = owner
        self.stream: StreamT | None = None
        self.transport: asyncio.BaseTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.stream = self.owner.receiver.open_stream(f"tcp {peer}", datagrams=False)
        self.owner._transports.add(transport)
        self.owner.log.debug("%s: stream opened: %s", self.owner.name, peer)

    def data_received(self, data: bytes) -> None:
        assert self.stream is not None
        self.owner.receiver.stream_data(self.stream, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.stream is not None:
            self.owner.receiver.close_stream(self.stream)
        if self.transport is not None:
            self.owner._transports.discard(self.transport)
        if not self.closed.done():
            self.closed.set_result(None)


class _DatagramProtocol(asyncio.DatagramProtocol, Generic[StreamT]):
    def __init__(self, owner: Transports[StreamT], stream: StreamT) -> None:
        self.owner = owner
        self.stream = stream

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner.receiver.datagram(self.stream, data)

    def error_received(self, exc: Exception) -> None:
        self.owner.log.debug("%s: UDP error: %s", self.owner.name, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.receiver.close_stream(self.stream)


def _address(transport: asyncio.BaseTransport) -> tuple[str, int]:
    name = transport.get_extra_info("sockname")
    return name[0], name[1]
