"""Console benchmark: from a track cycle on MQTT to the browser's page, and the page under load.

A real Mosquitto on a free loopback port, `cuas console` as its own process, a stand-in core
(this process) publishing wire-valid track cycles of N tracks at a rate, one headless
Chromium showing the page (Debian's chromium + chromium-driver), and optionally more
WebSocket clients on the same console (aiohttp clients reading everything, plus one that
never reads, to show a stalled browser holds up nobody).

Reported per run:
- latency: publication of a cycle (its `t` is the wall clock at publish) to the page having
  applied it and drawn the next frame (`window.cuasPerf`: a message posted from inside the
  next requestAnimationFrame runs after that frame's style, layout and paint);
- frame: from the WebSocket message's arrival to that frame drawn; and Long Animation Frames
  (> 50 ms, the browser's own LoAF observer) after the first two cycles (which create the
  markers and decode the symbols);
- the console process's CPU, as a share of one core, over the steady part of the run.

    bash scripts/setup.sh dev
    .venv/bin/python -m benchmarks.console                       # ~1.5 min: 20 @ 5 Hz, 500 @ 1 Hz
    .venv/bin/python -m benchmarks.console --tracks 500 --rate 1 --duration 30 --clients 19
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import msgspec

from cuas import wire
from cuas.config import load_config
from cuas.topics import Topics

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.broker import MosquittoBroker, free_port, port_open  # the tests' harnesses
from support.browser import find_chromium, start_chromium, wait_for
from support.live import live_camp

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def cycle(n: int, t: float, frame: Any) -> bytes:
    """N drones circling the camp between 300 m and 4.8 km; 1 in 50 changes threat every 5 s.

    The cycle's `t` is taken after the tracks are built, just before encoding: it is the
    moment of publication the latency is measured from."""
    return msgspec.json.encode({"v": 1, "t": time.time(), "tracks": drones(n, t, frame, range(n))})


def update(n: int, ids: range, t: float, frame: Any) -> bytes:
    """A track update (MQTT `tracks/updates`) of drones `ids` of the N of `cycle`, as a scan
    that saw them would publish it; `t` is the moment of publication, as for cycles."""
    return msgspec.json.encode({"v": 1, "t": time.time(), "tracks": drones(n, t, frame, ids)})


def drones(n: int, t: float, frame: Any, ids: range) -> list[dict[str, Any]]:
    """Drones `ids` of the N circling the camp, at time `t`, as wire tracks."""
    tracks = []
    for i in ids:
        r = 300.0 + (4500.0 * ((i * 7919) % n)) / max(n, 1)
        w = 0.02 * (1 if i % 2 else -1)
        a = (i * 2.399) + w * t
        e, nn = r * math.cos(a), r * math.sin(a)
        threat = wire.THREATS[(i + (int(t / 5) if i % 50 == 0 else 0)) % 5]
        tracks.append(
            {
                "track_id": i,
                "t": t,
                "status": "confirmed",
                "lat": frame.lat0 + nn / 111132.0,
                "lon": frame.lon0 + e / (111320.0 * math.cos(math.radians(frame.lat0))),
                "alt_m": 660.0,
                "enu": [e, nn, 60.0],
                "vel_enu": [-w * nn, w * e, 0.0],
                "pos_sigma_m": 8.0 if i % 10 else 40.0,
                "class": "drone" if i % 3 else "unknown",
                "class_probs": {"drone": 0.7},
                "threat": threat,
                "sensors": ["radar-1"],
                "friendly": i % 17 == 0,
                "uas_id": None,
                "t_update": t,
            }
        )
    return tracks


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))] if xs else float("nan")


async def reader(url: str, counts: list[int], index: int, stalled: bool) -> None:
    """Another browser on the console: reads everything (or, `stalled`, nothing at all)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        if stalled:
            await asyncio.sleep(3600)
        async for _ in ws:
            counts[index] += 1


