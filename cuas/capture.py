"""`cuas record`: capture live sensor traffic from the ingest endpoint into a recording."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import zmq.asyncio

from cuas.ingest_socket import IngestSocket
from cuas.recording import RecordingWriter


async def capture_async(
    endpoint: str,
    out: str | Path,
    stop: asyncio.Event,
    duration_s: float | None = None,
    max_messages: int | None = None,
) -> int:
    """Write `[t_received, topic, payload]` for every message until stopped; returns the count.

    Payloads are written exactly as received (a malformed one included), so that a replay
    sees what the core would have seen.
    """
    context = zmq.asyncio.Context()
    ingest = IngestSocket(endpoint, context)
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
) -> int:
    """Blocking form for the command line; Ctrl-C or SIGTERM ends the capture cleanly."""

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await capture_async(endpoint, out, stop, duration_s, max_messages)

    return asyncio.run(main())
