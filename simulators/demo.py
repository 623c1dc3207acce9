"""`cuas demo`: a simulated camp under attack, end to end, in one command.

It runs, in one process, the three parts a real camp runs separately:
- an MQTT broker: the configured one if it answers, otherwise an embedded broker bound to
  127.0.0.1 only (so the demo works on a fresh machine with nothing else installed);
- the fusion service (`cuas run`), with its real ZeroMQ ingest and MQTT publisher;
- the camp's simulated sensors (radar, RF, cameras, Remote ID: every kind the camp has)
  flying a scenario of the library in real time over ZeroMQ;
- with `--console HOST:PORT`, the operations console's web page (its URL is printed first);
and shows what an operations centre receives, by following the camp's MQTT topics exactly
as `cuas tail` does. It ends after the scenario, on Ctrl-C, or after `--duration`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO

from cuas.config import CampConfig, load_config
from cuas.io.embedded_broker import ensure_broker
from cuas.operator.tail import TailSettings, TailStats, tail
from cuas.service.lifetime import run_until_signal
from cuas.service.run import FusionService

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "camp.example.toml"
DEFAULT_SCENARIO = "attack"
GRACE_S = 3.0  # after the scenario, so the last cycles and clearances are seen


async def demo(
    config: CampConfig,
    scenario_name: str = DEFAULT_SCENARIO,
    speed: float = 1.0,
    duration_s: float | None = None,
    out: TextIO = sys.stdout,
    stop: asyncio.Event | None = None,
    seed: int = 0,
    console_listen: str | None = None,
) -> TailStats:
    """Run the demo; returns what the operator's view received."""
    from simulators.flight.realtime import run_realtime
    from simulators.scenario_library import build_scenario

    # Every sensor of the camp flies, so none of them shows in fault for "nothing received".
    scenario = build_scenario(scenario_name, config, seed=seed, all_sensors=True)
    stop = stop or asyncio.Event()
    mqtt = config.mqtt
    async with contextlib.AsyncExitStack() as stack:
        if await ensure_broker(stack, mqtt.host, mqtt.port):
            print(
                f"MQTT broker: none answered at {mqtt.host}:{mqtt.port}; started an "
                "embedded one on 127.0.0.1",
                file=out,
            )
        else:
            print(f"MQTT broker: using the one at {mqtt.host}:{mqtt.port}", file=out)
        if console_listen is not None:
            from cuas.operator.console.command import console_running

            console = await stack.enter_async_context(console_running(config, console_listen))
            print(f"operations console: {console.server.url}", file=out)
        print(
            f"scenario {scenario.name!r}: {scenario.description} "
            f"({scenario.duration_s:.0f} s at {speed:g}x)",
            file=out,
        )
        print(
            f"camp {config.camp_id}: alerts and tracks as the operations centre sees them "
            f"on MQTT {config.mqtt_prefix}/#; integrators: ZeroMQ {config.zmq.tracks}\n",
            file=out,
        )
        out.flush()

        core_stop = asyncio.Event()
        # A demo's alerts are not an operator's record: journal them in a scratch file, so
        # one demo run never restores another's alerts.
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="cuas-demo-"))
        service = FusionService(config, journal=Path(scratch) / "journal.sqlite")
        core = asyncio.create_task(service.run(core_stop), name="core")
        await asyncio.wait_for(service.ready.wait(), 10)
        stats = TailStats()
        viewer_ready = asyncio.Event()
        viewer = asyncio.create_task(
            tail(
                TailSettings(
                    prefix=config.mqtt_prefix,
                    host=mqtt.host,
                    port=mqtt.port,
                    username=mqtt.username,
                    password=mqtt.password,
                ),
                out,
                stats=stats,
                ready=viewer_ready,
            ),
            name="viewer",
        )
        await asyncio.wait_for(viewer_ready.wait(), 10)
        flight = asyncio.create_task(
            run_realtime(scenario, config, stop, speed=speed, seed=seed), name="simulator"
        )
        deadline = None if duration_s is None else time.monotonic() + duration_s
        try:
            waiters = [flight, asyncio.create_task(stop.wait())]
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if flight.done() and not stop.is_set():
                await asyncio.sleep(GRACE_S)
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(flight, 10)
            viewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await viewer
            core_stop.set()
            await core
        p = service.pipeline
        print(
            f"\ndemo over: {p.tracker.stats.confirmed} tracks confirmed, "
            f"{p.alert_transitions} alert transitions, "
            f"{sum(s.detections for s in p.ingest.sensors.values())} detections fused, "
            f"{stats.messages} MQTT messages received by the operator view",
            file=out,
        )
        return stats


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    # The display is the operator's view; the core's routine INFO lines and the embedded
    # broker's state-machine chatter would drown it. Warnings and errors still show.
    if not args.verbose:
        for name in ("cuas", "amqtt", "transitions", "sensors", "simulators"):
            logging.getLogger(name).setLevel(logging.WARNING)

    run_until_signal(
        lambda stop: demo(
            config,
            args.scenario,
            args.speed,
            args.duration,
            stop=stop,
            seed=args.seed,
            console_listen=args.console,
        )
    )
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="a simulated camp under attack, end to end",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="camp configuration (TOML)")
    p.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        help="scenario of the library (`cuas simulate --list`)",
    )
    p.add_argument("--speed", type=float, default=1.0, help="scenario time speed-up")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--seed", type=int, default=0, help="simulation seed")
    p.add_argument(
        "--console", metavar="HOST:PORT", help="also serve the operations console's page there"
    )
    p.set_defaults(func=_run)
    return p