async def run(
    n: int,
    rate: float,
    duration: float,
    clients: int,
    shots: Path | None,
    updates_hz: float = 0.0,
    per_update: int = 10,
) -> dict:
    found = find_chromium()
    if found is None:
        raise SystemExit("chromium and chromedriver are needed: bash scripts/setup.sh dev")
    with tempfile.TemporaryDirectory(prefix="cuas-bench-console-") as tmp:
        broker = MosquittoBroker(Path(tmp) / "mosquitto")
        broker.start()
        path = live_camp(Path(tmp), broker.port)
        config = load_config(path)
        frame = config.local_frame()
        port = free_port()
        console = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cuas",
                "console",
                "--config",
                str(path),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(Path(tmp) / "console.log").open("wb"),
        )
        chrome = None
        others: list[asyncio.Task[None]] = []
        try:
            try:
                await asyncio.to_thread(
                    wait_for, lambda: port_open("127.0.0.1", port), 30, "the console"
                )
            except AssertionError:
                log = (Path(tmp) / "console.log").read_text(errors="replace")[-2000:]
                raise SystemExit(f"the console did not start:\n{log}") from None
            url = f"http://127.0.0.1:{port}/"
            chrome = await asyncio.to_thread(start_chromium, *found, 1280, 900)
            await asyncio.to_thread(chrome.get, url)
            counts = [0] * clients
            others = [
                asyncio.create_task(reader(url + "ws", counts, i, stalled=(i == 0)))
                for i in range(clients)
            ]
            topics = Topics(config.mqtt_prefix)
            async with aiomqtt.Client("127.0.0.1", broker.port, identifier="bench-core") as core:
                start = time.time()
                sent = scans = 0
                warm_until = start + 2.0 / rate + 1.0
                cpu0 = None
                while (now := time.time()) - start < duration:
                    if cpu0 is None and now >= warm_until:
                        cpu0, wall0 = cpu_seconds(console.pid), time.monotonic()
                    next_cycle = start + sent / rate
                    next_scan = start + scans / updates_hz if updates_hz else math.inf
                    if next_scan < next_cycle:  # a scan's update, between cycles
                        first = (scans * per_update) % n
                        ids = range(first, min(first + per_update, n))
                        await core.publish(topics.track_updates, update(n, ids, now, frame), qos=0)
                        scans += 1
                    else:
                        await core.publish(topics.tracks, cycle(n, now, frame), qos=0)
                        sent += 1
                    due = start + sent / rate
                    if updates_hz:
                        due = min(due, start + scans / updates_hz)
                    await asyncio.sleep(max(0.0, due - time.time()))
                cpu1, wall1 = cpu_seconds(console.pid), time.monotonic()
            await asyncio.sleep(1.0)
            perf = await asyncio.to_thread(chrome.execute_script, "return window.cuasPerf")
            drawn = await asyncio.to_thread(
                chrome.execute_script, "return document.querySelectorAll('[data-track-id]').length"
            )
            if shots is not None:
                await asyncio.to_thread(chrome.save_screenshot, str(shots / f"console_{n}.png"))
        finally:
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            if chrome is not None:
                await asyncio.to_thread(chrome.quit)
            console.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                console.wait(10)
            if console.poll() is None:
                console.kill()
            broker.stop()
    updates = perf["updates"]
    steady = updates[2:]
    # The first two cycles create the markers and decode the symbols: warm-up.
    warm = updates[1]["at"] if len(updates) > 1 else float("inf")
    late_loaf = [x for x in perf["loaf"] if x["start"] > warm]
    latency = [1000.0 * (u["drawn"] - u["cycle_t"]) for u in steady]
    frames = [u["frame"] for u in steady]
    drawn_scans = [u for u in perf["scans"] if u["at"] > warm]
    scan_latency = [1000.0 * (u["drawn"] - u["cycle_t"]) for u in drawn_scans]
    return {
        "tracks": n,
        "rate_hz": rate,
        "sent": sent,
        "seen": len(updates),
        "updates_hz": updates_hz,
        "updates_sent": scans,
        "updates_applied": len(perf["scans"]),
        "update_latency_ms": (
            (statistics.median(scan_latency), pct(scan_latency, 95), pct(scan_latency, 99))
            if scan_latency
            else None
        ),
        "drawn_markers": drawn,
        "latency_ms": (statistics.median(latency), pct(latency, 95), pct(latency, 99)),
        "frame_ms": (statistics.median(frames), pct(frames, 95), max(frames)),
        "js_ms": statistics.median(u["js"] for u in steady),
        "loaf_after_warmup": [round(x["d"]) for x in late_loaf],
        "console_cpu_pct": 100.0 * (cpu1 - cpu0) / (wall1 - wall0) if cpu0 is not None else None,
        "other_clients_msgs": counts[1:],
    }


def report(r: dict) -> None:
    lat, fr = r["latency_ms"], r["frame_ms"]
    print(
        f"{r['tracks']} tracks @ {r['rate_hz']:g} Hz: sent {r['sent']}, page applied {r['seen']}, "
        f"{r['drawn_markers']} track elements"
    )
    print(f"  MQTT cycle -> page drawn: median {lat[0]:.0f} ms, p95 {lat[1]:.0f}, p99 {lat[2]:.0f}")
    print(f"  frame (message -> drawn): median {fr[0]:.0f} ms, p95 {fr[1]:.0f}, max {fr[2]:.0f}")
    if r["update_latency_ms"] is not None:
        ul = r["update_latency_ms"]
        print(
            f"  track updates: {r['updates_sent']} sent at {r['updates_hz']:g} Hz, "
            f"{r['updates_applied']} messages applied by the page (paced, merged)"
        )
        print(
            f"  MQTT update -> page drawn: median {ul[0]:.0f} ms, p95 {ul[1]:.0f}, p99 {ul[2]:.0f}"
        )
    print(f"  script per cycle: median {r['js_ms']:.1f} ms")
    print(
        f"  long animation frames (> 50 ms) after warm-up: {len(r['loaf_after_warmup'])} "
        f"{r['loaf_after_warmup'][:10]}"
    )
    if r["console_cpu_pct"] is not None:
        print(f"  console CPU: {r['console_cpu_pct']:.1f} % of one core")
    if r["other_clients_msgs"]:
        print(f"  other clients (one stalled, not counted): messages {r['other_clients_msgs']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, nargs="*", help="track counts (default 20 500)")
    parser.add_argument("--rate", type=float, help="cycles per second (default 5 for 20, else 1)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per run")
    parser.add_argument("--clients", type=int, default=0, help="extra WebSocket clients")
    parser.add_argument("--screenshots", type=Path, help="save a screenshot per run here")
    parser.add_argument(
        "--updates", type=float, default=0.0, help="track updates per second between cycles"
    )
    parser.add_argument("--per-update", type=int, default=10, help="tracks in each update")
    args = parser.parse_args()
    for n in args.tracks or [20, 500]:
        rate = args.rate or (5.0 if n <= 50 else 1.0)
        result = run(
            n, rate, args.duration, args.clients, args.screenshots, args.updates, args.per_update
        )
        report(asyncio.run(result))


if __name__ == "__main__":
    main()
