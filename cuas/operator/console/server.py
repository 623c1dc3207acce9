"""The console's web side (aiohttp): the page, its static files, offline tiles, the WebSocket.

One page (`/`), its scripts and the vendored Leaflet and milsymbol (`/static/...`, from the
installed package: nothing comes from the internet), tiles where the camp has them
(`/tiles/{z}/{x}/{y}`), and `/ws`: the picture pushed to the browser, the operator's acks
(and, in review mode, the player's controls) back. aiohttp runs inside the caller's event
loop, beside the MQTT bridge; on shutdown it closes open WebSockets so it stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from cuas.operator.console.picture import Picture
from cuas.operator.console.tiles import TileSource

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
MAX_INPUT = 4096  # bytes of one message from a page

AckHandler = Callable[[object, object, object], None]  # (camp, alert_id, by); ValueError: no
ReviewHandler = Callable[[dict[str, Any]], None]


@dataclass
class ConsoleHandlers:
    """What the page may ask of the console: acks in live mode, controls in review mode; and
    the requests refused, by reason."""

    ack: AckHandler | None = None
    review: ReviewHandler | None = None
    refused: Counter[str] = field(default_factory=Counter)


def make_app(
    picture: Picture, handlers: ConsoleHandlers, tiles: TileSource | None = None
) -> web.Application:
    app = web.Application()
    sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def tile(request: web.Request) -> web.Response:
        if tiles is None:
            raise web.HTTPNotFound()
        try:
            z, x, y = (int(request.match_info[k]) for k in ("z", "x", "y"))
        except ValueError:
            raise web.HTTPBadRequest(text="tile coordinates are integers") from None
        found = await asyncio.to_thread(tiles.tile, z, x, y)
        if found is None:
            raise web.HTTPNotFound()
        body, content_type = found
        return web.Response(body=body, content_type=content_type)

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=MAX_INPUT)
        await ws.prepare(request)
        sockets.add(ws)
        feed = picture.attach()

        async def pump() -> None:
            while (text := await feed.next()) is not None:
                await ws.send_str(text)
            picture.dropped_browsers += 1
            log.warning("console: a browser fell too far behind; disconnected (it reconnects)")
            await ws.close(code=1013, message=b"too far behind")

        sender = asyncio.create_task(pump())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await _from_page(ws, msg.data, handlers)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sender
            picture.detach(feed)
        return ws

    async def on_shutdown(app: web.Application) -> None:
        for ws in list(sockets):
            await ws.close(code=1001, message=b"console shutting down")

    app.router.add_get("/", index)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/tiles/{z}/{x}/{y}", tile)
    app.router.add_static("/static", STATIC)
    app.on_shutdown.append(on_shutdown)
    return app


async def _from_page(ws: web.WebSocketResponse, data: str, handlers: ConsoleHandlers) -> None:
    """One request from a page; a bad one is answered with an error message, never fatal."""
    try:
        request = json.loads(data)
        if not isinstance(request, dict):
            raise ValueError("a request is a JSON object")
        kind = request.get("kind")
        if kind == "ack" and handlers.ack is not None:
            handlers.ack(request.get("camp"), request.get("alert_id"), request.get("by"))
        elif kind == "review" and handlers.review is not None:
            handlers.review(request)
        else:
            raise ValueError(f"not a request this console takes: {kind!r}")
    except ValueError as exc:  # json.JSONDecodeError and AckRefusedError are ValueErrors
        reason = getattr(exc, "reason", type(exc).__name__)
        handlers.refused[reason] += 1
        log.warning("console: request refused (%s): %s", reason, exc)
        await ws.send_json({"kind": "error", "error": str(exc)})


@dataclass
class RunningServer:
    runner: web.AppRunner
    host: str
    port: int
    handlers: ConsoleHandlers

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_server(
    picture: Picture,
    handlers: ConsoleHandlers,
    host: str = "127.0.0.1",
    port: int = 8080,
    tiles: TileSource | None = None,
) -> RunningServer:
    """Serve the console on host:port (0: any free port) in the running loop."""
    runner = web.AppRunner(
        make_app(picture, handlers, tiles), access_log=None, shutdown_timeout=2.0
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    real_port = int(runner.addresses[0][1])
    return RunningServer(runner, host, real_port, handlers)
