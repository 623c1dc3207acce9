"""MQTT clients for the camp's broker, as `[mqtt]` describes it: one factory for every client.

The core's publisher, `cuas tail`, the console, the drills and the gateways all connect
through `mqtt_client`, so credentials (`username`, `password` or `password_file`) and TLS
(`tls_ca`, `tls_cert`, `tls_key`) work the same everywhere. aiomqtt has no reconnect of its
own: each caller keeps its own retry loop around `async with mqtt_client(...)`.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import aiomqtt

from cuas.config import MqttConfig
from cuas.errors import ConfigError


def read_password(mqtt: MqttConfig) -> str | None:
    """The password: `password`, or the first line of `password_file`."""
    if mqtt.password_file is None:
        return mqtt.password
    try:
        lines = Path(mqtt.password_file).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(
            mqtt.password_file, "mqtt.password_file", f"cannot read: {exc.strerror or exc}"
        ) from None
    return lines[0] if lines else ""


def tls_parameters(mqtt: MqttConfig) -> aiomqtt.TLSParameters | None:
    """TLS settings when a CA is configured (the broker is verified against it), else None."""
    if mqtt.tls_ca is None:
        return None
    for key in ("tls_ca", "tls_cert", "tls_key"):
        path = getattr(mqtt, key)
        if path is not None and not Path(path).is_file():
            raise ConfigError(path, f"mqtt.{key}", "no such file")
    return aiomqtt.TLSParameters(ca_certs=mqtt.tls_ca, certfile=mqtt.tls_cert, keyfile=mqtt.tls_key)


def client_options(mqtt: MqttConfig) -> dict[str, Any]:
    """Keyword arguments of `aiomqtt.Client` for the camp's broker (host and port excluded)."""
    return {
        "username": mqtt.username,
        "password": read_password(mqtt),
        "tls_params": tls_parameters(mqtt),
        "keepalive": mqtt.keepalive_s,
        # Without it, Nagle's algorithm holds the tail of a large message (a track cycle or
        # update is tens of KB of JSON) until the broker acknowledges the rest: up to the
        # 40 ms of a delayed ACK, on every message that follows another.
        "socket_options": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    }


def mqtt_client(mqtt: MqttConfig, **overrides: Any) -> aiomqtt.Client:
    """An `aiomqtt.Client` for the camp's broker; `overrides` (identifier, will, timeout,
    clean_session, ...) are passed on, and win over the configuration."""
    return aiomqtt.Client(mqtt.host, mqtt.port, **{**client_options(mqtt), **overrides})
