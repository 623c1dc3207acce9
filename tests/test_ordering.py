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


def _backlog_buffer() -> ReorderBuffer[str]:
    """A radar with a 3 s bound and a camera that never reports, as the live core keeps them."""
    return ReorderBuffer(window_s=3.0, sources=["radar", "camera"])


def test_a_backlog_is_waited_for_while_the_rest_of_it_may_still_be_arriving() -> None:
    """A radar flushes ten seconds of queued reports: the first reaches the core alone, the
    rest is still in flight when the clock ticks. The silent camera alone would let the
    clock go to now - 3 s, past the radar's next reports; the radar's backlog holds it at
    the last report the radar delivered, so the rest comes in order, none of it late."""
    buffer = _backlog_buffer()
    assert buffer.push(100.0, "radar@100", "radar", received=110.0)  # 10 s old: a backlog
    assert [x for _, x in buffer.release(now=110.0)] == ["radar@100"]
    assert buffer.horizon(110.05) == 100.0  # the tick: not 107.05
    assert buffer.push(100.1, "radar@100.1", "radar", received=110.08)
    assert buffer.push(100.2, "radar@100.2", "radar", received=110.08)
    assert [x for _, x in buffer.release(now=110.08)] == ["radar@100.1", "radar@100.2"]


def test_a_backlog_holds_the_others_no_longer_than_its_sensors_bound() -> None:
    buffer = _backlog_buffer()
    buffer.push(100.0, "radar@100", "radar", received=110.0)
    buffer.push(109.0, "camera@109", "camera", received=109.1)
    assert [x for _, x in buffer.release(now=112.99)] == ["radar@100"]
    assert buffer.due(109.0) == 113.0  # when the radar's backlog stops holding the camera
    # Then the radar is a sensor silent for its bound like any other, and what it sends
    # older than what went out is late, as ever.
    assert [x for _, x in buffer.release(now=113.0)] == ["camera@109"]
    assert not buffer.push(105.0, "radar@105", "radar", received=113.0)


def test_a_report_on_time_ends_a_backlog() -> None:
    buffer = _backlog_buffer()
    buffer.push(100.0, "radar@100", "radar", received=110.0)
    buffer.push(109.5, "radar@109.5", "radar", received=110.1)  # 0.6 s: its queue is through
    assert buffer.horizon(110.2) == 107.2  # the wall clock counts again


def test_a_backlog_past_its_bound_holds_no_longer_and_one_after_a_silence_holds_again() -> None:
    buffer = _backlog_buffer()
    buffer.push(100.0, "radar@100", "radar", received=110.0)
    buffer.push(100.1, "radar@100.1", "radar", received=112.0)
    assert buffer.horizon(112.9) == 100.1
    assert buffer.horizon(113.5) == 110.5  # 3 s after the backlog began, as if silent
    # Silent for longer than its bound, it flushes another queue: held again.
    buffer.push(100.2, "radar@100.2", "radar", received=120.0)
    assert buffer.horizon(120.5) == 100.2


def test_reports_within_their_bound_hold_nothing_nor_does_a_replay() -> None:
    buffer = _backlog_buffer()
    buffer.push(100.0, "radar@100", "radar", received=102.9)  # late for a LAN, within 3 s
    assert buffer.horizon(103.0) == 100.0  # the camera's 3 s bound, as before
    assert buffer.horizon(104.0) == 101.0
    replay = _backlog_buffer()
    replay.push(100.0, "radar@100", "radar", received=110.0)
    replay.push(106.0, "camera@106", "camera", received=110.0)
    assert replay.horizon() == 103.0  # the newest time seen less 3 s: no wall clock to wait by
