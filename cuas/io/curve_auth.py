"""CurveZMQ on the core's sockets: only the camp's sensors get in, each only as itself; only
listed subscribers get the track stream.

The core's socket is a CURVE server; a ZAP handler (pyzmq's asyncio authenticator, in
callback mode) admits a client key only if a `[[sensors]]` entry names it, and labels the
connection with that sensor's id, which then arrives as every message's `User-Id`. Ingest
accepts a message only if that id is the sensor its topic names.

Fail closed, in this order (a CURVE server with no ZAP handler admits every key, FIELD-NOTES):
the authenticator runs before the socket binds, the socket enforces its ZAP domain
(`ZAP_ENFORCE_DOMAIN`, so nothing gets in while no handler answers), and a message without a
`User-Id` is refused as unauthenticated.

Refused handshakes are counted from the socket monitor: `auth_failed` (a key no sensor has)
and `handshake_failed` (a plain client, or one with the wrong server key, which retries every
~140 ms forever). The monitor does not say who; the ZAP handler logs the unknown key and its
address, rate-limited like every reject.

The track stream's PUB (`secure_publisher`) uses the same key and the same ZAP handler (one
per context) under a domain of its own, admitting `[zmq] track_subscriber_keys` only;
refusals there are counted as `subscribers_refused`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import zmq
import zmq.asyncio
import zmq.utils.z85
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils.monitor import parse_monitor_message

from cuas.config import CampConfig
from cuas.errors import ConfigError
from cuas.fusion.reject_log import RejectLog
from cuas.security.curve_keys import load_secret_key

log = logging.getLogger("cuas.io.curve_auth")

INGEST_DOMAIN = "cuas-ingest"
TRACKS_DOMAIN = "cuas-tracks"
_FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)


class _CampAuthenticator(AsyncioAuthenticator):
    """ZAP handler: on ingest a sensor's key is admitted, labelled with its sensor id; on the
    track stream a listed subscriber's key."""

    def __init__(
        self,
        context: zmq.asyncio.Context,
        sensor_of_key: dict[bytes, str],
        subscribers: set[bytes],
        refused: RejectLog,
    ) -> None:
        super().__init__(context, log=log)
        self.sensor_of_key = sensor_of_key
        self.subscribers = subscribers
        self.refused = refused
        self.subscribers_refused = 0
        self._address = "?"

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        self._address = msg[3].decode(errors="replace") if len(msg) > 3 else "?"
        await super().handle_zap_message(msg)

    def callback(self, domain: str, z85_key: bytes) -> bool:
        if domain == TRACKS_DOMAIN:
            if z85_key in self.subscribers:
                return True
            self.subscribers_refused += 1
            reason = "unknown_subscriber_key"
        elif z85_key in self.sensor_of_key:
            return True
        else:
            reason = "unknown_key"
        self.refused.add(self._address, reason, f"CURVE key {z85_key.decode(errors='replace')}")
        return False

    def curve_user_id(self, client_public_key: bytes) -> str:
        z85 = zmq.utils.z85.encode(client_public_key)
        return self.sensor_of_key.get(z85, "track-subscriber")


class CurveServer:
    """The core's CURVE side: the authenticator, socket options and refusal counters."""

    def __init__(
        self,
        context: zmq.asyncio.Context,
        secret_key_file: str | os.PathLike[str],
        sensor_of_key: dict[str, str],
        subscriber_keys: list[str] | None = None,
    ) -> None:
        self.public_key, self._secret_key = load_secret_key(secret_key_file, "zmq.curve_secret_key")
        self.refused = RejectLog(logger=log, what="refused connection")
        self._authenticator = _CampAuthenticator(
            context,
            {k.encode(): s for k, s in sensor_of_key.items()},
            {k.encode() for k in subscriber_keys or []},
            self.refused,
        )
        self._started = False
        self.auth_failed = 0  # handshakes refused by the ZAP handler: an unknown key
        self.handshake_failed = 0  # plain clients, wrong server key, protocol errors
        self._monitor: zmq.asyncio.Socket | None = None
        self._watch: asyncio.Task[None] | None = None

    @classmethod
    def for_camp(cls, config: CampConfig, context: zmq.asyncio.Context) -> CurveServer | None:
        """The camp's CURVE server, or None when `[zmq] curve_secret_key` is not set."""
        if config.zmq.curve_secret_key is None:
            return None
        keys = {s.curve_public_key: s.id for s in config.sensors if s.curve_public_key}
        subscribers = config.zmq.track_subscriber_keys
        server = cls(context, config.zmq.curve_secret_key, keys, subscribers)
        if not subscribers:
            log.warning(
                "the track stream %s admits no subscriber: list their CURVE keys in "
                "[zmq] track_subscriber_keys",
                config.zmq.tracks,
            )
        announced = config.zmq.curve_server_key
        if announced is not None and announced.encode() != server.public_key:
            raise ConfigError(
                config.zmq.curve_secret_key,
                "zmq.curve_server_key",
                "is not the public half of zmq.curve_secret_key: sensors could not connect",
            )
        return server

    @property
    def subscribers_refused(self) -> int:
        """Track-stream subscriptions refused: a key not in `track_subscriber_keys`."""
        return self._authenticator.subscribers_refused

    def _serve(self, socket: zmq.asyncio.Socket, domain: str) -> None:
        """Make `socket` (not yet bound) a CURVE server of `domain`, the ZAP handler first."""
        if not self._started:
            self._authenticator.start()
            for name in (INGEST_DOMAIN, TRACKS_DOMAIN):
                self._authenticator.configure_curve_callback(
                    domain=name, credentials_provider=self._authenticator
                )
            self._started = True
        socket.setsockopt(zmq.ZAP_ENFORCE_DOMAIN, 1)
        socket.zap_domain = domain.encode()
        socket.curve_secretkey = self._secret_key
        socket.curve_publickey = self.public_key
        socket.curve_server = True

    def secure_publisher(self, socket: zmq.asyncio.Socket) -> None:
        """Make the track stream's PUB (not yet bound) a CURVE server for its subscribers."""
        self._serve(socket, TRACKS_DOMAIN)

    def secure(self, socket: zmq.asyncio.Socket) -> None:
        """Make the ingest socket (not yet bound) a CURVE server, and count its refusals."""
        self._serve(socket, INGEST_DOMAIN)
        self._monitor = socket.get_monitor_socket(_FAILED)
        self._watch = asyncio.create_task(self._count_failures(), name="curve-monitor")

    async def _count_failures(self) -> None:
        assert self._monitor is not None
        while True:
            event = parse_monitor_message(await self._monitor.recv_multipart())
            if event["event"] == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.auth_failed += 1
            else:
                self.handshake_failed += 1
                self.refused.add(
                    f"a peer of {event['endpoint'].decode(errors='replace')}",
                    "handshake_failed",
                    "a client without CURVE, or with the wrong server key",
                )

    def close(self, socket: zmq.asyncio.Socket | None = None) -> None:
        """Stop counting (on the ingest `socket`) and authenticating, before the sockets close
        and the context ends."""
        if self._watch is not None:
            self._watch.cancel()
        if socket is not None:
            with contextlib.suppress(zmq.ZMQError):
                socket.disable_monitor()
        if self._monitor is not None:
            self._monitor.close(linger=0)
        if self._started:
            self._authenticator.stop()
            self._started = False
