"""Live benchmark: sustained intake, loss and latency of `cuas run` against a real Mosquitto.

For each offered load (default 1,000, 10,000 and 50,000 detections/s) it starts a Mosquitto
on a free loopback port and `cuas run` as its own process, then a load generator process
publishes radar reports over ZeroMQ from four simulated radars watching 200 drones (the scan
rate of each radar is what gives the offered load), while this process listens to the
camp's MQTT `tracks` and `tracks/updates` topics and to the ZeroMQ track stream.

Reported per load:
- intake: detections the core accepted per second, loss (sent but never received: the core
  is stopped once a ZeroMQ cycle covers the last report sent, or after CATCH_UP_S, so a core
  that fell behind is not charged what it had yet to read), how long it took to catch up, and
  the reports fused late by retrodiction;
- end-to-end latency, from a report's publication to the arrival at the MQTT subscriber of
  the first message that contains it: `first` is whichever comes first of a track update
  (`tracks/updates`, published as soon as a scan is fused: the first update whose time, the
  tracker's, is at or after the report's measurement time) and a track cycle (`tracks`, cycle
  time >= measurement time); `cycle` counts cycles only, as before the updates existed. Both
  include the reorder window's wait for the other radars; `cycle` also the wait for the next
  cycle boundary (cycles every 0.1 s here);
- cycle delivery delay: arrival of a cycle minus its cycle time, i.e. what the core adds
  after the last report a cycle may contain was measured (over MQTT and over ZeroMQ);
- alert latency: arrival at an MQTT subscriber of each `raised` or `escalated` alert (the
  drones fly about the benchmark camp's zones, so many become threats) minus the alert's
  time, which is the measurement time of the report whose scan completed the debounce (the
  report that made the track alertable; here measurement time = publication time). With
  the cycle-driven alerts of before, an alert's time was its cycle's, up to one cycle after
  that report, so their figure understates their latency by up to a cycle (0.1 s here);
- the core's CPU use, and the number of update messages over MQTT;
- the load generator's own CPU use and how far behind its schedule it sent (p99 and max), so a
  starved generator (it shares the machine's cores with the core, the broker and this
  process) shows as such: a report's time is taken before the generator simulates and
  encodes it, so its own delay counts against the core, never for it.

A report fused late, by retrodiction (`retro`), is counted as contained in the first message
whose time is at or after its own, which may have left before the report was even fused: its
latency is understated. The figures hold when `retro` is nil; the script says so when not.

`--no-updates` runs the core with track updates off (MQTT and ZeroMQ), to price them. The
script runs against an older core too (it imports nothing newer than the core it measures),
for side-by-side figures: `PYTHONPATH=OLD_TREE python benchmarks/live.py` (run from OLD_TREE).

    bash scripts/setup.sh dev
    .venv/bin/python -m benchmarks.live                # ~1.5 min
    .venv/bin/python -m benchmarks.live --rates 10000 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import msgspec
import numpy as np
import zmq

from cuas import wire
from cuas.config import SensorConfig, TrackerConfig, dump_config, load_config
from cuas.topics import TRACK_STREAM, Topics, report_topic
from simulators.benchmark_scenarios import benchmark_camp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.broker import MosquittoBroker, free_port  # the tests' broker harness

TARGETS = 200
RADARS = 4
CYCLE_S = 0.1
WARMUP_S = 3.0
CATCH_UP_S = 30.0  # how long a core that fell behind may take to catch up before it is stopped


UPDATES_MQTT = "cuas/bench/tracks/updates"
UPDATES_ZMQ = "track_updates"


class Stamp(msgspec.Struct):
    """A track cycle or update read for its time only (the subscriber must keep up)."""

    t: float


def write_camp(directory: Path, mqtt_port: int, rate: float, updates: bool = True) -> Path:
    """The benchmark camp with four co-located radars and 10 Hz cycles on free ports; each
    radar is declared to scan as fast as the generator makes it for `rate` det/s, so that
    the core's per-sensor flood limit (a multiple of the declared rate) admits the load."""
    camp = benchmark_camp(0.9)
    radar = camp.sensors[0]
    radars = [
        # Loopback delivers in well under a millisecond (FIELD-NOTES: p99 0.27 ms at 10k/s),
        # so each radar's latency bound is 20 ms.
        msgspec.structs.replace(
            radar,
            id=f"radar-{i + 1}",
            lat=radar.lat + i * 1e-4,
            latency_s=0.02,
            update_period_s=min(radar.update_period_s, TARGETS * RADARS / rate),
        )
        for i in range(RADARS)
    ]
    camp = msgspec.structs.replace(
        camp,
        sensors=radars,
        mqtt=msgspec.structs.replace(camp.mqtt, port=mqtt_port, tracks_period_s=CYCLE_S),
        zmq=msgspec.structs.replace(
            camp.zmq,
            ingest=f"tcp://127.0.0.1:{free_port()}",
            tracks=f"tcp://127.0.0.1:{free_port()}",
        ),
        tracker=TrackerConfig(cycle_period_s=CYCLE_S, reorder_window_s=0.5),
        alerts=msgspec.structs.replace(camp.alerts, journal=str(directory / "journal.sqlite")),
    )
    if not updates:  # (the keys exist only in cores that publish updates)
        camp = msgspec.structs.replace(
            camp,
            mqtt=msgspec.structs.replace(camp.mqtt, track_updates=False),
            zmq=msgspec.structs.replace(camp.zmq, track_updates=False),
        )
    path = directory / "camp.toml"
    path.write_text(dump_config(camp))
    return path


