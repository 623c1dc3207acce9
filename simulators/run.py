"""Run a library scenario: live through ZeroMQ in real time, or as fast as possible to a file.

Real time (`run_realtime`): the camp's radar scans every `update_period_s / speed` seconds of
wall time, each scan stamped with `time.time()` when it is taken and sent through a
`SensorPublisher` (which also sends the heartbeats). Nothing is sent until the core is
connected and subscribed. `speed > 1` compresses scenario time for demos: targets are where
they would be at `speed` times the elapsed wall time, while measurement times stay wall-clock,
so the core sees a world `speed` times faster. Velocities (hence the radar's range-rate) are
scaled by `speed` to match, or the tracker would see range-rates contradicting the motion and
break its tracks. Accelerations grow with `speed` squared: drones keep one track each at 2x,
erratic birds fragment; keep `speed` at 1 for anything scored.

Recording (`record`): the same radar at scan times `t0 + k * update_period_s`, written as the
live core would have captured it (reports received 50 ms after measurement, a heartbeat every
second) plus a truth sidecar `<out>.truth.msgpack` (`truth` records with each target's class).
No wall clock is read: one scenario, camp, seed and t0 give byte-identical files.

    cuas simulate --list
    cuas simulate attack --config config/camp.example.toml --realtime --speed 2
    cuas simulate attack --config config/camp.example.toml --record out/attack.msgpack --seed 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cuas.config import CampConfig, ConfigError, load_config
from cuas.recording import RecordingWriter
from cuas.scoring import TRUTH_TOPIC
from cuas.wire import VERSION, Status
from sensors.publisher import SensorPublisher
from simulators.radar import RadarScan
from simulators.scenario_library import (
    DEFAULT_SCENARIO,
    LIBRARY,
    Scenario,
    build_scenario,
    describe_library,
)
from simulators.scenarios import HEARTBEAT_PERIOD_S, RECEIVE_DELAY_S, T0
from simulators.targets import TargetStates

log = logging.getLogger("simulators.run")

COMMAND = "simulate"
RADAR_STREAM = 1  # random stream of a seed used for the radar (targets use another)
CONNECT_LOG_PERIOD_S = 10.0

__all__ = [
    "RunStats",
    "ScanEvent",
    "add_command",
    "record",
    "run_realtime",
    "truth_path",
]


@dataclass
class RunStats:
    """What a run did."""

    scenario: str
    scans: int = 0
    reports_sent: int = 0
    detections: int = 0
    target_detections: int = 0  # detections of true targets (the rest is clutter)
    dropped: int = 0
    scenario_s: float = 0.0  # scenario time covered
    wall_s: float = 0.0
    completed: bool = False  # ran to the scenario's end (not stopped early)

    def render(self) -> str:
        end = "completed" if self.completed else "stopped"
        return (
            f"{self.scenario}: {end} after {self.scenario_s:.1f} s of scenario time "
            f"({self.wall_s:.1f} s wall): {self.scans} scans, {self.reports_sent} reports sent, "
            f"{self.dropped} dropped, {self.detections} detections "
            f"({self.target_detections} of targets)"
        )


@dataclass(frozen=True)
class ScanEvent:
    """One real-time scan, handed to `on_scan`.

    `truth` is as the core should see it: stamped with the measurement time `t`, velocities
    in metres per wall-clock second (scaled by the run's speed).
    """

    scenario_t: float
    t: float
    truth: TargetStates
    scan: RadarScan
    sent: bool


def truth_path(out: str | Path) -> Path:
    """The truth sidecar of a recording: `x.msgpack` -> `x.truth.msgpack`."""
    out = Path(out)
    if out.suffix == ".msgpack":
        return out.with_suffix(".truth.msgpack")
    return out.with_name(out.name + ".truth.msgpack")


def _resolve(
    scenario: Scenario | str, config: CampConfig, seed: int, duration_s: float | None
) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    return build_scenario(scenario, config, seed=seed, duration_s=duration_s)


def _radar_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([RADAR_STREAM, seed])


def record(
    scenario: Scenario | str,
    config: CampConfig,
    out: str | Path,
    seed: int = 0,
    t0: float = T0,
    duration_s: float | None = None,
) -> RunStats:
    """Write the scenario's radar recording to `out` and its truth to `truth_path(out)`.

    As fast as possible and without any wall clock: identical arguments, identical bytes.
    `duration_s` applies when `scenario` is a name (a built `Scenario` has its own).
    """
    sc = _resolve(scenario, config, seed, duration_s)
    radar = sc.make_radar(config, _radar_rng(seed))
    period = sc.radar.update_period_s
    times = np.arange(math.floor(sc.duration_s / period + 1e-9) + 1) * period
    enu, vel, active = sc.targets.sample(times)
    topic, status_topic = f"report.{sc.radar.id}", f"status.{sc.radar.id}"
    n_beats = math.ceil((times[-1] + period) / HEARTBEAT_PERIOD_S)
    beats = [t0 + k * HEARTBEAT_PERIOD_S for k in range(n_beats)]
    next_beat = 0
    stats = RunStats(sc.name)
    started = time.perf_counter()

    def beat(writer: RecordingWriter, tb: float) -> None:
        writer.write(tb, status_topic, Status(v=VERSION, sensor_id=sc.radar.id, t=tb, state="ok"))

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with RecordingWriter(out) as writer, RecordingWriter(truth_path(out)) as truth_writer:
        for k, tau in enumerate(times.tolist()):
            t = t0 + tau
            while next_beat < n_beats and beats[next_beat] <= t + RECEIVE_DELAY_S:
                beat(writer, beats[next_beat])
                next_beat += 1
            truth = sc.targets.select(t, enu[k], vel[k], active[k])
            scan = radar.measure(t, truth.enu, truth.vel, truth.rcs_dbsm)
            writer.write(t + RECEIVE_DELAY_S, topic, radar.report(scan))
            truth_writer.write(t, TRUTH_TOPIC, truth.truth_frame())
            stats.scans += 1
            stats.reports_sent += 1
            stats.detections += len(scan)
            stats.target_detections += int(np.count_nonzero(scan.truth_index >= 0))
        for tb in beats[next_beat:]:
            beat(writer, tb)
    stats.scenario_s = float(times[-1])
    stats.wall_s = time.perf_counter() - started
    stats.completed = True
    return stats


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    if seconds > 0.0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def _connect(pub: SensorPublisher, stop: asyncio.Event, timeout: float | None) -> bool:
    """Wait for the core (or `stop`); raises TimeoutError after `timeout` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last_log = -math.inf
    while not stop.is_set():
        if await pub.wait_connected(0.2):
            return True
        now = time.monotonic()
        if deadline is not None and now > deadline:
            raise TimeoutError(f"no core subscribed at {pub.endpoint} within {timeout} s")
        if now - last_log >= CONNECT_LOG_PERIOD_S:
            log.info("%s: waiting for the core at %s", pub.sensor_id, pub.endpoint)
            last_log = now
    return False


async def run_realtime(
    scenario: Scenario | str,
    config: CampConfig,
    stop: asyncio.Event,
    speed: float = 1.0,
    seed: int = 0,
    on_scan: Callable[[ScanEvent], None] | None = None,
    *,
    endpoint: str | None = None,
    duration_s: float | None = None,
    connect_timeout_s: float | None = None,
    publisher: SensorPublisher | None = None,
) -> RunStats:
    """Fly the scenario live: scan in real time and publish to the core until it ends or `stop`.

    Scans start once the core is connected and subscribed (`wait_connected`); the scenario
    clock starts then. `endpoint` defaults to the camp's `zmq.ingest`; pass `publisher` to use
    one the caller owns (its sensor id must be the scenario radar's). `on_scan` is called
    after each scan, synchronously, with the truth and the detections.
    """
    if not speed > 0.0:
        raise ValueError("speed must be positive")
    sc = _resolve(scenario, config, seed, duration_s)
    radar = sc.make_radar(config, _radar_rng(seed))
    stats = RunStats(sc.name)
    own = publisher is None
    pub = publisher or SensorPublisher(sc.radar.id, "radar", endpoint or config.zmq.ingest)
    if own:
        await pub.start()
    try:
        if not await _connect(pub, stop, connect_timeout_s):
            return stats
        wall_period = sc.radar.update_period_s / speed
        dropped_before = pub.dropped
        start = time.time()
        k = 0
        while not stop.is_set():
            t = time.time()
            tau = (t - start) * speed
            if tau > sc.duration_s:
                stats.completed = True
                break
            truth = sc.targets.at(tau).in_wall_time(t, speed)
            scan = radar.measure(t, truth.enu, truth.vel, truth.rcs_dbsm)
            sent = await pub.send_report(t, radar.detections(scan))
            stats.scans += 1
            stats.reports_sent += sent
            stats.detections += len(scan)
            stats.target_detections += int(np.count_nonzero(scan.truth_index >= 0))
            stats.scenario_s = tau
            if on_scan is not None:
                on_scan(ScanEvent(tau, t, truth, scan, sent))
            # The next scan on the grid start + k * period; after a stall, skip missed slots.
            k = max(k + 1, math.floor((time.time() - start) / wall_period) + 1)
            await _wait(stop, start + k * wall_period - time.time())
        stats.dropped = pub.dropped - dropped_before
        stats.wall_s = time.time() - start
    finally:
        if own:
            await pub.close()
    return stats


# --- command line -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `cuas simulate`."""
    parser.add_argument(
        "scenario", nargs="?", help=f"scenario name (see --list; the demo's is {DEFAULT_SCENARIO})"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--config", help="camp configuration (TOML)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--realtime", action="store_true", help="publish live to the core's ingest endpoint"
    )
    mode.add_argument("--record", metavar="FILE", help="write a recording (+ FILE's .truth)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="real time only: scenario seconds per second"
    )
    parser.add_argument("--ingest", help="real time only: endpoint instead of zmq.ingest")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--duration", type=float, help="seconds of scenario to run")
    parser.add_argument(
        "--t0", type=float, default=T0, help=f"record only: first scan time (default {T0:.0f})"
    )


def run_command(args: argparse.Namespace) -> int:
    """Carry out `cuas simulate` from parsed arguments."""
    if args.list:
        print(describe_library())
        return 0
    prog = f"cuas {COMMAND}"
    if args.scenario is None or args.config is None:
        print(f"{prog}: a SCENARIO and --config are required (or --list)", file=sys.stderr)
        return 2
    if args.scenario not in LIBRARY:
        print(f"{prog}: unknown scenario {args.scenario!r}; try --list", file=sys.stderr)
        return 2
    if not (args.realtime or args.record):
        print(f"{prog}: choose --realtime or --record FILE", file=sys.stderr)
        return 2
    if not args.speed > 0.0:
        print(f"{prog}: --speed must be positive", file=sys.stderr)
        return 2
    config = load_config(args.config)
    try:
        scenario = build_scenario(args.scenario, config, seed=args.seed, duration_s=args.duration)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.record:
        stats = record(scenario, config, args.record, seed=args.seed, t0=args.t0)
        print(f"{stats.render()}\nwrote {args.record} and {truth_path(args.record)}")
        return 0
    stats = asyncio.run(
        _realtime_until_signal(scenario, config, args.speed, args.seed, args.ingest)
    )
    print(stats.render())
    return 0


async def _realtime_until_signal(
    scenario: Scenario, config: CampConfig, speed: float, seed: int, endpoint: str | None
) -> RunStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    log.info(
        "scenario %s (%.0f s at %gx) on %s: %s",
        scenario.name,
        scenario.duration_s,
        speed,
        endpoint or config.zmq.ingest,
        scenario.description,
    )
    return await run_realtime(scenario, config, stop, speed=speed, seed=seed, endpoint=endpoint)


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas simulate` on the `cuas` command line's subparsers."""
    parser = subparsers.add_parser(
        COMMAND,
        help="fly a drill scenario: live to the core, or into a recording",
        description="Fly a named scenario against the camp's radar: in real time through "
        "ZeroMQ to the core (--realtime, optionally sped up), or as fast as possible into a "
        "recording with a truth sidecar (--record). --list shows the scenarios.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m simulators.run ...`: the same as `cuas simulate ...`."""
    parser = argparse.ArgumentParser(prog="python -m simulators.run", description=__doc__)
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
