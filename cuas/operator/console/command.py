"""`cuas console`: the operations centre's page, live from a camp's broker, for a mission's camps,
or from a recording.

    cuas console --config CAMP.toml [--listen 127.0.0.1:8080]
    cuas console --config CAMP.toml --recording OUT.msgpack     # review mode
    cuas console --mission MISSION.toml                          # several camps on one map

It runs until Ctrl-C or SIGTERM; the URL is printed first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuas.config import CampConfig, ConsoleConfig, MqttConfig, load_config
from cuas.errors import ConfigError
from cuas.operator.console.bridge import MqttBridge
from cuas.operator.console.camp_view import camp_view
from cuas.operator.console.mission import Mission, load_mission
from cuas.operator.console.picture import Picture
from cuas.operator.console.review import ReviewPlayer, load_outputs
from cuas.operator.console.tiles import TileSource
from cuas.topics import Topics

if TYPE_CHECKING:
    from cuas.operator.console.server import RunningServer

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 8.0  # for the MQTT clients to disconnect when the console stops


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT -> (host, port); `ConfigError` for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(text, "console.listen", "expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


@dataclass
class Console:
    """A running console: its picture, its server and its bridges (live) or player (review)."""

    picture: Picture
    server: RunningServer
    bridges: dict[str, MqttBridge] = field(default_factory=dict)
    player: ReviewPlayer | None = None

    @property
    def bridge(self) -> MqttBridge | None:
        """The bridge of a single camp's console."""
        return next(iter(self.bridges.values()), None) if len(self.bridges) == 1 else None


def _hello(mode: str, configs: list[CampConfig], tiles: bool, **extra: Any) -> dict[str, Any]:
    frame = configs[0].local_frame()  # the map's frame: the first camp's
    camps = [camp_view(c, frame) for c in configs]
    return {"mode": mode, "camps": camps, "tiles": tiles, **extra}


@contextlib.asynccontextmanager
async def _serving(
    picture: Picture,
    ack: Any,
    review: Any,
    console: ConsoleConfig,
    listen: str | None,
    tiles: TileSource | None,
) -> AsyncIterator[RunningServer]:
    # aiohttp is imported here, not at the top: every `cuas` command imports this module.
    from cuas.operator.console.server import ConsoleHandlers, start_server

    host, port = parse_listen(listen or console.listen)
    server = await start_server(picture, ConsoleHandlers(ack, review), host, port, tiles)
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def _tasks(*coroutines: Any) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        _, stuck = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
        for task in stuck:
            log.warning("console: %s did not stop within %.0f s", task.get_name(), STOP_TIMEOUT_S)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("console: %s failed: %s", task.get_name(), task.exception())


def _tiles(console: ConsoleConfig) -> TileSource | None:
    return TileSource(console.tiles) if console.tiles else None


@contextlib.asynccontextmanager
async def _live(
    camps: list[tuple[CampConfig, MqttConfig]],
    console: ConsoleConfig,
    listen: str | None,
    hello_extra: dict[str, Any],
) -> AsyncIterator[Console]:
    configs = [c for c, _ in camps]
    tiles = _tiles(console)
    mode = "mission" if "mission" in hello_extra else "live"
    picture = Picture(
        _hello(mode, configs, tiles is not None, **hello_extra), [c.camp_id for c in configs]
    )
    bridges = {
        c.camp_id: MqttBridge(mqtt, Topics(c.mqtt_prefix), picture, c.camp_id) for c, mqtt in camps
    }

    def ack(camp: object, alert_id: object, by: object) -> None:
        if camp is None and len(bridges) == 1:
            camp = next(iter(bridges))
        bridge = bridges.get(camp) if isinstance(camp, str) else None
        if bridge is None:
            raise ValueError(f"no camp {camp!r} on this console")
        bridge.acknowledge(alert_id, by)

    try:
        async with (
            _tasks(*(b.run() for b in bridges.values())),
            _serving(picture, ack, None, console, listen, tiles) as server,
        ):
            yield Console(picture, server, bridges)
    finally:
        if tiles is not None:
            tiles.close()


@contextlib.asynccontextmanager
async def console_running(
    config: CampConfig, listen: str | None = None, recording: str | Path | None = None
) -> AsyncIterator[Console]:
    """A camp's console serving in the running loop for the block ("HOST:0": any free port);
    with `recording`, its review of that output instead of the live broker."""
    if recording is None:
        async with _live([(config, config.mqtt)], config.console, listen, {}) as console:
            yield console
        return
    entries, skipped = load_outputs(recording)
    if skipped:
        log.warning("console: %s: records skipped: %s", recording, dict(skipped))
    tiles = _tiles(config.console)
    picture = Picture({}, [config.camp_id])
    player = ReviewPlayer(entries, picture, config.camp_id)
    picture.set_hello(
        _hello(
            "review",
            [config],
            tiles is not None,
            recording=Path(recording).name,
            review=player.info(),
        )
    )
    try:
        async with (
            _tasks(player.run()),
            _serving(picture, None, player.control, config.console, listen, tiles) as server,
        ):
            yield Console(picture, server, player=player)
    finally:
        if tiles is not None:
            tiles.close()


@contextlib.asynccontextmanager
async def mission_console_running(
    mission: Mission, listen: str | None = None
) -> AsyncIterator[Console]:
    """A mission's console: every camp of `mission` on one page, each from where it is seen."""
    extra = {"mission": {"mission_id": mission.mission_id}}
    async with _live(mission.camps, mission.console, listen, extra) as console:
        yield console


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM. (cuas.service.lifetime does this for the services;
    the operator tools sit beside the services in the layers, so the console has its own.)"""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(args: argparse.Namespace) -> None:
    stop = _stop_on_signals()  # before the URL is printed: a SIGTERM after it stops cleanly
    if args.mission:
        mission = load_mission(args.mission)
        running = mission_console_running(mission, args.listen)
        what = f"mission {mission.mission_id}: " + ", ".join(c.camp_id for c, _ in mission.camps)
    else:
        config = load_config(args.config)
        running = console_running(config, args.listen, args.recording)
        what = f"review of {args.recording}" if args.recording else f"camp {config.camp_id}"
    async with running as console:
        print(f"cuas console: {console.server.url}  ({what})", flush=True)
        await stop.wait()


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas console` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "console",
        help="the operations centre's web page: live map, alerts and acknowledgement",
        description="Serve the operations console: a map of the camp's tracks, zones and "
        "sensors, the active alerts (acknowledge them from the page) and sensor health, from "
        "the camp's MQTT broker; with --recording, a replay or drill output to review with a "
        "time slider; with --mission, every camp of a mission on one map. Works offline: "
        "nothing is fetched from the internet.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="camp configuration (TOML)")
    source.add_argument("--mission", help="mission file (TOML): several camps on one page")
    p.add_argument("--listen", help="HOST:PORT of the page (default: [console] listen)")
    p.add_argument(
        "--recording", help="review mode: play this output of `cuas replay --out` or a drill"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    if args.recording is not None:
        if args.mission:
            raise ConfigError(args.recording, "--recording", "reviews one camp: give --config")
        if not Path(args.recording).is_file():
            raise ConfigError(args.recording, "--recording", "no such file")
    try:
        asyncio.run(serve(args))
    except OSError as exc:
        print(f"cuas console: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0
