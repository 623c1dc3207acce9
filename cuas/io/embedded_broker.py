"""An in-process MQTT broker for the demo, and a probe that tells whether one is needed.

When no broker is configured or reachable, `cuas demo` can still show its MQTT output by
running amqtt inside the service's own event loop. amqtt speaks MQTT 3.1.1 only (aiomqtt's
default, so clients need no `protocol=` argument) and manages ~1-2k messages/s, plenty for
alerts and per-cycle track batches but not a production broker: it keeps retained messages
and sessions in memory only, and drops disconnected anonymous sessions with their queues.
It is bound to an IPv4 loopback address, never to all interfaces: a demo must not open a
camp's alert stream to the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import uuid
from types import TracebackType
from typing import TYPE_CHECKING

from cuas.errors import CuasError

if TYPE_CHECKING:
    from amqtt.broker import Broker

_AUTH_PLUGIN = "amqtt.plugins.authentication.AnonymousAuthPlugin"


class EmbeddedBrokerError(RuntimeError):
    """The embedded broker could not start (typically: the port is already taken)."""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedBroker:
    """amqtt on `host:port` for the lifetime of an `async with` block.

    `host` must be an IPv4 loopback address; `port=0` picks a free port (read `.port` after
    entering). `quiet` raises amqtt's logger to WARNING, since it logs every connection at
    INFO.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, *, quiet: bool = True) -> None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"embedded broker host must be an IP address, not {host!r}") from None
        if address.version != 4 or not address.is_loopback:
            raise ValueError(f"embedded broker binds to IPv4 loopback only, not {host}")
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} is out of range")
        self.host = host
        self.port = port
        self.quiet = quiet
        self._broker: Broker | None = None

    @property
    def running(self) -> bool:
        return self._broker is not None

    async def start(self) -> None:
        """Listen on host:port; raises `EmbeddedBrokerError` if that is impossible."""
        if self._broker is not None:
            return
        from amqtt.broker import Broker  # ~0.1 s to import: only when a demo needs it
        from amqtt.errors import BrokerError

        if self.quiet:
            logging.getLogger("amqtt").setLevel(logging.WARNING)
        if self.port == 0:
            self.port = _free_port(self.host)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {_AUTH_PLUGIN: {"allow_anonymous": True}},
        }
        broker = Broker(config)
        try:
            await broker.start()
        except BrokerError as exc:
            raise EmbeddedBrokerError(
                f"cannot run an MQTT broker on {self.host}:{self.port}: {exc.__cause__ or exc}"
            ) from exc
        self._broker = broker

    async def stop(self) -> None:
        """Disconnect every client and close the listener."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return (
            f"EmbeddedBroker({self.host}:{self.port}, {'running' if self.running else 'stopped'})"
        )


def _connect_packet(client_id: str) -> bytes:
    """A minimal MQTT 3.1.1 CONNECT: clean session, 10 s keepalive, no credentials."""
    ident = client_id.encode()
    variable = b"\x00\x04MQTT\x04\x02\x00\x0a" + len(ident).to_bytes(2, "big") + ident
    return bytes([0x10, len(variable)]) + variable  # short ids: one-byte remaining length


async def broker_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether an MQTT broker answers at host:port within `timeout` seconds.

    Sends a bare MQTT 3.1.1 CONNECT and waits for any CONNACK, so a port held by something
    that is not MQTT counts as unreachable, while a broker that refuses anonymous clients
    counts as reachable (starting a second broker there would fail anyway).
    """
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(_connect_packet(f"cuas-probe-{uuid.uuid4().hex[:8]}"))
            await writer.drain()
            connack = await reader.readexactly(4)
            if connack[:2] != b"\x20\x02":
                return False
            writer.write(b"\xe0\x00")  # DISCONNECT
            await writer.drain()
            return True
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), timeout)


async def ensure_broker(
    stack: contextlib.AsyncExitStack,
    host: str,
    port: int,
    *,
    allow_embedded: bool = True,
    timeout: float = 1.0,
) -> bool:
    """Use the MQTT broker at host:port if one answers; otherwise, on loopback and when
    allowed, start an embedded one there for the life of `stack`.

    Returns True when an embedded broker was started. Raises `BrokerUnavailableError` when no
    broker answers and none may be started (a remote host, or `allow_embedded` off).
    """
    if await broker_reachable(host, port, timeout=timeout):
        return False
    if not allow_embedded or host not in ("127.0.0.1", "localhost"):
        raise BrokerUnavailableError(f"no MQTT broker answers at {host}:{port}")
    await stack.enter_async_context(EmbeddedBroker("127.0.0.1", port))
    return True


class BrokerUnavailableError(CuasError, ConnectionError):
    """No MQTT broker answers where the camp's configuration says, and none may be started."""
