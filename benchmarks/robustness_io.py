"""Robustness benchmarks: fuzz, flood and soak (the figures of issue 12; loopback only).

- `fuzz`: `cuas run` (its own process) and a real Mosquitto; a drone flies past the radar
  while 100,000 hostile messages (simulators/hostile.py: each bad by construction) go to the
  ingest socket. Reports: time to take them, rejects counted (must equal what was sent),
  the core's memory before and after, its exit status, and whether the drone's track lived.
- `flood`: the same camp with cycles every 0.1 s and a 30 ms reorder window; the radar
  reports at its rate while cam-nw sends 10x its configured rate (50 reports/s of 20
  detections) for 60 s. Reports the radar's report -> MQTT latency (first track cycle
  containing it) and the MQTT cycle delay, against the same run without the flood; what
  was shed; the core's memory every 10 s.
- `soak`: an hour of a busy camp (50 drones in and out of the zones, one radar at 1 Hz,
  clutter) replayed through the pipeline as fast as it goes, alerts journaled (with the
  data's time as wall time, retention 10 minutes of it, pruned every minute, so that the
  hour shows the plateau a 30-day retention reaches after 30 days). Reports memory, journal
  size, live tracks and time per cycle for each 5 minutes.
The chaos runs are a test:
`CUAS_CHAOS_RUNS=10 .venv/bin/python -m pytest -s tests/test_chaos_live.py`.

    .venv/bin/python -m benchmarks.robustness_io fuzz            # ~1 min
    .venv/bin/python -m benchmarks.robustness_io flood           # ~2.5 min
    .venv/bin/python -m benchmarks.robustness_io soak            # ~2 min
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt
import numpy as np
import zmq
import zmq.asyncio

from cuas import wire
from cuas.config import load_config
from cuas.fusion.alerts import Transition
from cuas.fusion.pipeline import FusionPipeline
from cuas.io.journal import Journal
from cuas.io.recording import RecordingReader
from sensors.publisher import SensorPublisher
from simulators.benchmark_scenarios import write_ncv_radar_scenario
from simulators.hostile import HostilePeer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.broker import MosquittoBroker  # the tests' broker harness
from support.live import Intruder, live_camp


def rss_mb(pid: int) -> float:
    """Resident memory of a process (MB), from /proc."""
    text = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", text)
    return round(int(found[1]) / 1024, 1) if found else float("nan")


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    a = np.asarray(values) * 1000.0
    return {
        "n": len(values),
        "p50": round(float(np.percentile(a, 50)), 1),
        "p99": round(float(np.percentile(a, 99)), 1),
        "max": round(float(a.max()), 1),
    }


class Core:
    """`cuas run --log-json` in its own process; `totals` are its shutdown counters."""

    def __init__(self, config_path: Path, log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cuas", "--log-json", "run", "--config", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(30)

    def totals(self) -> dict:  # type: ignore[type-arg]
        for line in self.log_path.read_text().splitlines():
            if '"totals"' in line:
                return json.loads(line)["totals"]
        raise RuntimeError(f"no totals in {self.log_path}")


async def track_cycles(port: int, prefix: str, out: list[tuple[float, wire.TrackCycle]]) -> None:
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-robustness") as client:
        await client.subscribe(f"{prefix}/tracks", qos=0)
        async for m in client.messages:
            out.append((time.time(), wire.from_json(bytes(m.payload), wire.TrackCycle)))  # type: ignore[arg-type]


def firm(cycle: wire.TrackCycle) -> list[wire.Track]:
    return [t for t in cycle.tracks if t.status in ("confirmed", "coasting")]


# --- fuzz --------------------------------------------------------------------------------


def fuzz(messages: int, workdir: Path, rounds: int = 1) -> dict:  # type: ignore[type-arg]
    broker = MosquittoBroker(workdir / "mosquitto-fuzz")
    broker.start()
    path = live_camp(workdir, broker.port)
    path.write_text(path.read_text().replace("intake_rate_factor = 20.0", "intake_rate_factor = 0"))
    config = load_config(path)
    core = Core(path, workdir / "core-fuzz.log")
    result: dict = {"messages": messages}  # type: ignore[type-arg]
    try:
        time.sleep(2.0)

        async def scenario() -> None:
            cycles: list[tuple[float, wire.TrackCycle]] = []
            listener = asyncio.create_task(track_cycles(broker.port, config.mqtt_prefix, cycles))
            stop = asyncio.Event()
            flight = asyncio.create_task(Intruder(config, clutter_per_scan=0.0).fly(stop))
            deadline = time.monotonic() + 30
            while not (cycles and firm(cycles[-1][1])):
                assert time.monotonic() < deadline, "no track before the fuzz"
                await asyncio.sleep(0.1)
            track_id = firm(cycles[-1][1])[0].track_id
            result["rss_before_mb"] = rss_mb(core.process.pid)
            context = zmq.asyncio.Context()
            peer = context.socket(zmq.PUB)
            peer.setsockopt(zmq.SNDHWM, 0)
            peer.connect(config.zmq.ingest)
            await asyncio.sleep(1.0)
            started = time.perf_counter()
            hostile = HostilePeer(config, seed=100)
            result["rss_after_round_mb"] = []
            for _ in range(rounds):
                for k, frames in enumerate(hostile.messages(messages // rounds)):
                    await peer.send_multipart(frames)
                    if k % 500 == 499:
                        await asyncio.sleep(0.005)
                await asyncio.sleep(3.0)
                result["rss_after_round_mb"].append(rss_mb(core.process.pid))
            result["send_s"] = round(time.perf_counter() - started - 3.0 * rounds, 1)
            latest = cycles[-1][1]
            result["same_track_alive"] = [t.track_id for t in firm(latest)] == [track_id]
            result["track_age_s"] = round(latest.t - firm(latest)[0].t_update, 2)
            stop.set()
            await flight
            listener.cancel()
            peer.close(0)
            context.term()

        asyncio.run(scenario())
    finally:
        result["exit_status"] = core.stop()
        broker.close()
    totals = core.totals()
    rejects = {k: v for k, v in totals["rejects"].items() if k not in ("late", "future")}
    result["rejects"] = rejects
    result["rejected"] = sum(rejects.values())
    result["received"] = totals["received"]
    return result


# --- flood -------------------------------------------------------------------------------


def flood(duration_s: float, workdir: Path, flooding: bool) -> dict:  # type: ignore[type-arg]
    name = "flood" if flooding else "quiet"
    broker = MosquittoBroker(workdir / f"mosquitto-{name}")
    broker.start()
    folder = workdir / name
    folder.mkdir()
    path = live_camp(folder, broker.port)
    text = path.read_text().replace("intake_rate_factor = 20.0", "intake_rate_factor = 5.0")
    text = text.replace("cycle_period_s = 0.2", "cycle_period_s = 0.1")
    text = text.replace("tracks_period_s = 0.2", "tracks_period_s = 0.1")
    # Loopback delivers in well under a millisecond: a 30 ms reorder window, not the tests' 0.2 s.
    text = text.replace("reorder_window_s = 0.2", "reorder_window_s = 0.03")
    path.write_text(text.replace("update_period_s = 1.0", "update_period_s = 0.1", 1))
    config = load_config(path)
    camera = config.sensor("cam-nw")
    assert camera is not None
    core = Core(path, workdir / f"core-{name}.log")
    result: dict = {"flooding": flooding, "duration_s": duration_s}  # type: ignore[type-arg]
    try:
        time.sleep(2.0)

        async def scenario() -> None:
            cycles: list[tuple[float, wire.TrackCycle]] = []
            sent: list[float] = []
            listener = asyncio.create_task(track_cycles(broker.port, config.mqtt_prefix, cycles))
            radar = SensorPublisher("radar-1", "radar", config.zmq.ingest)
            await radar.start()
            stop = asyncio.Event()

            send = radar.send_report

            async def timed(t: float, detections: list) -> bool:  # type: ignore[type-arg]
                sent.append(t)  # each radar report's measurement (= publication) time
                return await send(t, detections)

            radar.send_report = timed  # type: ignore[method-assign]
            flight = asyncio.create_task(Intruder(config, clutter_per_scan=1.0).fly(stop, radar))
            await asyncio.sleep(3.0)
            memory: list[float] = []
            t0 = time.time()
            flooder = SensorPublisher("cam-nw", "camera", config.zmq.ingest)
            await flooder.start()
            await flooder.wait_connected(5)
            period = camera.update_period_s / 10.0
            dets = [
                wire.CameraDetection(az_deg=float(a), el_deg=5.0, confidence=0.5)
                for a in np.linspace(10, 80, 20)
            ]
            k = 0
            while (now := time.time()) - t0 < duration_s:
                if flooding:
                    await flooder.send_report(now, dets)
                if k % int(10.0 / period) == 0:
                    memory.append(rss_mb(core.process.pid))
                k += 1
                await asyncio.sleep(max(0.0, t0 + k * period - time.time()))
            await asyncio.sleep(1.0)
            stop.set()
            await flight
            await flooder.close()
            await radar.close()
            listener.cancel()
            window = [t for t in sent if t0 + 1.0 <= t <= t0 + duration_s - 0.5]
            arrivals = np.array([a for a, _ in cycles])
            cycle_t = np.array([c.t for _, c in cycles])
            order = np.argsort(cycle_t)
            cycle_t = cycle_t[order]
            first = np.minimum.accumulate(arrivals[order][::-1])[::-1]
            latency = []
            for t in window:
                i = int(np.searchsorted(cycle_t, t, side="left"))
                if i < len(cycle_t):
                    latency.append(first[i] - t)
            result["radar_report_to_mqtt_ms"] = percentiles(latency)
            in_window = [(a, c.t) for a, c in cycles if t0 + 1 <= c.t <= t0 + duration_s]
            result["mqtt_cycle_delay_ms"] = percentiles([a - c for a, c in in_window])
            result["core_rss_mb_every_10s"] = memory

        asyncio.run(scenario())
    finally:
        result["exit_status"] = core.stop()
        broker.close()
    totals = core.totals()
    result["shed"] = totals["shed"]
    result["flood_rejects"] = totals["rejects"].get("flood", 0)
    return result


# --- soak --------------------------------------------------------------------------------


def soak(duration_s: float, targets: int, workdir: Path) -> dict:  # type: ignore[type-arg]
    files = write_ncv_radar_scenario(workdir / "soak", targets, duration_s=duration_s, seed=3)
    config = load_config(files.config)
    pipeline = FusionPipeline(config)
    journal = Journal(workdir / "soak-journal.sqlite", camp_id=config.camp_id)
    retention_s, prune_every_s, report_every_s = 600.0, 60.0, 300.0
    rows: list[dict] = []  # type: ignore[type-arg]
    t_start = next_prune = next_report = None
    cycles0, wall0 = 0, time.perf_counter()
    for record in RecordingReader(files.recording):
        outputs = pipeline.submit(record.topic, record.payload, record.t_received)
        t = record.t_received
        transitions = [o for o in outputs if isinstance(o, Transition)]
        for seq in journal.append(transitions, at=t):
            journal.mark_published(seq, at=t)
        if t_start is None:
            t_start, next_prune, next_report = t, t + prune_every_s, t + report_every_s
        if t >= next_prune:
            journal.prune(t - retention_s)
            next_prune += prune_every_s
        if t >= next_report:
            wall = time.perf_counter()
            rows.append(
                {
                    "minute": round((t - t_start) / 60),
                    "rss_mb": rss_mb(os.getpid()),
                    "journal_kb": journal.size_bytes() // 1024,
                    "journal_rows": len(journal.query()),
                    "tracks_live": len(pipeline.tracker.tracks),
                    "ms_per_cycle": round(
                        1000 * (wall - wall0) / max(1, pipeline.cycles - cycles0), 2
                    ),
                    "alert_transitions": pipeline.alert_transitions,
                }
            )
            cycles0, wall0 = pipeline.cycles, wall
            next_report += report_every_s
    journal.close()
    return {"targets": targets, "duration_s": duration_s, "every_5_min": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["fuzz", "flood", "soak"])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=4, help="fuzz: memory after each")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--targets", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.what == "fuzz":
            out = fuzz(args.messages, work, args.rounds)
        elif args.what == "flood":
            duration = args.duration or 60.0
            out = {
                "quiet": flood(duration, work, flooding=False),
                "flood": flood(duration, work, flooding=True),
            }
        else:
            out = soak(args.duration or 3600.0, args.targets, work)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