def generate(config_path: str, rate: float, duration_s: float, result: mp.Queue) -> None:
    """Load generator (own process): RADARS radars scanning TARGETS drones at `rate` det/s."""
    from simulators.radar import SimulatedRadar
    from simulators.targets.benchmark import NcvSwarm

    config = load_config(config_path)
    frame = config.local_frame()
    rng = np.random.default_rng(1)
    sensors: list[SensorConfig] = list(config.sensors)
    radars = [
        SimulatedRadar.from_camp(s, frame, rng, p_detection=0.9, clutter_per_scan=2.0)
        for s in sensors
    ]
    swarm = NcvSwarm(TARGETS, rng, center=radars[0].frame.position)
    context = zmq.Context()
    sock = context.socket(zmq.PUB)
    sock.setsockopt(zmq.SNDHWM, 100_000)
    sock.connect(config.zmq.ingest)
    time.sleep(1.0)  # let the connection and subscription settle before the clock starts
    period = TARGETS * RADARS / rate  # each radar scans every `period` seconds, staggered
    sent: list[tuple[float, int]] = []
    behind: list[float] = []  # how long after its due time each report was sent
    start = time.time()
    cpu0 = time.process_time()
    last_step = start
    k = 0
    while True:
        due = start + k * period / RADARS
        if due - start > duration_s:
            break
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        t = time.time()
        swarm.step(t - last_step)
        last_step = t
        snap = swarm.snapshot(t)
        radar = radars[k % RADARS]
        report = radar.scan(t, snap.enu, snap.vel)
        sock.send_multipart([report_topic(radar.sensor.id).encode(), wire.to_msgpack(report)])
        behind.append(time.time() - due)
        sent.append((t, len(report.detections)))
        k += 1
    cpu = (time.process_time() - cpu0) / (time.time() - start)
    time.sleep(0.5)
    sock.close(linger=2000)
    context.term()
    result.put({"sent": sent, "cpu": cpu, "behind_ms": percentiles(behind)})


@dataclass
class Heard:
    """Arrivals at the subscribers: (message t, arrival) per kind and transport."""

    cycles_mqtt: list[tuple[float, float]]
    cycles_zmq: list[tuple[float, float]]
    updates_mqtt: list[tuple[float, float]]
    updates_zmq: list[tuple[float, float]]
    alerts: list[tuple[float, float]]  # `raised`/`escalated` over MQTT: (alert t, arrival)


