"""The standard interfaces under load: SAPIENT in, TAK out, ASTERIX in.

    .venv/bin/python -m benchmarks.interfaces               # all three, ~2 min
    .venv/bin/python -m benchmarks.interfaces asterix       # or sapient, tak

- asterix: CAT-048 decode rate (libasterix, 50 plots a datagram), alone and through the
  adapter's whole datagram path (decode, filter, scan grouping, wire detections).
- sapient: 50 SAPIENT radar nodes at 10 Hz (2 objects a scan) over TCP into one
  `cuas adapter-sapient` subprocess, whose reports a ZeroMQ SUB here counts: loss (wire
  detections received / detection reports sent) and the adapter's CPU (its /proc times).
- tak: 500 tracks at 1 Hz published to a real Mosquitto as the core would, one
  `cuas gateway-tak` subprocess, a real taky, and a TAK client counting events: per-cycle
  latency (the last event of a cycle at the client), whether it grows (a backlog), and
  the gateway's CPU.

Peers (taky) come from tests/support/peers.py; Mosquitto from tests/support/broker.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import aiomqtt
import zmq
import zmq.asyncio

from cuas import wire
from cuas.topics import Topics

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support.broker import MosquittoBroker, free_port  # noqa: E402  (the tests' harnesses)
from support.taky import TakyServer  # noqa: E402

EXAMPLE = ROOT / "config" / "camp.example.toml"
CUAS = [sys.executable, "-m", "cuas"]
TICKS = os.sysconf("SC_CLK_TCK")


async def started(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    """Wait until `proc` accepts TCP on `port` (or fail with its stderr)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the command died: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError("the command did not start listening")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


# --- ASTERIX ------------------------------------------------------------------------------


def bench_asterix(seconds: float = 3.0) -> None:
    from cuas.config import load_config
    from sensors.asterix.adapter import AsterixAdapter
    from sensors.asterix.cat048 import Plot, _decode_libasterix, decode, encode

    now = time.time()
    datagrams = [
        encode(
            [
                Plot(25, 10, (now + i * 0.01) % 86400.0, 500.0 + 40 * j, (i * 7 + j * 3) % 360.0)
                for j in range(50)
            ]
        )
        for i in range(40)
    ]
    plots_per_round = 50 * len(datagrams)
    for label, decoder in (("decode", decode), ("libasterix alone", _decode_libasterix)):
        rates, cpu_rates = [], []
        for _ in range(5):
            start, cpu0, n = time.perf_counter(), time.process_time(), 0
            while time.perf_counter() - start < seconds / 5:
                for d in datagrams:
                    n += len(decoder(d).plots)
            rates.append(n / (time.perf_counter() - start))
            cpu_rates.append(n / (time.process_time() - cpu0))
        # Plots per CPU-second is what one core can do; wall time suffers on a busy machine.
        print(
            f"asterix: CAT-048 {label} {statistics.median(rates):,.0f} plots/s wall, "
            f"{statistics.median(cpu_rates):,.0f} plots per CPU-second (medians of 5)"
        )

    class NullPublisher:
        def set_state(self, *a: object) -> None: ...

    sensor = load_config(EXAMPLE).sensor("radar-1")
    assert sensor is not None

    async def adapter_path() -> float:
        adapter = AsterixAdapter(sensor, NullPublisher(), scan_timeout_s=10.0)  # type: ignore[arg-type]
        start, cpu0, n = time.perf_counter(), time.process_time(), 0
        while time.perf_counter() - start < seconds:
            for d in datagrams:
                adapter.datagram(d)
            n += plots_per_round
            while not adapter._queue.empty():
                adapter._queue.get_nowait()
        return n / (time.perf_counter() - start), n / (time.process_time() - cpu0)

    rate, cpu_rate = asyncio.run(adapter_path())
    print(
        f"asterix: adapter datagram path (decode, group, wire detections) {rate:,.0f} plots/s "
        f"wall, {cpu_rate:,.0f} plots per CPU-second"
    )


# --- SAPIENT ------------------------------------------------------------------------------


