"""Per-sensor intake limits: a token bucket per configured sensor, so one flooding sensor
(a fault, or an attacker speaking for it) is shed while the others keep their latency.

Each sensor may send `zmq.intake_rate_factor` times its configured rate (one report per
`update_period_s`, plus a heartbeat a second), in bursts of up to `zmq.intake_burst_s` at that
rate. The check costs a dictionary lookup and a few float operations and reads nothing of the
payload, so shedding is cheaper than decoding. Messages naming no configured sensor share
one bucket (`?`) sized like the busiest sensor, so random topics cannot grow the table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cuas import topics
from cuas.config import CampConfig

UNKNOWN = "?"
HEARTBEAT_HZ = 1.0  # allowance for status messages (the contract sends one every 2 s)


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    t: float | None = None

    def take(self, now: float) -> bool:
        if self.t is not None and now > self.t:
            self.tokens = min(self.capacity, self.tokens + (now - self.t) * self.rate)
        self.t = now if self.t is None else max(self.t, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class IntakeLimiter:
    """Admits or sheds each ingest message by its sensor's token bucket (see module doc)."""

    def __init__(self, config: CampConfig) -> None:
        factor = config.zmq.intake_rate_factor
        self.enabled = factor > 0.0
        self.shed: Counter[str] = Counter()  # messages shed, by sensor
        self._buckets: dict[str, _Bucket] = {}
        rates = {s.id: factor * (1.0 / s.update_period_s + HEARTBEAT_HZ) for s in config.sensors}
        rates[UNKNOWN] = max(rates.values(), default=factor * (1.0 + HEARTBEAT_HZ))
        for sensor_id, rate in rates.items():
            capacity = max(2.0, rate * config.zmq.intake_burst_s)
            self._buckets[sensor_id] = _Bucket(rate, capacity, capacity)

    def sensor_of(self, topic: str) -> str:
        """The configured sensor a topic speaks for, or `?`."""
        _, sensor_id = topics.sensor_topic_parts(topic)
        return sensor_id if sensor_id in self._buckets else UNKNOWN

    def rate_of(self, sensor_id: str) -> float:
        return self._buckets[sensor_id if sensor_id in self._buckets else UNKNOWN].rate

    def admit(self, topic: str, now: float) -> bool:
        """Whether the message on `topic`, received at wall time `now`, is within its
        sensor's limit; a shed message is counted here (the caller counts the reject)."""
        if not self.enabled:
            return True
        sensor_id = self.sensor_of(topic)
        if self._buckets[sensor_id].take(now):
            return True
        self.shed[sensor_id] += 1
        return False
