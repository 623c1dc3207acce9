"""A mission file: the camps one operations centre watches together (`cuas console --mission`).

A mission runs one core per camp, each with its own broker; the mission sees every camp's
topics, unchanged, on its own broker through MQTT bridging (DESIGN.md, "Many camps"). The
mission file names each camp's file (for its id, topic prefix, zones and sensors) and where
the mission sees it:

    mission_id = "north"
    [mqtt]                        # the mission's broker: where every camp is seen by default
    host = "127.0.0.1"
    port = 1883
    [[camps]]
    config = "alpha.toml"         # relative to this file
    [[camps]]
    config = "bravo.toml"
    port = 1884                   # this camp is seen on another broker (host, port)
    [console]                     # as in a camp file: listen, tiles
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from cuas.config import CampConfig, ConsoleConfig, MqttConfig, load_config
from cuas.errors import ConfigError
from cuas.tomlfile import convert, read_toml

Name = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class MissionCamp(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    config: str  # the camp's file
    host: str | None = None  # where the mission sees this camp (default: [mqtt] host)
    port: Annotated[int, Meta(ge=1, le=65535)] | None = None


class MissionFile(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    mission_id: Name
    mqtt: MqttConfig = MqttConfig()
    camps: Annotated[list[MissionCamp], Meta(min_length=1, max_length=64)]
    console: ConsoleConfig = ConsoleConfig()


@dataclass(frozen=True)
class Mission:
    """A loaded mission: each camp's configuration and the broker where it is seen."""

    mission_id: str
    camps: list[tuple[CampConfig, MqttConfig]]
    console: ConsoleConfig


_FILES = ("password_file", "tls_ca", "tls_cert", "tls_key")


def load_mission(path: str | Path) -> Mission:
    """Load a mission file and every camp file it names, or raise `ConfigError`."""
    file = str(path)
    spec = convert(read_toml(path, ConfigError), MissionFile, file, ConfigError)
    folder = Path(path).resolve().parent
    mqtt = msgspec.structs.replace(
        spec.mqtt,
        **{
            k: str(folder / v)
            for k in _FILES
            if (v := getattr(spec.mqtt, k)) is not None and not Path(v).is_absolute()
        },
    )
    camps: list[tuple[CampConfig, MqttConfig]] = []
    seen: set[str] = set()
    for i, entry in enumerate(spec.camps):
        camp_file = folder / entry.config
        if not camp_file.is_file():
            raise ConfigError(file, f"camps[{i}].config", f"no such file: {camp_file}")
        config = load_config(camp_file)
        if config.camp_id in seen:
            raise ConfigError(file, f"camps[{i}].config", f"camp {config.camp_id!r} twice")
        seen.add(config.camp_id)
        where = msgspec.structs.replace(
            mqtt, host=entry.host or mqtt.host, port=entry.port or mqtt.port
        )
        camps.append((config, where))
    console = spec.console
    if console.tiles is not None and not Path(console.tiles).is_absolute():
        console = msgspec.structs.replace(console, tiles=str(folder / console.tiles))
    return Mission(spec.mission_id, camps, console)