def sapient_camp(directory: Path, nodes: int, ingest: str) -> tuple[Path, list[str]]:
    ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(nodes)]
    text = EXAMPLE.read_text().replace("tcp://127.0.0.1:5555", ingest)
    for i, node in enumerate(ids):
        text += (
            f'\n[[sensors]]\nid = "sapient-{i}"\nkind = "radar"\nlat = 8.65\nlon = 24.5\n'
            f'alt_m = 610.0\nsapient_node_id = "{node}"\n'
        )
    path = directory / "camp.toml"
    path.write_text(text)
    return path, ids


async def sapient_load(port: int, ids: list[str], hz: float, seconds: float, per_scan: int) -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    from support.sapient_peers import SensorNode, polar, registration

    from cuas.gateways.sapient_protocol import ulid

    sent = 0

    async def node(node_id: str, k: int) -> None:
        nonlocal sent
        async with SensorNode(node_id, port) as n:
            await n.send(registration=registration())
            for _ in range(500):
                if n.of("registration_ack"):
                    break
                await asyncio.sleep(0.01)
            objects = [ulid() for _ in range(per_scan)]
            start = time.monotonic() + (k % 10) / (10 * hz)  # spread the nodes over a period
            for i in range(int(seconds * hz)):
                await asyncio.sleep(max(0.0, start + i / hz - time.monotonic()))
                t = time.time()
                for j, obj in enumerate(objects):
                    await n.send(t, detection_report=polar(obj, 800.0 + 50 * j, (k * 7) % 360, 3.0))
                    sent += 1
            await asyncio.sleep(0.5)

    await asyncio.gather(*(node(node_id, k) for k, node_id in enumerate(ids)))
    return sent


