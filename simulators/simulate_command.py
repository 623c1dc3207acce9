"""`cuas simulate` (and `python -m simulators.simulate_command`): fly a scenario.

A library scenario (or a drill: a library drill or a scenario file) is flown live through
ZeroMQ in real time (`simulators.flight.realtime`), or as fast as possible into a recording
with its truth sidecar (`simulators.flight.recording`).

    cuas simulate --list
    cuas simulate attack --config config/camp.example.toml --realtime --speed 2
    cuas simulate mixed --config config/camp.example.toml --record out/mixed.msgpack --seed 3
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from cuas.config import CampConfig, ConfigError, load_config
from cuas.errors import ScenarioError
from cuas.service.lifetime import stop_on_signals
from simulators.benchmark_scenarios import T0
from simulators.flight.realtime import run_realtime
from simulators.flight.recording import record, truth_path
from simulators.flight.stats import RunStats
from simulators.scenario_library import (
    DEFAULT_SCENARIO,
    SCENARIOS,
    Scenario,
    build_scenario,
    describe_library,
)

log = logging.getLogger("simulators.simulate_command")

COMMAND = "simulate"

__all__ = ["COMMAND", "add_arguments", "add_command", "main", "run_command"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `cuas simulate`."""
    parser.add_argument(
        "scenario",
        nargs="?",
        help=f"scenario name (see --list; the demo's is {DEFAULT_SCENARIO}), or a drill: a "
        "library drill or a scenario file (at its own camp unless --config)",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--config", help="camp configuration (TOML)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--realtime", action="store_true", help="publish live to the core's ingest endpoint"
    )
    mode.add_argument("--record", metavar="FILE", help="write a recording (+ FILE's .truth)")
    parser.add_argument(
        "--all-sensors",
        action="store_true",
        help="fly every sensor of the camp, not only the radar (multi-sensor scenarios do)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="real time only: scenario seconds per second"
    )
    parser.add_argument("--ingest", help="real time only: endpoint instead of zmq.ingest")
    parser.add_argument(
        "--curve-keys", metavar="DIR", help="secured camp: the sensors' key files (keys/sensors)"
    )
    parser.add_argument("--seed", type=int, help="random seed (default 0; a drill's: the file's)")
    parser.add_argument("--duration", type=float, help="seconds of scenario to run")
    parser.add_argument(
        "--t0", type=float, default=T0, help=f"record only: first scan time (default {T0:.0f})"
    )


def run_command(args: argparse.Namespace) -> int:
    """Carry out `cuas simulate` from parsed arguments."""
    from simulators.scenario_builder import library, load_scenario, resolve

    if args.list:
        print(describe_library())
        print("drills (cuas drill --list): " + ", ".join(library()))
        return 0
    prog = f"cuas {COMMAND}"
    drill = args.scenario is not None and args.scenario not in SCENARIOS
    if args.scenario is None or (args.config is None and not drill):
        print(f"{prog}: a SCENARIO and --config are required (or --list)", file=sys.stderr)
        return 2
    if not (args.realtime or args.record):
        print(f"{prog}: choose --realtime or --record FILE", file=sys.stderr)
        return 2
    if not args.speed > 0.0:
        print(f"{prog}: --speed must be positive", file=sys.stderr)
        return 2
    try:
        if drill:  # a drill file or library drill: at its own camp unless --config says
            camp = load_config(args.config) if args.config else None
            loaded = load_scenario(resolve(args.scenario), camp=camp, seed=args.seed)
            config, scenario = loaded.camp, loaded.scenario
            if args.duration is not None:
                scenario = replace(scenario, duration_s=args.duration)
        else:
            config = load_config(args.config)
            scenario = build_scenario(
                args.scenario,
                config,
                seed=0 if args.seed is None else args.seed,
                duration_s=args.duration,
                all_sensors=True if args.all_sensors else None,
            )
    except ScenarioError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    seed = scenario.seed if drill or args.seed is None else args.seed
    if args.record:
        stats = record(scenario, config, args.record, seed=seed, t0=args.t0)
        print(f"{stats.render()}\nwrote {args.record} and {truth_path(args.record)}")
        return 0
    stats = asyncio.run(
        _realtime_until_signal(scenario, config, args.speed, seed, args.ingest, args.curve_keys)
    )
    print(stats.render())
    return 0


async def _realtime_until_signal(
    scenario: Scenario,
    config: CampConfig,
    speed: float,
    seed: int,
    endpoint: str | None,
    curve_keys: str | None = None,
) -> RunStats:
    stop = stop_on_signals()
    log.info(
        "scenario %s (%.0f s at %gx) on %s: %s",
        scenario.name,
        scenario.duration_s,
        speed,
        endpoint or config.zmq.ingest,
        scenario.description,
    )
    return await run_realtime(
        scenario, config, stop, speed=speed, seed=seed, endpoint=endpoint, curve_keys=curve_keys
    )


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas simulate` on the `cuas` command line's subparsers."""
    parser = subparsers.add_parser(
        COMMAND,
        help="fly a drill scenario: live to the core, or into a recording",
        description="Fly a named scenario against the camp's radar (and, for multi-sensor "
        "scenarios or with --all-sensors, every other sensor of the camp): in real time through "
        "ZeroMQ to the core (--realtime, optionally sped up), or as fast as possible into a "
        "recording with a truth sidecar (--record). --list shows the scenarios.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m simulators.simulate_command ...`: the same as `cuas simulate ...`."""
    parser = argparse.ArgumentParser(
        prog="python -m simulators.simulate_command", description=__doc__
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return run_command(args)
    except ConfigError as exc:
        print(f"{parser.prog}: bad configuration: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
