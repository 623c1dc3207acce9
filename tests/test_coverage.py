"""A sensor's field of regard, and what an uncertain estimate may be inside it."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry

FRAME = LocalFrame(8.65, 24.50, 600.0)
REACH = 2000.0
CAMERA = SensorGeometry(FRAME.sensor_frame(8.65, 24.50, 600.0), 0.0, REACH, 0.0, 360.0, -5.0, 45.0)


def along(bearing_deg: float, distance: float) -> np.ndarray:
    """A point `distance` from the sensor on `bearing_deg`, at 1.1 degrees of elevation."""
    b = np.radians(bearing_deg)
    return np.array([[distance * np.sin(b), distance * np.cos(b), 0.02 * distance]])


def spread_along(point: np.ndarray, sigma: float, across: float = 5.0) -> np.ndarray:
    """A covariance with `sigma` along the sensor's line to `point` and `across` elsewhere."""
    u = point[0] / np.linalg.norm(point[0])
    return (across**2 * np.eye(3) + (sigma**2 - across**2) * np.outer(u, u))[None]


@given(st.floats(0.0, 360.0), st.floats(100.0, 1990.0), st.floats(1.0, 500.0))
def test_an_estimate_inside_the_field_may_be_there_whatever_its_uncertainty(
    bearing: float, distance: float, sigma: float
) -> None:
    p = along(bearing, distance)
    assert CAMERA.covers(p)[0]
    assert CAMERA.may_cover(p, spread_along(p, sigma))[0]


@given(st.floats(0.0, 360.0), st.floats(10.0, 2000.0), st.floats(5.0, 300.0))
def test_beyond_the_range_only_an_estimate_within_three_sigmas_of_it_may_be_inside(
    bearing: float, beyond: float, sigma: float
) -> None:
    p = along(bearing, (REACH + beyond) / np.sqrt(1.0 + 0.02**2))
    excess = float(np.linalg.norm(p)) - REACH
    assert not CAMERA.covers(p)[0]
    if abs(excess - 3.0 * sigma) > 1.0:  # not on the edge, where rounding decides
        assert CAMERA.may_cover(p, spread_along(p, sigma))[0] == (excess < 3.0 * sigma)


def test_uncertainty_across_the_line_of_sight_does_not_bring_an_estimate_in() -> None:
    p = along(30.0, REACH + 200.0)
    assert not CAMERA.may_cover(p, spread_along(p, sigma=10.0, across=1000.0))[0]