def bench_sapient(
    nodes: int = 50, hz: float = 10.0, seconds: float = 20.0, per_scan: int = 2
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ingest_port, listen_port = free_port(), free_port()
        ingest = f"tcp://127.0.0.1:{ingest_port}"
        path, ids = sapient_camp(Path(tmp), nodes, ingest)

        async def run() -> tuple[int, int, int, float, float]:
            context = zmq.asyncio.Context()
            sub = context.socket(zmq.SUB)
            sub.setsockopt(zmq.SUBSCRIBE, b"report.")
            sub.setsockopt(zmq.RCVHWM, 0)
            sub.bind(ingest)
            received = reports = 0

            async def count() -> None:
                nonlocal received, reports
                while True:
                    _, payload = await sub.recv_multipart()
                    received += len(wire.decode_report(payload).detections)
                    reports += 1

            counter = asyncio.create_task(count())
            proc = subprocess.Popen(
                [
                    *CUAS,
                    "adapter-sapient",
                    "--config",
                    str(path),
                    "--listen",
                    f"127.0.0.1:{listen_port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                await started(proc, listen_port)
                await asyncio.sleep(2.0)  # the publishers' subscriptions arrive
                cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
                sent = await sapient_load(listen_port, ids, hz, seconds, per_scan)
                cpu = cpu_seconds(proc.pid) - cpu0
                wall = time.monotonic() - wall0
                await asyncio.sleep(1.0)
            finally:
                proc.terminate()
                proc.wait(10)
                counter.cancel()
                sub.close(0)
                context.term()
            return sent, received, reports, cpu, wall

        sent, received, reports, cpu, wall = asyncio.run(run())
    loss = 1.0 - received / sent if sent else 1.0
    print(
        f"sapient: {nodes} nodes x {hz:g} Hz x {per_scan} objects for {seconds:g} s: "
        f"{sent:,} detection reports sent, {received:,} wire detections in {reports:,} reports "
        f"received (loss {loss:.2%}); adapter CPU {cpu / wall:.1%} of a core"
    )


# --- TAK ----------------------------------------------------------------------------------


def bench_tak(tracks: int = 500, seconds: float = 20.0) -> None:
    with tempfile.TemporaryDirectory() as tmp, TakyServer(Path(tmp) / "taky") as taky:
        broker = MosquittoBroker(Path(tmp) / "mosquitto")
        broker.start()
        try:
            text = EXAMPLE.read_text().replace("port = 1883", f"port = {broker.port}")
            path = Path(tmp) / "camp.toml"
            path.write_text(text)  # [tak] min_interval_s = 1.0: one event per track a cycle
            asyncio.run(_tak_run(path, broker.port, taky.port, tracks, seconds))
        finally:
            broker.kill()


async def _tak_run(path: Path, mqtt_port: int, tak_port: int, tracks: int, seconds: float) -> None:
    topics = Topics("cuas/alpha")
    arrivals: list[tuple[float, str]] = []  # (arrival, event time attribute)
    writers: list[asyncio.StreamWriter] = []

    async def listen() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", tak_port)  # keep the writer:
        writers.append(writer)  # a collected StreamWriter closes the connection
        parser = ET.XMLPullParser(events=("end",))
        parser.feed(b"<stream>")
        while data := await reader.read(1 << 16):
            parser.feed(data)
            now = time.time()
            for _, element in parser.read_events():
                if element.tag == "event":
                    arrivals.append((now, element.get("time", "")))
                    element.clear()

    listener = asyncio.create_task(listen())
    proc = subprocess.Popen(
        [*CUAS, "gateway-tak", "--config", str(path), "--url", f"tcp://127.0.0.1:{tak_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    cycle_starts: list[float] = []
    try:
        async with aiomqtt.Client("127.0.0.1", mqtt_port) as core:
            # Warm-up: one small cycle a second until the gateway's events reach the client.
            for _ in range(60):
                t = time.time()
                warm = wire.TrackCycle(v=1, t=t, tracks=[_track(tracks + 1, t)])
                await core.publish(topics.tracks, wire.to_json(warm), qos=0)
                await asyncio.sleep(1.0)
                if arrivals:
                    break
            await asyncio.sleep(1.0)
            arrivals.clear()
            cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
            start = time.time()
            for i in range(int(seconds)):
                await asyncio.sleep(max(0.0, start + i - time.time()))
                t = time.time()
                cycle_starts.append(t)
                cycle = wire.TrackCycle(v=1, t=t, tracks=[_track(k, t) for k in range(tracks)])
                await core.publish(topics.tracks, wire.to_json(cycle), qos=0)
        await asyncio.sleep(3.0)
        cpu = cpu_seconds(proc.pid) - cpu0
        wall = time.monotonic() - wall0
    finally:
        proc.terminate()
        proc.wait(10)
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
    # An event's `time` is the gateway's clock when the cycle arrived: group by cycle.
    by_cycle: dict[int, list[float]] = {}
    for arrival, _ in arrivals:
        k = max((i for i, s in enumerate(cycle_starts) if s <= arrival), default=-1)
        by_cycle.setdefault(k, []).append(arrival)
    latencies = [max(v) - cycle_starts[k] for k, v in sorted(by_cycle.items()) if k >= 0]
    counts = [len(v) for k, v in sorted(by_cycle.items()) if k >= 0]
    half = len(latencies) // 2
    print(
        f"tak: {tracks} tracks at 1 Hz for {seconds:g} s: {len(arrivals):,} events at the TAK "
        f"client of {tracks * len(cycle_starts):,} sent; events per cycle median "
        f"{statistics.median(counts) if counts else 0:,.0f}; last event of a cycle after "
        f"median {statistics.median(latencies) if latencies else float('nan'):.2f} s, "
        f"first half {statistics.median(latencies[:half] or [0]):.2f} s, "
        f"second half {statistics.median(latencies[half:] or [0]):.2f} s (a backlog would grow); "
        f"gateway CPU {cpu / wall:.1%} of a core"
    )


def _track(k: int, t: float) -> wire.Track:
    return wire.Track(
        track_id=k + 1,
        t=t,
        status="confirmed",
        lat=8.65 + k * 1e-4,
        lon=24.5,
        alt_m=680.0,
        enu=[0.0, 0.0, 80.0],
        vel_enu=[5.0, 0.0, 0.0],
        pos_sigma_m=10.0,
        class_="drone",
        class_probs={"drone": 0.9},
        threat="low",
        sensors=["radar-1"],
        friendly=False,
        uas_id=None,
        t_update=t,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("which", nargs="*", default=["asterix", "sapient", "tak"])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    for name in args.which:
        if name == "asterix":
            bench_asterix()
        elif name == "sapient":
            bench_sapient(seconds=args.seconds)
        elif name == "tak":
            bench_tak(seconds=args.seconds)
        else:
            parser.error(f"unknown benchmark {name!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
