"""Exactly-once for consumers: `AlertDeduplicator` drops a transition whose `seq` it has seen."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas import wire
from cuas.io.mqtt_output import AlertDeduplicator

BASE = wire.Alert(
    v=1, alert_id="alpha-1764000000-1", track_id=3, level="warning", state="raised",
    zone="approach", reason="Drone.", t_raised=1764000000.0, t=1764000000.0, lat=8.65,
    lon=24.5, alt_m=700.0, eta_s=None, acknowledged_by=None,
)  # fmt: skip


def alert(seq: int | None) -> wire.Alert:
    return msgspec.structs.replace(BASE, seq=seq)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 60), max_size=200))
def test_any_redelivery_pattern_yields_each_transition_once_in_first_arrival_order(
    arrivals: list[int],
) -> None:
    dedupe = AlertDeduplicator()
    kept = [seq for seq in arrivals if dedupe.is_new(alert(seq))]
    assert kept == list(dict.fromkeys(arrivals))
    assert dedupe.duplicates == len(arrivals) - len(kept)


def test_a_core_resending_its_unacknowledged_tail_after_a_restart_is_seen_once() -> None:
    dedupe = AlertDeduplicator()
    delivered = [1, 2, 3, 4, 3, 4, 5, 6]  # 3 and 4 were journaled but not PUBACKed
    assert [s for s in delivered if dedupe.is_new(alert(s))] == [1, 2, 3, 4, 5, 6]


def test_memory_is_bounded_and_anything_older_than_what_it_remembers_is_a_duplicate() -> None:
    dedupe = AlertDeduplicator(capacity=100)
    assert all(dedupe.is_new(alert(s)) for s in range(1, 1001))
    assert len(dedupe._seen) == 100
    assert not dedupe.is_new(alert(5))  # forgotten, but older than the newest forgotten
    assert dedupe.is_new(alert(1001))


def test_an_alert_without_seq_from_an_older_core_is_always_passed_on() -> None:
    dedupe = AlertDeduplicator()
    assert dedupe.is_new(alert(None)) and dedupe.is_new(alert(None))
