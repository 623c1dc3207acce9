"""The camp's MQTT output read back: one decoder for every consumer of DESIGN.md's topics.

`cuas tail`, the drill scorer, the console, the gateways and the tests all subscribe to the
same topics; `decode_output` tells them which topic a message came on and hands them the
validated wire message, so no consumer parses topic strings or JSON of its own.
`AlertDeduplicator` drops the second copy of an alert transition (same `seq`): MQTT QoS 1
delivers at least once, and a core killed before the broker's PUBACK publishes its pending
transitions again after a restart; every consumer keeps one per camp.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Literal

from cuas import wire
from cuas.errors import WireError
from cuas.topics import Topics

OutputKind = Literal[
    "status",
    "tracks",
    "track_update",
    "alert_event",
    "alert_state",
    "alert_cleared",
    "sensor",
    "ack",
    "other",
]


@dataclass(frozen=True, slots=True)
class OutputMessage:
    """One message of the camp's output: its kind, the id in its topic, and the message.

    `key` is the alert id (`alert_state`, `alert_cleared`, `ack`) or sensor id (`sensor`);
    `message` is the decoded wire struct, or None for a cleared alert and for `other`.
    """

    kind: OutputKind
    key: str | None
    message: Any


_TYPES: dict[str, type] = {
    "status": wire.ServiceStatus,
    "tracks": wire.TrackCycle,
    "track_update": wire.TrackUpdate,
    "alert_event": wire.Alert,
    "alert_state": wire.Alert,
    "sensor": wire.SensorHealth,
}


def classify_topic(topics: Topics, topic: str) -> tuple[OutputKind, str | None]:
    """Which of the camp's topics `topic` is, and the alert or sensor id it names."""
    head = topics.prefix + "/"
    if not topic.startswith(head):
        return "other", None
    rel = topic[len(head) :]
    if rel == "status":
        return "status", None
    if rel == "tracks":
        return "tracks", None
    if rel == "tracks/updates":
        return "track_update", None
    if rel == "events/alerts":
        return "alert_event", None
    parts = rel.split("/")
    if parts[0] == "alerts" and len(parts) == 2 and parts[1]:
        return "alert_state", parts[1]
    if parts[0] == "alerts" and len(parts) == 3 and parts[1] and parts[2] == "ack":
        return "ack", parts[1]
    if parts[0] == "sensors" and len(parts) == 2 and parts[1]:
        return "sensor", parts[1]
    return "other", None


def decode_payload(payload: bytes, type_: type[Any]) -> Any:
    """A validated wire message of `type_` from JSON, or `WireError` (empty, bad, wrong `v`)."""
    if not payload:
        raise WireError("malformed", "empty payload")
    message = wire.from_json(payload, type_)
    if message.v != wire.VERSION:
        raise WireError("bad_version", f"schema version {message.v} (expected {wire.VERSION})")
    return message


def decode_output(topics: Topics, topic: str, payload: bytes) -> OutputMessage:
    """The message on `topic`, decoded and validated; `WireError` for a bad payload.

    An empty retained payload on `alerts/<id>` is the alert cleared from the broker
    (`alert_cleared`); acknowledgements are decoded with `wire.decode_ack`.
    """
    kind, key = classify_topic(topics, topic)
    if kind == "alert_state" and not payload:
        return OutputMessage("alert_cleared", key, None)
    if kind == "ack":
        return OutputMessage(kind, key, wire.decode_ack(payload))
    type_ = _TYPES.get(kind)
    return OutputMessage(kind, key, None if type_ is None else decode_payload(payload, type_))


@dataclass
class AlertDeduplicator:
    """Which alert transitions of one camp are new: a `seq` seen before is a duplicate.

    Bounded: the newest `capacity` numbers are remembered; anything at or below the highest
    number forgotten counts as seen (the core publishes in `seq` order, so a copy that old is
    a redelivery). An alert without `seq` (a core older than the field) is always new.
    """

    capacity: int = 100_000
    duplicates: int = 0  # copies dropped, for the consumer's counters
    _seen: set[int] = field(default_factory=set)
    _order: list[int] = field(default_factory=list)  # heap of the remembered numbers
    _forgotten: int = 0  # the highest number evicted

    def is_new(self, alert: wire.Alert) -> bool:
        """True the first time this transition is seen; False (and counted) after."""
        seq = alert.seq
        if seq is None:
            return True
        if seq <= self._forgotten or seq in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(seq)
        heapq.heappush(self._order, seq)
        if len(self._order) > self.capacity:
            oldest = heapq.heappop(self._order)
            self._seen.discard(oldest)
            self._forgotten = max(self._forgotten, oldest)
        return True
