"""`cuas record`: capture live sensor traffic from the ingest endpoint into a recording."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import zmq.asyncio

from cuas.config import CampConfig, load_config
from cuas.io.curve_auth import CurveServer
from cuas.io.ingest_socket import IngestSocket
from cuas.io.recording import RecordingWriter
from cuas.service.lifetime import run_until_signal


async def capture_async(
    endpoint: str,
    out: str | Path,
    stop: asyncio.Event,
    duration_s: float | None = None,
    max_messages: int | None = None,
    config: CampConfig | None = None,
) -> int:
    """Write `[t_received, topic, payload]` for every message until stopped; returns the count.

    Payloads are written exactly as received (a malformed one included), so that a replay
    sees what the core would have seen. On a secured camp (`config` with `[zmq]
    curve_secret_key`) the socket is the core's CURVE server, and refused messages are not
    recorded.
    """
    context = zmq.asyncio.Context()
    curve = None if config is None else CurveServer.for_camp(config, context)
    ingest = IngestSocket(endpoint, context, curve=curve)
    deadline = None if duration_s is None else time.monotonic() + duration_s
    count = 0
    try:
        with RecordingWriter(out) as writer:
            while not stop.is_set() and (max_messages is None or count < max_messages):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                waiter = asyncio.ensure_future(ingest.batch())
                stopper = asyncio.ensure_future(stop.wait())
                done, pending = await asyncio.wait(
                    {waiter, stopper}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                for task in pending:
                    task.cancel()
                if waiter not in done:
                    continue
                now = time.time()
                for topic, payload in waiter.result():
                    writer.write(now, topic or "?", payload)
                    count += 1
                writer.flush()
    finally:
        ingest.close()
        context.term()
    return count


def capture(
    endpoint: str,
    out: str | Path,
    duration_s: float | None = None,
    max_messages: int | None = None,
    config: CampConfig | None = None,
) -> int:
    """Blocking form for the command line; Ctrl-C or SIGTERM ends the capture cleanly."""

    return run_until_signal(
        lambda stop: capture_async(endpoint, out, stop, duration_s, max_messages, config)
    )


def _command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    count = capture(
        config.zmq.ingest if args.ingest is None else args.ingest,
        args.out,
        duration_s=args.duration,
        max_messages=args.count,
        config=config,
    )
    print(f"recorded {count} messages to {args.out}")
    return 0


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas record` on the `cuas` command line's subparsers."""
    p = subparsers.add_parser(
        "record",
        help="capture live sensor traffic into a recording",
        description="Bind the camp's ingest endpoint (the core must not be running on it; "
        "use `cuas run --record` to record alongside the core) and write every message to "
        "OUT in the recording format that `cuas replay` reads.",
    )
    p.add_argument("--config", required=True, help="camp configuration (TOML)")
    p.add_argument("--out", required=True, help="recording file to write")
    p.add_argument("--ingest", help="endpoint to bind instead of the config's zmq.ingest")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--count", type=int, help="stop after this many messages")
    p.set_defaults(func=_command)
    return p
