"""`cuas console`: the operations centre's page, live from the camp's broker or from a recording.

    cuas console --config CAMP.toml [--listen 127.0.0.1:8080]
    cuas console --config CAMP.toml --recording OUT.msgpack     # review mode

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cuas.config import CampConfig, load_config
from cuas.errors import ConfigError
from cuas.operator.console.bridge import MqttBridge
from cuas.operator.console.camp_view import camp_view
from cuas.operator.console.picture import Picture
from cuas.operator.console.review import ReviewPlayer, load_outputs
from cuas.operator.console.tiles import TileSource
from cuas.topics import Topics

if TYPE_CHECKING:
    from cuas.operator.console.server import RunningServer

log = logging.getLogger(__name__)


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT -> (host, port); `ConfigError` for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(text, "console.listen", "expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


@dataclass
class Console:
    """A running console: its picture, its server and (live) its bridge or (review) player."""

    picture: Picture
    server: RunningServer
    bridge: MqttBridge | None = None
    player: ReviewPlayer | None = None


@contextlib.asynccontextmanager
async def console_running(
    config: CampConfig, listen: str | None = None, recording: str | Path | None = None
) -> AsyncIterator[Console]:
    """The console serving in the running loop for the block (`listen` "HOST:0" for any port)."""
    # aiohttp is imported here, not at the top: every `cuas` command imports this module.
    from cuas.operator.console.server import ConsoleHandlers, start_server

    host, port = parse_listen(listen or config.console.listen)
    tiles = TileSource(config.console.tiles) if config.console.tiles else None
    hello: dict[str, Any] = {"camp": camp_view(config, tiles=tiles is not None), "mode": "live"}
    player: ReviewPlayer | None = None
    bridge: MqttBridge | None = None
    if recording is not None:
        entries, skipped = load_outputs(recording)
        if skipped:
            log.warning("console: %s: records skipped: %s", recording, dict(skipped))
        hello["mode"] = "review"
        hello["recording"] = Path(recording).name
        picture = Picture(hello)
        player = ReviewPlayer(entries, picture)
        picture.set_hello({**hello, "review": player.info()})
        handlers = ConsoleHandlers(review=player.control)
        task = asyncio.create_task(player.run())
    else:
        picture = Picture(hello)
        bridge = MqttBridge(config.mqtt, Topics(config.mqtt_prefix), picture)
        handlers = ConsoleHandlers(ack=bridge.acknowledge)
        task = asyncio.create_task(bridge.run())
    try:
        server = await start_server(picture, handlers, host, port, tiles)
        try:
            yield Console(picture, server, bridge, player)
        finally:
            await server.stop()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if tiles is not None:
            tiles.close()


async def _signalled() -> None:
    """Return on SIGINT or SIGTERM. (cuas.service.lifetime does this for the services; the
    operator tools sit beside the services in the layers, so the console has its own.)"""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve(config: CampConfig, listen: str | None, recording: str | None) -> None:
    async with console_running(config, listen, recording) as console:
        mode = f"review of {recording}" if recording else f"camp {config.camp_id}"
        print(f"cuas console: {console.server.url}  ({mode})", flush=True)
        await _signalled()


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas console` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "console",
        help="the operations centre's web page: live map, alerts and acknowledgement",
        description="Serve the operations console: a map of the camp's tracks, zones and "
        "sensors, the active alerts (acknowledge them from the page) and sensor health, from "
        "the camp's MQTT broker; or, with --recording, a replay or drill output to review "
        "with a time slider. Works offline: nothing is fetched from the internet.",
    )
    p.add_argument("--config", required=True, help="camp configuration (TOML)")
    p.add_argument("--listen", help="HOST:PORT of the page (default: [console] listen)")
    p.add_argument(
        "--recording", help="review mode: play this output of `cuas replay --out` or a drill"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.recording is not None and not Path(args.recording).is_file():
        raise ConfigError(args.recording, "--recording", "no such file")
    try:
        asyncio.run(serve(config, args.listen, args.recording))
    except OSError as exc:
        print(f"cuas console: cannot listen: {exc}", file=sys.stderr)
        return 1
    return 0
