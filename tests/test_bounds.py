"""Bounded everything: the cap on live tracks and the per-sensor intake limit."""

from __future__ import annotations

import msgspec
import numpy as np
from support.live import EXAMPLE

from cuas.config import load_config
from cuas.fusion.intake import IntakeLimiter
from cuas.fusion.pipeline import FusionPipeline
from cuas.io.recording import RecordingReader
from cuas.tracking.capacity import CapacityStats, enforce, over_capacity
from cuas.tracking.tracks import COASTING, CONFIRMED, TENTATIVE, TrackTable
from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR


def table_with(statuses: list[int], updates: list[float]) -> TrackTable:
    table = TrackTable(n_sensors=1)
    n = len(statuses)
    table.add(np.zeros((n, 6)), np.tile(np.eye(6), (n, 1, 1)), 0.0, 0)
    table.status[:n] = statuses
    table.t_update[:n] = updates
    return table


def test_within_the_cap_nothing_is_dropped() -> None:
    table = table_with([TENTATIVE] * 3, [1.0, 2.0, 3.0])
    assert not over_capacity(table, 3).any()


def test_tentative_tracks_go_first_the_stalest_first_then_coasting_then_confirmed() -> None:
    statuses = [CONFIRMED, TENTATIVE, COASTING, TENTATIVE, CONFIRMED, TENTATIVE]
    updates = [1.0, 5.0, 2.0, 3.0, 0.5, 4.0]
    table = table_with(statuses, updates)
    ids = table.track_id[: len(table)].copy()
    stats = CapacityStats()
    shed = enforce(table, 2, stats)
    # Three tentative (stalest first: ids 4, 6, 2), then the coasting one (id 3).
    assert sorted(shed.tolist()) == sorted([ids[3], ids[5], ids[1], ids[2]])
    assert sorted(table.track_id[: len(table)].tolist()) == [ids[0], ids[4]]
    assert (stats.tentative, stats.coasting, stats.confirmed, stats.total) == (3, 1, 0, 4)


def test_confirmed_tracks_are_shed_only_when_nothing_else_is_left() -> None:
    table = table_with([CONFIRMED] * 5, [5.0, 1.0, 4.0, 2.0, 3.0])
    stats = CapacityStats()
    enforce(table, 3, stats)
    assert sorted(table.t_update[: len(table)].tolist()) == [3.0, 4.0, 5.0]
    assert stats.confirmed == 2


def test_a_sensor_is_admitted_up_to_its_burst_then_at_its_rate() -> None:
    config = load_config(EXAMPLE)  # radar-1 at 1 Hz, factor 5, burst 2 s: 10 msg/s, 20 burst
    intake = IntakeLimiter(config)
    assert intake.rate_of("radar-1") == 10.0
    admitted = sum(intake.admit("report.radar-1", 100.0) for _ in range(50))
    assert admitted == 20 and intake.shed["radar-1"] == 30
    # One second later: ten more, and the other sensors were never touched.
    assert sum(intake.admit("report.radar-1", 101.0) for _ in range(50)) == 10
    assert intake.admit("report.cam-nw", 101.0) and intake.shed["cam-nw"] == 0


def test_unknown_and_odd_topics_share_one_bucket_so_the_table_cannot_grow() -> None:
    intake = IntakeLimiter(load_config(EXAMPLE))
    for k in range(1000):
        intake.admit(f"report.ghost-{k}", 100.0)
        intake.admit(f"weird{k}", 100.0)
    assert set(intake.shed) == {"?"} and len(intake._buckets) == 7


def test_a_clock_stepping_back_gives_no_extra_tokens() -> None:
    intake = IntakeLimiter(load_config(EXAMPLE))
    for _ in range(20):
        intake.admit("report.radar-1", 100.0)
    assert not intake.admit("report.radar-1", 50.0)  # the wall clock jumped back
    assert not intake.admit("report.radar-1", 100.0)


def test_the_pipeline_holds_the_cap_after_every_scan_and_counts_what_it_shed() -> None:
    config = load_config(SAMPLE_CONFIG)
    capped = msgspec.structs.replace(
        config, tracker=msgspec.structs.replace(config.tracker, max_tracks=2)
    )
    pipeline = FusionPipeline(capped)
    peak = 0
    for record in RecordingReader(SAMPLE_DIR / "camp-ingress.msgpack"):
        pipeline.submit(record.topic, record.payload, record.t_received)
        peak = max(peak, len(pipeline.tracker.tracks))
    assert peak == 2
    assert pipeline.counters().tracks_shed > 0