async def listen(mqtt_port: int, zmq_tracks: str, stop: asyncio.Event, heard: Heard) -> None:
    """Collect the arrival times of track cycles and updates over MQTT and ZeroMQ, and of
    alerts over MQTT, into `heard` until `stop`."""
    ready = asyncio.Event()
    stamp = msgspec.json.Decoder(Stamp)
    stamp_msgpack = msgspec.msgpack.Decoder(Stamp)

    async def mqtt() -> None:
        async with aiomqtt.Client("127.0.0.1", mqtt_port, identifier="bench") as client:
            await client.subscribe("cuas/bench/tracks", qos=0)
            await client.subscribe(UPDATES_MQTT, qos=0)
            await client.subscribe(Topics("cuas/bench").alert_events, qos=1)
            ready.set()
            async for m in client.messages:
                arrival = time.time()
                topic = m.topic.value
                if topic.endswith("/tracks"):
                    heard.cycles_mqtt.append((stamp.decode(m.payload).t, arrival))  # type: ignore[arg-type]
                    continue
                if topic == UPDATES_MQTT:
                    heard.updates_mqtt.append((stamp.decode(m.payload).t, arrival))  # type: ignore[arg-type]
                    continue
                alert = wire.from_json(bytes(m.payload), wire.Alert)  # type: ignore[arg-type]
                if alert.state in ("raised", "escalated"):
                    heard.alerts.append((alert.t, arrival))

    async def zmq_stream() -> None:
        import zmq.asyncio

        ctx = zmq.asyncio.Context()
        sub = ctx.socket(zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, TRACK_STREAM.encode())
        sub.setsockopt(zmq.SUBSCRIBE, UPDATES_ZMQ.encode())
        sub.connect(zmq_tracks)
        try:
            while True:
                topic, payload = await sub.recv_multipart()
                arrival = time.time()
                into = heard.updates_zmq if topic == UPDATES_ZMQ.encode() else heard.cycles_zmq
                into.append((stamp_msgpack.decode(payload).t, arrival))
        finally:
            sub.close(0)
            ctx.term()

    tasks = [asyncio.create_task(mqtt()), asyncio.create_task(zmq_stream())]
    await asyncio.wait_for(ready.wait(), 10)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    offered: float
    sent_reports: int
    sent_detections: int
    received_detections: int
    intake_per_s: float
    lost: int
    late_fused: int
    rejects: dict[str, int]
    latency_ms: dict[str, float]  # report -> first MQTT message (update or cycle) with it
    cycle_latency_ms: dict[str, float]  # report -> first MQTT cycle with it
    update_latency_zmq_ms: dict[str, float]  # report -> first ZeroMQ update with it
    mqtt_updates: int
    latency_bounds_ms: dict[str, float]  # the reorder window's adapted wait per radar, at the end
    mqtt_delay_ms: dict[str, float]
    zmq_delay_ms: dict[str, float]
    core_cpu: float
    mqtt_cycles: int
    alert_latency_ms: dict[str, float]
    alerts: int
    generator_cpu: float  # the load generator's share of a core
    generator_behind_ms: dict[str, float]  # each report's send after its due time
    load_average: float  # the machine's, 1 min, when the run began
    caught_up_s: float  # from the generator's last send to a ZeroMQ cycle covering it


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    a = np.asarray(values) * 1000.0
    return {
        "p50": round(float(np.percentile(a, 50)), 1),
        "p99": round(float(np.percentile(a, 99)), 1),
        "max": round(float(a.max()), 1),
    }


def end_to_end(
    sent: list[tuple[float, int]], cycles: list[tuple[float, float]], t_from: float, t_to: float
) -> list[float]:
    """For each report, publication -> arrival of the first message (cycle or update) with
    message t >= its t."""
    if not cycles:
        return [float("inf")] * sum(t_from <= t <= t_to for t, _ in sent)
    cycle_t = np.array([c for c, _ in cycles])
    arrival = np.array([a for _, a in cycles])
    order = np.argsort(cycle_t)
    cycle_t, arrival = cycle_t[order], np.minimum.accumulate(arrival[order][::-1])[::-1]
    out = []
    for t, _ in sent:
        if not t_from <= t <= t_to:
            continue
        i = int(np.searchsorted(cycle_t, t, side="left"))
        out.append(arrival[i] - t if i < len(cycle_t) else float("inf"))
    return out


