"""A scenario flown live: every sensor scans on the wall clock and publishes to the core.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from cuas.config import CampConfig
from cuas.wire import Detection
from sensors.publisher import SensorPublisher, curve_options_in
from simulators.events import EventPlan
from simulators.flight.sensors import Scan, SimSensor, make_sensors, scan_phase
from simulators.flight.stats import RunStats
from simulators.passive import PassiveScan
from simulators.radar import SimulatedRadar
from simulators.scenario_library import Scenario, resolve_scenario
from simulators.targets.target_set import TargetStates

log = logging.getLogger("simulators.flight.realtime")

CONNECT_LOG_PERIOD_S = 10.0

__all__ = ["ScanEvent", "run_realtime"]


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


def _detections(scan: Scan) -> list[Detection]:
    if isinstance(scan, PassiveScan):
        return list(scan.detections)
    return list(SimulatedRadar.detections(scan))


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
    sc = resolve_scenario(scenario, config, seed, duration_s)
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
        flights.append(_Flight(sim, pub, delayed=order > 0, phase_s=scan_phase(sim, order)))
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
