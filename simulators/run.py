"""Run a library scenario: live through ZeroMQ in real time, or as fast as possible to a file.

A scenario flies its radar and, for multi-sensor scenarios (or `all_sensors`), every other
sensor of the camp (`simulators.passive`: RF direction finders, cameras, Remote ID; further
radars), each at its own `update_period_s` (the scenario radar on `k * period`, the others
with a fixed phase derived from their id) and with its own random stream derived from the
seed (`simulators.passive.sensor_rng`; the scenario radar keeps its stream of old, so radar
drills are unchanged).

Real time (`run_realtime`): each sensor scans every `update_period_s / speed` seconds of wall
time, each scan stamped with `time.time()` when it is taken, and publishes through its own
`SensorPublisher` (which also sends its heartbeats). The radar sends at once; the other
sensors send at `arrival_time(t)` = t + their latency (measurement time stays `t`), so the core
sees the same out-of-order arrival across sensors as in the field. Nothing is sent until the
core is connected and subscribed. `speed > 1` compresses scenario time for demos: targets are
where they would be at `speed` times the elapsed wall time, while measurement times stay
wall-clock, so the core sees a world `speed` times faster. Velocities (hence the radar's
range-rate and Remote ID's speed) are scaled by `speed` to match, or the tracker would see
range-rates contradicting the motion and break its tracks. Accelerations grow with `speed`
squared: drones keep one track each at 2x, erratic birds fragment; keep `speed` at 1 for
anything scored.

Recording (`record`): the same sensors at scan times `t0 + phase + k * update_period_s`,
written as the live core would have captured them: each report received at t + its sensor's
latency (radar 50 ms), a heartbeat per sensor every second, all records in `t_received` order;
plus a truth sidecar `<out>.truth.msgpack` (`truth` records with each target's class, at the
radar's scan times). No wall clock is read: one scenario, camp, seed and t0 give
byte-identical files.

    cuas simulate --list
    cuas simulate attack --config config/camp.example.toml --realtime --speed 2
    cuas simulate mixed --config config/camp.example.toml --record out/mixed.msgpack --seed 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import msgspec
import numpy as np

from cuas.config import CampConfig, ConfigError, SensorConfig, load_config
from cuas.io.recording import RecordingWriter
from cuas.service.lifetime import stop_on_signals
from cuas.topics import report_topic, status_topic
from cuas.wire import VERSION, Detection, Report, Status
from sensors.publisher import SensorPublisher, curve_options_in
from simulators.benchmark_scenarios import HEARTBEAT_PERIOD_S, RECEIVE_DELAY_S, T0
from simulators.events import EventPlan
from simulators.passive import PassiveScan, passive_sensor, sensor_rng
from simulators.radar import RadarEquationPd, RadarScan, SimulatedRadar
from simulators.scenario_library import (
    DEFAULT_SCENARIO,
    SCENARIOS,
    Scenario,
    build_scenario,
    describe_library,
)
from simulators.scoring import TRUTH_TOPIC, TruthFrame
from simulators.sensor_model import SensorModel
from simulators.targets import TargetStates

log = logging.getLogger("simulators.run")

COMMAND = "simulate"
RADAR_STREAM = 1  # random stream of a seed used for the radar (targets use another)
CONNECT_LOG_PERIOD_S = 10.0

Scan = RadarScan | PassiveScan

__all__ = [
    "RunStats",
    "ScanEvent",
    "SimSensor",
    "Simulation",
    "add_command",
    "make_sensors",
    "record",
    "run_realtime",
    "simulate",
    "truth_path",
]


@dataclass
class RunStats:
    """What a run did; `scans`, `reports_sent` and `detections` add up all sensors."""

    scenario: str
    scans: int = 0
    reports_sent: int = 0
    detections: int = 0
    target_detections: int = 0  # detections of true targets (the rest is clutter)
    dropped: int = 0
    scenario_s: float = 0.0  # scenario time covered
    wall_s: float = 0.0
    completed: bool = False  # ran to the scenario's end (not stopped early)
    by_sensor: Counter[str] = field(default_factory=Counter)  # reports sent per sensor

    def count(self, sensor_id: str, scan: Scan, sent: bool = True) -> None:
        """Account for one scan of a sensor (and its report, if it was sent)."""
        self.scans += 1
        self.reports_sent += sent
        self.by_sensor[sensor_id] += sent
        self.detections += len(scan)
        self.target_detections += int(np.count_nonzero(scan.truth_index >= 0))

    def render(self) -> str:
        end = "completed" if self.completed else "stopped"
        text = (
            f"{self.scenario}: {end} after {self.scenario_s:.1f} s of scenario time "
            f"({self.wall_s:.1f} s wall): {self.scans} scans, {self.reports_sent} reports sent, "
            f"{self.dropped} dropped, {self.detections} detections "
            f"({self.target_detections} of targets)"
        )
        if len(self.by_sensor) > 1:
            text += "\n  reports: " + ", ".join(f"{k} {v}" for k, v in self.by_sensor.items())
        return text


@dataclass(frozen=True)
class ScanEvent:
    """One real-time scan of one sensor, handed to `on_scan` once its report was sent.

    `truth` is as the core should see it: stamped with the measurement time `t`, velocities
    in metres per wall-clock second (scaled by the run's speed).
    """

    scenario_t: float
    t: float
    truth: TargetStates
    scan: Scan
    sent: bool
    sensor_id: str = ""
    extra: tuple[Detection, ...] = ()  # false detections of a clutter burst (drill events)


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


# --- the sensors of a run -----------------------------------------------------------------


class SimSensor(Protocol):
    """What a run needs of a simulated sensor of any kind (`simulators.passive` sensors have
    exactly this face; radars get it from `RadarSensor`)."""

    sensor: SensorConfig

    def observe(self, t: float, states: TargetStates) -> Any: ...

    def report(self, scan: Any) -> Report: ...

    def arrival_time(self, t: float) -> float: ...


class RadarSensor:
    """A `SimulatedRadar` with the face of a `SimSensor`: reports arrive `delay_s` late."""

    def __init__(self, radar: SimulatedRadar, delay_s: float = RECEIVE_DELAY_S) -> None:
        self.radar = radar
        self.sensor = radar.sensor
        self.delay_s = delay_s

    def observe(self, t: float, states: TargetStates) -> RadarScan:
        return self.radar.measure(t, states.enu, states.vel, states.rcs_dbsm)

    def report(self, scan: RadarScan) -> Report:
        return self.radar.report(scan)

    def arrival_time(self, t: float) -> float:
        return t + self.delay_s


def _radar_delay(scenario: Scenario, sensor_id: str) -> float:
    model = scenario.models.get(sensor_id)
    return RECEIVE_DELAY_S if model is None or model.latency is None else model.latency.base_s


def make_sensors(scenario: Scenario, config: CampConfig, seed: int) -> list[SimSensor]:
    """The simulated sensors of a scenario run: its radar first, then `scenario.sensors`,
    each with its own random stream and latencies within what the camp declares, and with
    the options of `scenario.models` (a radar's latency is its model's `base_s`, no jitter)."""
    frame = config.local_frame()
    primary = scenario.make_radar(config, _radar_rng(seed))
    flown: list[SimSensor] = [RadarSensor(primary, _radar_delay(scenario, primary.sensor.id))]
    for s in scenario.sensors:
        rng = sensor_rng(seed, s.id)
        model = scenario.models.get(s.id, SensorModel())
        if s.kind == "radar":
            pd = model.pd if model.pd is not None else RadarEquationPd.for_sensor(s)
            clutter = model.clutter_per_scan
            radar = SimulatedRadar.from_camp(
                s,
                frame,
                rng,
                pd,  # type: ignore[arg-type]
                scenario.clutter_per_scan if clutter is None else clutter,
            )
            flown.append(RadarSensor(radar, _radar_delay(scenario, s.id)))
        else:
            # The camp's declared bound (the core's reorder window when none is declared).
            bound = _declared_latency(config, s.id)
            options = model.passive_options(s.kind)
            flown.append(passive_sensor(s, frame, rng, latency_bound_s=bound, **options))
    return flown


def _declared_latency(config: CampConfig, sensor_id: str) -> float:
    """The worst latency the camp declares for a sensor: its `latency_s`, else the window."""
    camp_sensor = config.sensor(sensor_id)
    if camp_sensor is not None and camp_sensor.latency_s is not None:
        return camp_sensor.latency_s
    return config.tracker.reorder_window_s


def _phase(sensor: SimSensor, index: int) -> float:
    """When in its period a sensor scans: the scenario radar at 0, the others at a fixed
    fraction derived from their id (real sensors' clocks are not in step)."""
    if index == 0:
        return 0.0
    fraction = (zlib.crc32(sensor.sensor.id.encode()) % 1000) / 1000.0
    return fraction * sensor.sensor.update_period_s


def _scan_times(duration_s: float, period_s: float, phase_s: float) -> np.ndarray:
    """Scenario times `phase + k * period` within `0..duration` (the radar's of old at 0)."""
    n = math.floor((duration_s - phase_s) / period_s + 1e-9) + 1
    return phase_s + np.arange(max(n, 0)) * period_s


def _detections(scan: Scan) -> list[Detection]:
    if isinstance(scan, PassiveScan):
        return list(scan.detections)
    return list(SimulatedRadar.detections(scan))


# --- recordings ---------------------------------------------------------------------------


@dataclass
class Simulation:
    """A scenario flown as fast as possible, in memory: what a recording would hold.

    `records` are `(t_received, topic, payload)` in arrival order (reports and heartbeats of
    every sensor), `truth` the `truth` frames at the scenario radar's scan times, and
    `first_seen` the scenario time of each target's first delivered detection (any sensor).
    """

    scenario: Scenario
    t0: float
    records: list[tuple[float, str, Any]]
    truth: list[TruthFrame]
    stats: RunStats
    first_seen: dict[str, float] = field(default_factory=dict)

    def write(self, out: str | Path) -> Path:
        """Write the recording to `out` and its truth to `truth_path(out)`; returns the latter."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with RecordingWriter(out) as writer, RecordingWriter(truth_path(out)) as truth_writer:
            for t_received, topic, payload in self.records:
                writer.write(t_received, topic, payload)
            for frame in self.truth:
                truth_writer.write(frame.t, TRUTH_TOPIC, frame)
        return truth_path(out)


def simulate(
    scenario: Scenario | str,
    config: CampConfig,
    seed: int = 0,
    t0: float = T0,
    duration_s: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Fly the scenario as fast as possible, without any wall clock, into memory.

    Every sensor scans at `t0 + phase + k * update_period_s` and heartbeats every second;
    the scenario's events (`simulators.events`) silence sensors, skew their clocks and add
    clutter bursts. Records are in `t_received` order; ties go to heartbeats first, then to
    sensors in the run's order. `progress(done, total)` is called after each sensor.
    """
    sc = _resolve(scenario, config, seed, duration_s)
    sensors = make_sensors(sc, config, seed)
    plan = EventPlan(sc.events, seed)
    period = sc.radar.update_period_s
    times = _scan_times(sc.duration_s, period, 0.0)
    n_beats = math.ceil((times[-1] + period) / HEARTBEAT_PERIOD_S)
    beats = [t0 + k * HEARTBEAT_PERIOD_S for k in range(n_beats)]
    stats = RunStats(sc.name)
    first_seen: dict[str, float] = {}
    started = time.perf_counter()
    # (t_received, sensor order, heartbeat 0 / report 1, seq) -> topic, payload
    records: list[tuple[tuple[float, int, int, int], str, Any]] = []
    for order, sim in enumerate(sensors):
        sid = sim.sensor.id
        records += [
            (
                (tb, order, 0, k),
                status_topic(sid),
                Status(v=VERSION, sensor_id=sid, t=tb + plan.skew(sid, tb - t0), state="ok"),
            )
            for k, tb in enumerate(beats)
            if not plan.silent(sid, tb - t0)
        ]
        taus = _scan_times(sc.duration_s, sim.sensor.update_period_s, _phase(sim, order))
        enu, vel, active = sc.targets.sample(taus)
        for k, tau in enumerate(taus.tolist()):
            t = t0 + tau
            states = sc.targets.select(t, enu[k], vel[k], active[k])
            scan = sim.observe(t, states)  # drawn even when silent: the rest stays the same
            if plan and plan.silent(sid, tau):
                continue
            report = sim.report(scan)
            if plan:
                report, extra = _with_events(report, plan, sim.sensor, tau)
                stats.detections += extra
            records.append(((sim.arrival_time(t), order, 1, k), report_topic(sid), report))
            stats.count(sid, scan)
            for i in scan.truth_index[scan.truth_index >= 0].tolist():
                target = states.ids[i]
                first_seen[target] = min(first_seen.get(target, math.inf), tau)
        if progress is not None:
            progress(order + 1, len(sensors))
    records.sort(key=lambda r: r[0])
    enu, vel, active = sc.targets.sample(times)
    truth = [
        sc.targets.select(t0 + tau, enu[k], vel[k], active[k]).truth_frame()
        for k, tau in enumerate(times.tolist())
    ]
    stats.scenario_s = float(times[-1])
    stats.wall_s = time.perf_counter() - started
    stats.completed = True
    return Simulation(
        sc,
        t0,
        [(key[0], topic, payload) for key, topic, payload in records],
        truth,
        stats,
        first_seen,
    )


def _with_events(
    report: Report, plan: EventPlan, sensor: SensorConfig, tau: float
) -> tuple[Report, int]:
    """A report as the events make it: clock skew and clutter bursts; and the extra count."""
    extra = plan.clutter(sensor, tau)
    skew = plan.skew(sensor.id, tau)
    if not extra and not skew:
        return report, 0
    detections = [*report.detections, *extra]
    return msgspec.structs.replace(report, t=report.t + skew, detections=detections), len(extra)


def record(
    scenario: Scenario | str,
    config: CampConfig,
    out: str | Path,
    seed: int = 0,
    t0: float = T0,
    duration_s: float | None = None,
) -> RunStats:
    """Write the scenario's recording to `out` and its truth to `truth_path(out)`.

    As fast as possible and without any wall clock: identical arguments, identical bytes
    (see `simulate`). `duration_s` applies when `scenario` is a name (a built `Scenario` has
    its own).
    """
    run = simulate(scenario, config, seed, t0, duration_s)
    run.write(out)
    return run.stats


# --- real time ----------------------------------------------------------------------------


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    if seconds > 0.0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


async def _connect(pub: SensorPublisher, stop: asyncio.Event, deadline: float | None) -> bool:
    """Wait for the core (or `stop`); raises TimeoutError after the monotonic `deadline`."""
    last_log = -math.inf
    while not stop.is_set():
        if await pub.wait_connected(0.2):
            return True
        now = time.monotonic()
        if deadline is not None and now > deadline:
            raise TimeoutError(f"no core subscribed at {pub.endpoint} in time")
        if now - last_log >= CONNECT_LOG_PERIOD_S:
            log.info("%s: waiting for the core at %s", pub.sensor_id, pub.endpoint)
            last_log = now
    return False


@dataclass
class _Flight:
    """One sensor flown in real time: its simulator, its publisher, when in its period it
    scans, and whether its reports wait for their arrival time (the radar's go at once)."""

    sim: SimSensor
    pub: SensorPublisher
    delayed: bool  # send at arrival_time(t) rather than at once
    phase_s: float


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
    curve_keys: str | Path | None = None,
) -> RunStats:
    """Fly the scenario live: scan in real time and publish to the core until it ends or `stop`.

    Scans start once the core is connected and subscribed to every sensor (`wait_connected`);
    the scenario clock starts then. `endpoint` defaults to the camp's `zmq.ingest`; pass
    `publisher` to use one the caller owns for the radar (its sensor id must be the scenario
    radar's; the other sensors always get their own). `on_scan` is called synchronously
    after each scan's report was sent (or dropped), with the truth and the detections.
    """
    if not speed > 0.0:
        raise ValueError("speed must be positive")
    sc = _resolve(scenario, config, seed, duration_s)
    sims = make_sensors(sc, config, seed)
    stats = RunStats(sc.name)
    address = endpoint or config.zmq.ingest
    owned: list[SensorPublisher] = []
    flights: list[_Flight] = []
    for order, sim in enumerate(sims):
        pub = publisher if order == 0 and publisher is not None else None
        if pub is None:
            curve = curve_options_in(config, curve_keys, sim.sensor.id)  # secured camp
            pub = SensorPublisher(sim.sensor.id, sim.sensor.kind, address, **curve)
            owned.append(pub)
        flights.append(_Flight(sim, pub, delayed=order > 0, phase_s=_phase(sim, order)))
    try:
        for pub in owned:
            await pub.start()
        deadline = None if connect_timeout_s is None else time.monotonic() + connect_timeout_s
        for flight in flights:
            if not await _connect(flight.pub, stop, deadline):
                return stats
        dropped_before = sum(f.pub.dropped for f in flights)
        start = time.time()
        done = await asyncio.gather(
            *(_fly(f, sc, stop, speed, start, stats, on_scan, seed) for f in flights)
        )
        stats.completed = all(done)
        stats.dropped = sum(f.pub.dropped for f in flights) - dropped_before
        stats.wall_s = time.time() - start
    finally:
        for pub in owned:
            await pub.close()
    return stats


async def _fly(
    flight: _Flight,
    sc: Scenario,
    stop: asyncio.Event,
    speed: float,
    start: float,
    stats: RunStats,
    on_scan: Callable[[ScanEvent], None] | None,
    seed: int = 0,
) -> bool:
    """Scan one sensor on its grid until the scenario ends (True) or `stop` (False)."""
    sim, pub = flight.sim, flight.pub
    plan = EventPlan(sc.events, seed)
    wall_period = sim.sensor.update_period_s / speed
    queue: asyncio.Queue[tuple[float, ScanEvent] | None] = asyncio.Queue()
    sender = asyncio.create_task(_send_in_order(queue, pub, stop, stats, on_scan))
    completed = False
    try:
        await _wait(stop, start + flight.phase_s / speed - time.time())
        k = 0
        while not stop.is_set():
            t = time.time()
            tau = (t - start) * speed
            if tau > sc.duration_s:
                completed = True
                break
            truth = sc.targets.at(tau).in_wall_time(t, speed)
            scan = sim.observe(t, truth)
            stats.scenario_s = max(stats.scenario_s, tau)
            pub.muted = plan.silent(sim.sensor.id, tau)
            pub.clock_offset_s = plan.skew(sim.sensor.id, tau)
            if not pub.muted:
                arrival = sim.arrival_time(t) if flight.delayed else t
                extra = tuple(plan.clutter(sim.sensor, tau))
                event = ScanEvent(tau, t, truth, scan, False, sim.sensor.id, extra)
                await queue.put((arrival, event))
            await asyncio.sleep(0)  # let an undelayed report go out now
            # The next scan on the grid start + phase + k * period; after a stall, skip slots.
            since = time.time() - start - flight.phase_s / speed
            k = max(k + 1, math.floor(since / wall_period) + 1)
            await _wait(stop, start + flight.phase_s / speed + k * wall_period - time.time())
    finally:
        await queue.put(None)
        if completed:
            await sender  # deliver what is still in flight
        else:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    return completed


async def _send_in_order(
    queue: asyncio.Queue[tuple[float, ScanEvent] | None],
    pub: SensorPublisher,
    stop: asyncio.Event,
    stats: RunStats,
    on_scan: Callable[[ScanEvent], None] | None,
) -> None:
    """Publish one sensor's scans in order, each at its arrival time (wall clock)."""
    while (item := await queue.get()) is not None:
        arrival, event = item
        await _wait(stop, arrival - time.time())
        if stop.is_set():
            return
        skew = pub.clock_offset_s
        sent = await pub.send_report(event.t + skew, [*_detections(event.scan), *event.extra])
        stats.count(event.sensor_id, event.scan, sent)
        if on_scan is not None:
            on_scan(replace(event, sent=sent))


# --- command line -------------------------------------------------------------------------


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
    from simulators.scenario_file import ScenarioError, library, load_scenario, resolve

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