def wait_until_up(core: subprocess.Popen, log_path: Path, timeout_s: float = 60.0) -> None:
    """Until the core has bound its sockets (its start-up line is in its log): a generator
    that published before would lose what it sent to a socket nobody reads yet (on a loaded
    machine the imports and compiled kernels take seconds), counted as lost."""
    deadline = time.monotonic() + timeout_s
    while "cuas core for camp" not in log_path.read_text():
        if core.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the core did not start:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.05)


def run_one(rate: float, duration_s: float, workdir: Path, updates: bool = True) -> Result:
    load_average = round(os.getloadavg()[0], 2)
    broker = MosquittoBroker(workdir / f"mosquitto-{int(rate)}")
    broker.start()
    config_path = write_camp(workdir, broker.port, rate, updates)
    config = load_config(config_path)
    log_path = workdir / f"core-{int(rate)}.log"
    with open(log_path, "w") as log:
        core = subprocess.Popen(
            [sys.executable, "-m", "cuas", "--log-json", "run", "--config", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(core, log_path)
        results: mp.Queue = mp.get_context("spawn").Queue()
        gen = mp.get_context("spawn").Process(
            target=generate, args=(str(config_path), rate, duration_s, results)
        )

        async def observe() -> tuple[dict, Heard, float, float]:
            stop = asyncio.Event()
            heard = Heard([], [], [], [], [])
            listener = asyncio.create_task(listen(broker.port, config.zmq.tracks, stop, heard))
            await asyncio.sleep(0.5)
            cpu0, wall0 = cpu_seconds(core.pid), time.time()
            gen.start()
            generated = await asyncio.to_thread(results.get, True, duration_s + 60)
            ended = time.time()
            cpu = (cpu_seconds(core.pid) - cpu0) / (ended - wall0)
            # Before the core is stopped (which drops what it has not read), it may catch up:
            # until a ZeroMQ cycle covers the last report sent, at most CATCH_UP_S.
            last = generated["sent"][-1][0]
            deadline = time.monotonic() + CATCH_UP_S
            while time.monotonic() < deadline and not any(c >= last for c, _ in heard.cycles_zmq):
                await asyncio.sleep(0.05)
            caught_up = next((a for c, a in heard.cycles_zmq if c >= last), math.inf) - last
            await asyncio.sleep(1.0)
            stop.set()
            await listener
            return generated, heard, cpu, caught_up

        # The subscriber's own full garbage collections (tens of ms over the modules' objects)
        # would show as delivery delay: its start-up objects are frozen out of them.
        gc.collect()
        gc.freeze()
        generated, heard, cpu, caught_up = asyncio.run(observe())
        gen.join(10)
    finally:
        core.terminate()
        core.wait(30)
        broker.close()
    totals = next(
        (
            json.loads(line)["totals"]
            for line in log_path.read_text().splitlines()
            if '"totals"' in line
        ),
        None,
    )
    if totals is None:
        raise SystemExit(f"the core wrote no totals:\n{log_path.read_text()[-2000:]}")
    sent = generated["sent"]
    t_first = sent[0][0]
    t_from, t_to = t_first + WARMUP_S, sent[-1][0] - 0.5
    sent_dets = sum(n for _, n in sent)
    window = [(c, a) for c, a in heard.cycles_mqtt if t_from <= c <= t_to]
    zwindow = [(c, a) for c, a in heard.cycles_zmq if t_from <= c <= t_to]
    first = [*heard.cycles_mqtt, *heard.updates_mqtt]
    return Result(
        offered=rate,
        sent_reports=len(sent),
        sent_detections=sent_dets,
        received_detections=totals["detections"],
        intake_per_s=round(totals["detections"] / (sent[-1][0] - t_first), 1),
        # Ingest counts a report's detections on acceptance (late ones included), so what is
        # missing was lost in transport.
        lost=sent_dets - totals["detections"],
        late_fused=totals.get("late_fused", 0),
        rejects=totals["rejects"],
        latency_ms=percentiles(end_to_end(sent, first, t_from, t_to)),
        cycle_latency_ms=percentiles(end_to_end(sent, heard.cycles_mqtt, t_from, t_to)),
        update_latency_zmq_ms=percentiles(end_to_end(sent, heard.updates_zmq, t_from, t_to)),
        mqtt_updates=len(heard.updates_mqtt),
        latency_bounds_ms=totals.get("latency_bounds_ms", {}),
        mqtt_delay_ms=percentiles([a - c for c, a in window]),
        zmq_delay_ms=percentiles([a - c for c, a in zwindow]),
        core_cpu=round(cpu, 2),
        mqtt_cycles=len(heard.cycles_mqtt),
        alert_latency_ms=percentiles([a - t for t, a in heard.alerts]),
        alerts=len(heard.alerts),
        generator_cpu=round(generated["cpu"], 2),
        generator_behind_ms=generated["behind_ms"],
        load_average=load_average,
        caught_up_s=round(caught_up, 2),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--json", default="benchmarks/results/live.json")
    parser.add_argument(
        "--no-updates", action="store_true", help="run the core with track updates off"
    )
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rate in args.rates:
            r = run_one(rate, args.duration, Path(tmp), updates=not args.no_updates)
            rows.append(r)
            print(json.dumps(r.__dict__), flush=True)
    print()
    print(
        f"{'offered':>9} {'intake':>9} {'lost':>6} {'late':>5} {'retro':>6} "
        f"{'first p50':>9} {'first p99':>9} {'cycle p50':>9} {'cycle p99':>9} "
        f"{'zupd p50':>8} {'zupd p99':>8} {'mqtt p50':>8} {'mqtt p99':>8} "
        f"{'zmq p50':>8} {'zmq p99':>8} {'cpu':>5} {'updates':>7} "
        f"{'alerts':>6} {'alert p50':>9} {'alert p99':>9} {'gen':>5} {'gen lag':>7} {'load':>5} "
        f"{'behind':>6}"
    )
    for r in rows:
        print(
            f"{r.offered:9.0f} {r.intake_per_s:9.0f} {r.lost:6d} {r.rejects.get('late', 0):5d} "
            f"{r.late_fused:6d} {r.latency_ms['p50']:9.1f} {r.latency_ms['p99']:9.1f} "
            f"{r.cycle_latency_ms['p50']:9.1f} {r.cycle_latency_ms['p99']:9.1f} "
            f"{r.update_latency_zmq_ms['p50']:8.1f} {r.update_latency_zmq_ms['p99']:8.1f} "
            f"{r.mqtt_delay_ms['p50']:8.1f} {r.mqtt_delay_ms['p99']:8.1f} "
            f"{r.zmq_delay_ms['p50']:8.1f} {r.zmq_delay_ms['p99']:8.1f} {r.core_cpu:5.0%} "
            f"{r.mqtt_updates:7d} "
            f"{r.alerts:6d} {r.alert_latency_ms['p50']:9.1f} {r.alert_latency_ms['p99']:9.1f} "
            f"{r.generator_cpu:5.0%} {r.generator_behind_ms['p99']:7.1f} {r.load_average:5.1f} "
            f"{r.caught_up_s:6.1f}"
        )
    print(
        "latencies in ms, from a report's publication: first = to the first MQTT message "
        "(track update or cycle) containing it; cycle = to the first MQTT cycle containing it "
        f"(cycles every {CYCLE_S} s); zupd = to the first ZeroMQ track update containing it; "
        "mqtt/zmq = cycle arrival - cycle time; alert = arrival of a raised/escalated alert - "
        "the measurement time that raised it; late = reports rejected late, retro = fused "
        "late by retrodiction; updates = update messages received over MQTT; gen = the load "
        "generator's CPU, gen lag = p99 of its sends after their due time; load = the "
        "machine's load average when the run began; behind = seconds from the last report "
        "sent to the ZeroMQ cycle that covers it (a core that fell behind catching up)"
    )
    for r in rows:
        if r.late_fused > 0.01 * r.sent_reports:
            print(
                f"{r.offered:.0f}/s: {r.late_fused} reports were fused late (by retrodiction); "
                "their latencies above are understated (see the module docstring)"
            )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
