"""Zone geometry: containment with altitude bands and time to the perimeter."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas.config import ZoneConfig
from cuas.fusion.zones import ZoneSet, point_in_polygon, time_to_boundary
from cuas.geodesy import LocalFrame

SQUARE = np.array([[-100.0, -100.0], [100.0, -100.0], [100.0, 100.0], [-100.0, 100.0]])
# An L-shaped (concave) polygon: the square minus its north-east quarter.
ELL = np.array(
    [[-100.0, -100.0], [100.0, -100.0], [100.0, 0.0], [0.0, 0.0], [0.0, 100.0], [-100.0, 100.0]]
)


def test_points_inside_and_outside_a_concave_polygon() -> None:
    points = np.array([[-50.0, -50.0], [50.0, -50.0], [-50.0, 50.0], [50.0, 50.0], [150.0, 0.0]])
    assert point_in_polygon(points, ELL).tolist() == [True, True, True, False, False]


@settings(max_examples=200, deadline=None)
@given(st.floats(-300, 300), st.floats(-300, 300))
def test_point_in_square_agrees_with_coordinates(x: float, y: float) -> None:
    inside = bool(point_in_polygon(np.array([[x, y]]), SQUARE)[0])
    if abs(x) < 99.999 and abs(y) < 99.999:
        assert inside
    elif abs(x) > 100.001 or abs(y) > 100.001:
        assert not inside


def test_time_to_boundary_known_values() -> None:
    points = np.array([[-300.0, 0.0], [-300.0, 0.0], [-300.0, 500.0], [0.0, 0.0]])
    velocities = np.array([[10.0, 0.0], [-10.0, 0.0], [10.0, 0.0], [0.0, 20.0]])
    eta = time_to_boundary(points, velocities, SQUARE)
    np.testing.assert_allclose(eta[:2], [20.0, np.inf])
    assert eta[2] == np.inf  # passes north of the square
    np.testing.assert_allclose(eta[3], 5.0)  # from inside: time to leave


@settings(max_examples=200, deadline=None)
@given(st.floats(-2000, 2000), st.floats(-2000, 2000), st.floats(0, 2 * np.pi), st.floats(1, 40))
def test_a_track_flown_for_its_eta_is_on_the_boundary(
    x: float, y: float, heading: float, speed: float
) -> None:
    p = np.array([[x, y]])
    v = speed * np.array([[np.sin(heading), np.cos(heading)]])
    eta = time_to_boundary(p, v, SQUARE)[0]
    if np.isfinite(eta):
        q = p[0] + v[0] * eta
        on_edge = (np.isclose(np.abs(q), 100.0, atol=1e-6) & (np.abs(q) <= 100.0 + 1e-6)).any()
        assert on_edge and np.all(np.abs(q) <= 100.0 + 1e-6)


def test_zone_set_projects_lat_lon_and_applies_altitude_bands() -> None:
    frame = LocalFrame(8.65, 24.50, 600.0)
    half = 0.0009  # ~100 m
    polygon = [
        (8.65 + half, 24.50 - half),
        (8.65 + half, 24.50 + half),
        (8.65 - half, 24.50 + half),
        (8.65 - half, 24.50 - half),
    ]
    zones = ZoneSet(
        [
            ZoneConfig(name="perimeter", polygon=polygon, level="critical", ceiling_m=300.0),
            ZoneConfig(name="low", polygon=polygon, level="warning", floor_m=-10.0, ceiling_m=50.0),
        ],
        frame,
    )
    inside = zones.contains(
        np.array([[0.0, 0.0, 100.0], [0.0, 0.0, 20.0], [0.0, 0.0, 400.0], [500.0, 0.0, 20.0]])
    )
    assert inside.tolist() == [[True, False], [True, True], [False, False], [False, False]]
    eta = zones.time_to_perimeter(
        np.array([[-1000.0, 0.0, 50.0], [0.0, 0.0, 50.0]]),
        np.array([[10.0, 0.0, 0.0], [10.0, 0.0, 0.0]]),
    )
    assert 89.0 < eta[0] < 91.0 and eta[1] == 0.0
