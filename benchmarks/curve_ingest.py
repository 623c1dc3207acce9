"""What CurveZMQ costs the core's ingest: the IngestSocket draining a sensor, plain vs CURVE.

A sensor in another process (its own core, as in the field) sends N radar reports of ten
detections each, as fast as the link takes them (XPUB with NODROP: none is lost), once the
core's subscription has arrived. The core's side is the real `IngestSocket` (with the real
`CurveServer` and its per-message User-Id check for CURVE); it is timed from the first
message to the last, wall clock and the receiving process's CPU time.

    .venv/bin/python benchmarks/curve_ingest.py [--messages 50000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import statistics
import tempfile
import time
from pathlib import Path

import zmq
import zmq.asyncio

from cuas import wire
from cuas.io.curve_auth import CurveServer
from cuas.io.ingest_socket import IngestSocket
from cuas.security.curve_keys import create_key_pair, load_secret_key, secret_path

SENSOR = "radar-1"


def payload() -> bytes:
    detections = [
        wire.RadarDetection(range_m=900.0 + i, az_deg=10.0 + i, el_deg=2.0) for i in range(10)
    ]
    return wire.to_msgpack(
        wire.RadarReport(v=1, sensor_id=SENSOR, seq=0, t=1.764e9, detections=detections)
    )


def send(endpoint: str, count: int, keys: tuple[str, str] | None) -> None:
    """The sensor: wait for the subscription, then send `count` reports without loss."""
    context = zmq.Context()
    sock = context.socket(zmq.XPUB)
    sock.setsockopt(zmq.XPUB_NODROP, 1)
    sock.setsockopt(zmq.SNDHWM, 10_000)
    if keys is not None:
        public, secret = load_secret_key(keys[0], "sensor")
        server, _ = load_secret_key(keys[1], "core")
        sock.curve_serverkey, sock.curve_publickey, sock.curve_secretkey = server, public, secret
    sock.connect(endpoint)
    sock.recv()  # the core's subscription
    topic, body = f"report.{SENSOR}".encode(), payload()
    for _ in range(count):
        sock.send_multipart([topic, body])
    sock.close(linger=-1)
    context.term()


def free_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


async def receive(count: int, keys: Path | None) -> tuple[float, float]:
    """(wall s, receiver CPU s) for `count` messages through the IngestSocket."""
    endpoint = free_endpoint()
    context = zmq.asyncio.Context()
    curve = None
    sender_keys = None
    if keys is not None:
        sensor_public, _ = load_secret_key(secret_path(keys, SENSOR), "sensor")
        curve = CurveServer(context, secret_path(keys, "core"), {sensor_public.decode(): SENSOR})
        sender_keys = (str(secret_path(keys, SENSOR)), str(secret_path(keys, "core")))
    ingest = IngestSocket(endpoint, context, curve=curve)
    sender = mp.get_context("spawn").Process(target=send, args=(endpoint, count, sender_keys))
    sender.start()
    got = 0
    first = cpu0 = 0.0
    while got < count:
        batch = await asyncio.wait_for(ingest.batch(), 30)
        if got == 0:
            first, cpu0 = time.perf_counter(), time.process_time()
        got += len(batch)
    wall, cpu = time.perf_counter() - first, time.process_time() - cpu0
    sender.join(30)
    assert ingest.key_mismatch == 0 and ingest.received == count
    ingest.close()
    context.term()
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        keys = Path(folder)
        create_key_pair(keys, "core")
        create_key_pair(keys, SENSOR)
        results: dict[str, list[tuple[float, float]]] = {"plain": [], "curve": []}
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            results["plain"].append(asyncio.run(receive(args.messages, None)))
            results["curve"].append(asyncio.run(receive(args.messages, keys)))
    n = args.messages
    for name, runs in results.items():
        rate = statistics.median(n / wall for wall, _ in runs)
        cpu_us = statistics.median(cpu / n * 1e6 for _, cpu in runs)
        print(f"{name:6s} {rate:10,.0f} msg/s  {cpu_us:5.1f} us CPU/msg (median of {len(runs)})")


if __name__ == "__main__":
    main()
