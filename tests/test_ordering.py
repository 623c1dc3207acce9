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
