"""A hostile peer on the ingest socket: fuzzed ZeroMQ messages, each of which the core must
reject exactly once (one counted reject per message) without harm to anything else.

Kinds, drawn uniformly:
- random bytes (never valid MessagePack: they start with 0xc1, a byte MessagePack never uses)
  on any topic;
- a valid report of a configured sensor with one field (of the envelope or of its one
  detection, which is then refused alone and the report with it) replaced by something
  hostile: NaN, infinities, 1e308, a negative, a string, a list, a
  map, a boolean, null, a 10 kB string, bytes; a mutation that happens to stay valid is
  drawn again, so every message is bad by construction;
- huge maps (20,000 keys) and deeply nested arrays (100,000 levels) as raw MessagePack;
- a valid report on a topic of the wrong shape (another sensor's, an unknown family, empty,
  with a suffix, upper case, a status topic);
- frames of the wrong count (one, three) and topics that are not UTF-8.
Used by tests/test_robustness_live.py (10,000 messages) and benchmarks/robustness_io.py
(100,000).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import msgpack
import numpy as np

from cuas import wire
from cuas.config import CampConfig, SensorConfig

HOSTILE_VALUES: tuple[Any, ...] = (
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1,
    -1.5,
    "x",
    [],
    {},
    True,
    None,
    "y" * 10_000,
    b"\x00\xff",
    [1.0, 2.0],
    {"nested": {"deeper": [math.nan]}},
)

_DETECTIONS: dict[str, dict[str, Any]] = {
    "radar": {"range_m": 500.0, "az_deg": 10.0, "el_deg": 5.0, "rcs_dbsm": -10.0},
    "rf": {"az_deg": 10.0, "freq_mhz": 2440.0, "protocol": "ocusync"},
    "camera": {"az_deg": 10.0, "el_deg": 5.0, "label": "drone", "confidence": 0.8},
    "remote_id": {"lat": 8.651, "lon": 24.501, "alt_m": 700.0, "uas_id": "SN-FUZZ-1"},
}


def valid_report(sensor: SensorConfig, seq: int, t: float) -> dict[str, Any]:
    """A valid report of `sensor` with one detection, as plain data."""
    return {
        "v": 1,
        "sensor_id": sensor.id,
        "seq": seq,
        "t": t,
        "kind": sensor.kind,
        "detections": [dict(_DETECTIONS[sensor.kind])],
    }


def _decodes(topic: bytes, payload: bytes) -> bool:
    """Whether the core could accept this message as a report of the topic's sensor."""
    try:
        report = wire.decode_report(payload)
    except wire.WireError:
        return False
    return topic == f"report.{report.sensor_id}".encode()


class HostilePeer:
    """Draws fuzzed messages (lists of frames) for a camp; see the module docstring."""

    def __init__(self, config: CampConfig, seed: int = 0) -> None:
        self.sensors = list(config.sensors)
        self.rng = np.random.default_rng(seed)
        self.drawn = 0
        self._big_map = msgpack.packb({f"k{i}": i for i in range(20_000)})
        self._kinds = (
            self._random_bytes,
            self._mutated,
            self._mutated,
            self._mutated,
            self._huge,
            self._odd_topic,
            self._bad_frames,
        )

    def messages(self, n: int) -> Iterator[list[bytes]]:
        """`n` fuzzed messages, each a list of ZeroMQ frames."""
        for _ in range(n):
            self.drawn += 1
            yield self._kinds[int(self.rng.integers(len(self._kinds)))]()

    def _sensor(self) -> SensorConfig:
        return self.sensors[int(self.rng.integers(len(self.sensors)))]

    def _topic(self) -> bytes:
        pick = int(self.rng.integers(6))
        sensor = self._sensor().id
        return [
            f"report.{sensor}",
            f"status.{sensor}",
            "report.",
            "",
            f"x{int(self.rng.integers(1 << 30))}.{sensor}",
            "report.ghost-" + str(int(self.rng.integers(1 << 30))),
        ][pick].encode()

    def _random_bytes(self) -> list[bytes]:
        size = int(self.rng.integers(0, 512))
        return [self._topic(), b"\xc1" + self.rng.bytes(size)]

    def _mutated(self) -> list[bytes]:
        sensor = self._sensor()
        topic = f"report.{sensor.id}".encode()
        for _ in range(100):
            report = valid_report(sensor, int(self.rng.integers(1 << 20)), time.time())
            target = report if self.rng.random() < 0.4 else report["detections"][0]
            key = list(target)[int(self.rng.integers(len(target)))]
            value = HOSTILE_VALUES[int(self.rng.integers(len(HOSTILE_VALUES)))]
            if key == "detections" and isinstance(value, list):
                continue  # a list of n bad detections is n rejects (each refused alone)
            target[key] = value
            payload = msgpack.packb(report, use_bin_type=True)
            if not _decodes(topic, payload):
                return [topic, payload]
        raise AssertionError("no invalid mutation in 100 draws")  # never: NaN is always one

    def _huge(self) -> list[bytes]:
        topic = f"report.{self._sensor().id}".encode()
        if self.rng.random() < 0.5:
            return [topic, self._big_map]
        depth = 100_000
        return [topic, b"\x91" * depth + b"\xc0"]  # [[[...[nil]...]]]

    def _odd_topic(self) -> list[bytes]:
        sensor = self._sensor()
        payload = msgpack.packb(valid_report(sensor, 1, time.time()))
        other = self._sensor().id
        topics = [
            f"report.{sensor.id}/x",
            f"REPORT.{sensor.id}",
            f"report.{sensor.id}.extra",
            f"status.{sensor.id}",
            "report",
            "",
            "report." + "z" * 5000,
            f"report.{other}" if other != sensor.id else f"report.{sensor.id} ",
        ]
        topic = topics[int(self.rng.integers(len(topics)))].encode()
        if _decodes(topic, payload):  # cannot happen: no topic above is the sensor's
            raise AssertionError(topic)
        return [topic, payload]

    def _bad_frames(self) -> list[bytes]:
        pick = int(self.rng.integers(3))
        if pick == 0:
            return [b"report.radar-1"]
        if pick == 1:
            return [b"report.radar-1", b"\x80", b"extra"]
        return [b"report.\xff\xfe", msgpack.packb({"v": 1})]
