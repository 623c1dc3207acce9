"""The reorder window: measurement-time order out, late reports refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cuas.fusion.ordering import ReorderBuffer


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1000), st.floats(0, 0.5)), max_size=60))
def test_latency_within_the_window_is_released_in_time_order(items) -> None:
    """Reports that arrive at most `window` after measurement come out sorted, none late."""
    buffer: ReorderBuffer[int] = ReorderBuffer(window_s=0.5)
    arrivals = sorted(((t + delay, t, i) for i, (t, delay) in enumerate(items)))
    released = []
    for arrival, t, i in arrivals:
        # The clock of the buffer is the newest measurement time; advance it to the arrival
        # time the way a live service ticks it, then push.
        released += list(buffer.release(arrival - 0.5))
        assert buffer.push(t, i)
    released += list(buffer.flush())
    times = [t for t, _ in released]
    assert times == sorted(times)
    assert sorted(i for _, i in released) == list(range(len(items)))


def test_a_report_older_than_what_was_released_is_late() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window_s=1.0)
    assert buffer.push(10.0, "a")
    assert buffer.push(12.0, "b")
    assert [x for _, x in buffer.release()] == ["a"]  # newest 12 - window 1 = 11
    assert not buffer.push(9.0, "late")
    assert buffer.push(11.5, "in time")
    assert [x for _, x in buffer.flush()] == ["in time", "b"]


def test_ties_keep_arrival_order() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window_s=0.0)
    for name in ("first", "second", "third"):
        buffer.push(5.0, name)
    assert [x for _, x in buffer.flush()] == ["first", "second", "third"]


def test_a_lone_sensor_is_released_at_once() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window_s=0.5, sources=["radar"])
    buffer.push(10.0, "scan", "radar")
    assert [x for _, x in buffer.release(now=10.01)] == ["scan"]


def test_sensors_wait_for_each_other_but_never_longer_than_the_window() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window_s=0.5, sources=["radar", "camera"])
    buffer.push(10.0, "radar@10.0", "radar")
    buffer.push(10.2, "camera@10.2", "camera")
    # The radar has not reported past 10.0, so the camera's 10.2 must wait for it...
    assert [x for _, x in buffer.release(now=10.3)] == ["radar@10.0"]
    buffer.push(10.25, "radar@10.25", "radar")
    assert [x for _, x in buffer.release(now=10.3)] == ["camera@10.2"]
    buffer.push(10.4, "camera@10.4", "camera")
    assert [x for _, x in buffer.release(now=10.5)] == ["radar@10.25"]
    # The camera's 10.4 waits for the radar until the radar is silent longer than the window.
    assert [x for _, x in buffer.release(now=10.89)] == []
    assert [x for _, x in buffer.release(now=10.91)] == ["camera@10.4"]


def test_a_configured_sensor_that_never_reported_delays_others_by_the_window() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window_s=0.5, sources=["radar", "rf"])
    buffer.push(10.0, "radar@10", "radar")
    assert list(buffer.release(now=10.2)) == []
    assert [x for _, x in buffer.release(now=10.5)] == ["radar@10"]


def test_each_sensor_is_waited_for_only_as_long_as_its_own_latency() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(
        window_s=1.0,
        sources={"radar": 0.05, "remote_id": None},  # None: the 1 s window
    )
    buffer.push(10.0, "radar@10", "radar")
    buffer.push(10.0, "rid@10", "remote_id")
    buffer.push(10.3, "radar@10.3", "radar")
    # Remote ID has reported up to 10.0 and may be up to 1 s late: 10.3 waits for it.
    assert [x for _, x in buffer.release(now=10.31)] == ["radar@10", "rid@10"]
    assert [x for _, x in buffer.release(now=11.29)] == []
    assert [x for _, x in buffer.release(now=11.31)] == ["radar@10.3"]


def _adaptive(delays: dict[str, list[float]]) -> ReorderBuffer[str]:
    buffer: ReorderBuffer[str] = ReorderBuffer(
        window_s=0.5, sources={"radar": 0.2, "camera": None}, adaptive=True, margin_s=0.005
    )
    for source, seen in delays.items():
        for delay in seen:
            buffer.observe(source, delay)
    return buffer


def test_a_sensor_that_shows_short_delays_is_waited_for_only_that_long() -> None:
    buffer = _adaptive({"radar": [0.002, 0.004] * 32, "camera": [0.010] * 64})
    assert buffer.latency_bound("radar") == 0.004 + 0.005
    assert buffer.latency_bound("camera") == 0.010 + 0.005
    buffer.push(10.0, "radar@10", "radar")
    buffer.push(10.1, "camera@10.1", "camera")
    # The radar is waited for 9 ms, not its configured 200 ms: 10.1 goes out at 10.11.
    assert [x for _, x in buffer.release(now=10.05)] == ["radar@10"]
    assert [x for _, x in buffer.release(now=10.108)] == []
    assert [x for _, x in buffer.release(now=10.11)] == ["camera@10.1"]


def test_the_adapted_wait_never_exceeds_the_configured_bound_nor_adapts_on_few_samples() -> None:
    buffer = _adaptive({"radar": [3.0] * 64, "camera": [0.001] * 10})
    assert buffer.latency_bound("radar") == 0.2  # its latency_s caps what it shows
    assert buffer.latency_bound("camera") == 0.5  # ten delays are too few: the window holds


def test_a_report_later_than_the_adapted_wait_is_late_for_the_caller_to_retrodict() -> None:
    buffer = _adaptive({"radar": [0.001] * 64, "camera": [0.001] * 64})
    buffer.push(10.0, "camera@10", "camera")
    buffer.push(10.2, "radar@10.2", "radar")
    assert [x for _, x in buffer.release(now=10.21)] == ["camera@10", "radar@10.2"]
    assert not buffer.push(9.9, "camera@9.9", "camera")  # 300 ms late: refused, not reordered


def test_without_adaptation_the_delays_change_nothing() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window_s=0.5, sources={"radar": 0.2})
    for _ in range(64):
        buffer.observe("radar", 0.001)
    assert buffer.latency_bound("radar") == 0.2


def test_due_says_when_the_oldest_item_goes_out_if_nothing_else_arrives() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(window_s=0.5, sources={"radar": 0.05, "rf": 0.2})
    buffer.push(10.0, "radar@10", "radar")
    assert buffer.oldest == 10.0
    assert buffer.due(10.0) == 10.2  # the radar has delivered 10.0; the RF may still
    assert list(buffer.release(now=10.19)) == []
    assert [x for _, x in buffer.release(now=buffer.due(10.0))] == ["radar@10"]
    assert buffer.oldest is None
