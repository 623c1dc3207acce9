"""A long-running command's lifetime: run until SIGINT or SIGTERM, then stop cleanly.

Every command that runs until it is told to stop (`cuas run`, `cuas record`, the demo, the
simulators, the sensor adapters) shares this, so Ctrl-C and a service manager's SIGTERM
end them all the same way: the `stop` event is set and the command winds down itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_on_signals(stop: asyncio.Event | None = None) -> asyncio.Event:
    """`stop` (or a new event) set by SIGINT or SIGTERM; call inside the running loop.

    Where the loop cannot take signal handlers (not the main thread, not a Unix loop) the
    event is returned without them: the caller's own stop still works.
    """
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def run_until_signal(main: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Run `main(stop)` in a new event loop; SIGINT or SIGTERM sets `stop`. Returns its result."""

    async def runner() -> T:
        return await main(stop_on_signals())

    return asyncio.run(runner())


def release_signals() -> None:
    """Give SIGINT and SIGTERM back to their defaults (after `stop_on_signals` in a loop that
    outlives the command, such as a test's)."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(sig)
