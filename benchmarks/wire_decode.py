"""Decode-and-validate throughput of radar reports: msgspec typed decoding vs msgpack + checks.

The choice of msgspec for the wire schema rests on this: both paths must end with validated
detections (types, required fields, bounds, no NaN); msgspec does it in C while decoding.

    .venv/bin/python benchmarks/wire_decode.py
"""

from __future__ import annotations

import math
import statistics
import time

import msgpack

from cuas import wire

DETECTIONS = 184  # one scan of the N=200 benchmark


def report_bytes() -> bytes:
    dets = [
        {"range_m": 1000.0 + i, "az_deg": (i * 1.9) % 360.0, "el_deg": 2.5, "range_rate_mps": -4.0}
        for i in range(DETECTIONS)
    ]
    return msgpack.packb(
        {
            "v": 1,
            "sensor_id": "radar-1",
            "seq": 1,
            "t": 1.764e9,
            "kind": "radar",
            "detections": dets,
        }
    )


def checked_float(d: dict, key: str, lo: float, hi: float) -> float:
    v = d[key]
    if not isinstance(v, (int, float)) or isinstance(v, bool) or math.isnan(v) or not lo <= v <= hi:
        raise ValueError(key)
    return float(v)


def decode_by_hand(data: bytes) -> list[tuple[float, float, float]]:
    """What msgpack plus hand-written validation has to do for the same guarantees."""
    m = msgpack.unpackb(data, raw=False)
    if not isinstance(m, dict) or m.get("v") != 1 or m.get("kind") != "radar":
        raise ValueError("header")
    if not isinstance(m.get("sensor_id"), str) or not isinstance(m.get("seq"), int):
        raise ValueError("header")
    checked_float(m, "t", 0.0, 1e11)
    out = []
    for d in m["detections"]:
        if not isinstance(d, dict):
            raise ValueError("detection")
        out.append(
            (
                checked_float(d, "range_m", 1e-9, 1e6),
                checked_float(d, "az_deg", 0.0, 360.0),
                checked_float(d, "el_deg", -90.0, 90.0),
            )
        )
        if "range_rate_mps" in d:
            checked_float(d, "range_rate_mps", -3000.0, 3000.0)
    return out


def rate(fn, data: bytes, repeat: int = 7, n: int = 300) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(data)
        samples.append(n * DETECTIONS / (time.perf_counter() - t0))
    return statistics.median(samples)


def main() -> None:
    data = report_bytes()
    typed = rate(wire.decode_report, data)
    by_hand = rate(decode_by_hand, data)
    print(f"msgspec typed decode      {typed:12,.0f} detections/s")
    print(f"msgpack + Python checks   {by_hand:12,.0f} detections/s")
    print(f"ratio                     {typed / by_hand:12.1f}x  (median of 7 runs each)")


if __name__ == "__main__":
    main()
