"""Specification tests for geodesy (DESIGN.md, "Frames and units").

Known values, closed-form WGS84 checks and pymap3d as the oracle for the sensor frames:
a sensor's azimuth/elevation are measured in its own local ENU frame, not the camp's.
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cuas.geodesy import LocalFrame, SensorFrame, wrap_deg, wrap_rad

SETTINGS = settings(max_examples=200, deadline=None)

WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

ORIGIN = (8.65, 24.50, 600.0)  # camp alpha
CAMP = LocalFrame(*ORIGIN)
# Sensors offset from the origin by up to ~20 km, so their frames are visibly tilted.
SENSORS = [
    (8.65, 24.50, 615.0),
    (8.65226, 24.50318, 610.0),
    (8.64774, 24.49682, 612.0),
    (8.83, 24.50, 900.0),
    (8.65, 24.68, 450.0),
    (8.52, 24.37, 600.0),
]


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Small-distance horizontal separation in metres (good to < 1e-6 relative near 1 mm)."""
    lat = math.radians((lat1 + lat2) / 2)
    m = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * math.sin(lat) ** 2) ** 1.5
    n = WGS84_A / math.sqrt(1 - WGS84_E2 * math.sin(lat) ** 2)
    dn = math.radians(lat2 - lat1) * m
    de = math.radians(lon2 - lon1) * n * math.cos(lat)
    return math.hypot(de, dn)


# --- LocalFrame ------------------------------------------------------------------------


def test_origin_is_zero() -> None:
    np.testing.assert_allclose(CAMP.to_enu(*ORIGIN), [0.0, 0.0, 0.0], atol=1e-9)
    lat, lon, alt = CAMP.to_geodetic([0.0, 0.0, 0.0])
    assert (float(lat), float(lon)) == pytest.approx(ORIGIN[:2], abs=1e-12)
    assert float(alt) == pytest.approx(ORIGIN[2], abs=1e-9)


def test_straight_up_is_up() -> None:
    np.testing.assert_allclose(CAMP.to_enu(8.65, 24.50, 700.0), [0.0, 0.0, 100.0], atol=1e-6)


def test_point_on_equator_east_matches_closed_form() -> None:
    """On the equator at h=0 the ENU of (0, dlon, 0) is (a sin dlon, 0, a cos dlon - a)."""
    frame = LocalFrame(0.0, 0.0, 0.0)
    dlon = 0.01
    expected = [
        WGS84_A * math.sin(math.radians(dlon)),
        0.0,
        WGS84_A * (math.cos(math.radians(dlon)) - 1),
    ]
    np.testing.assert_allclose(frame.to_enu(0.0, dlon, 0.0), expected, atol=1e-6)


def test_1000_m_north_drops_below_the_horizon() -> None:
    """A point 1000 m north at the origin's height lies ~0.08 m below the origin's horizon."""
    # geodetic point whose ENU north is 1000 m, then put back at the origin's height
    lat, lon, _ = pymap3d.enu2geodetic(0.0, 1000.0, 0.0, *ORIGIN)
    e, n, u = CAMP.to_enu(lat, lon, ORIGIN[2])
    assert e == pytest.approx(0.0, abs=1e-6)
    assert n == pytest.approx(1000.0, abs=1e-3)
    # earth-curvature drop d^2 / 2R with the meridian radius of curvature at the origin
    lat0 = math.radians(ORIGIN[0])
    m = WGS84_A * (1 - WGS84_E2) / (1 - WGS84_E2 * math.sin(lat0) ** 2) ** 1.5 + ORIGIN[2]
    assert u == pytest.approx(-(1000.0**2) / (2 * m), abs=1e-4)
    assert -0.082 < u < -0.076
    assert [e, n, u] == pytest.approx(
        list(pymap3d.geodetic2enu(lat, lon, ORIGIN[2], *ORIGIN)), abs=1e-6
    )


def test_to_enu_is_vectorised() -> None:
    lat = np.array([8.65, 8.66, 8.64])
    lon = np.array([24.50, 24.51, 24.49])
    alt = np.array([600.0, 700.0, 500.0])
    enu = CAMP.to_enu(lat, lon, alt)
    assert enu.shape == (3, 3)
    for i in range(3):
        np.testing.assert_allclose(enu[i], CAMP.to_enu(lat[i], lon[i], alt[i]), atol=1e-9)
    back = CAMP.to_geodetic(enu)
    np.testing.assert_allclose(back[0], lat, atol=1e-10)
    np.testing.assert_allclose(back[2], alt, atol=1e-6)


origins = st.tuples(st.floats(-80.0, 80.0), st.floats(-180.0, 180.0), st.floats(-400.0, 5000.0))
offsets_m = st.tuples(
    st.floats(-35_000.0, 35_000.0), st.floats(-35_000.0, 35_000.0), st.floats(-500.0, 10_000.0)
)


@SETTINGS
@given(origins, offsets_m)
def test_geodetic_enu_geodetic_round_trip_within_1mm(
    origin: tuple[float, float, float], offset: tuple[float, float, float]
) -> None:
    frame = LocalFrame(*origin)
    # a geodetic point within ~50 km of the origin
    lat, lon, alt = (float(x) for x in pymap3d.enu2geodetic(*offset, *origin))
    enu = frame.to_enu(lat, lon, alt)
    assert np.linalg.norm(enu[:2]) < 50_000.0
    lat2, lon2, alt2 = (float(x) for x in frame.to_geodetic(enu))
    assert metres_between(lat, lon, lat2, lon2) < 1e-3
    assert abs(alt2 - alt) < 1e-3
    # and the other way round
    np.testing.assert_allclose(frame.to_enu(lat2, lon2, alt2), enu, atol=1e-3)


@SETTINGS
@given(origins, offsets_m)
def test_enu_geodetic_enu_round_trip_within_1mm(
    origin: tuple[float, float, float], offset: tuple[float, float, float]
) -> None:
    frame = LocalFrame(*origin)
    lat, lon, alt = frame.to_geodetic(list(offset))
    np.testing.assert_allclose(frame.to_enu(lat, lon, alt), offset, atol=1e-3)


@SETTINGS
@given(
    origins, st.integers(0, 40), st.sampled_from([1.0, 1e3, 1e5, 1e7]), st.integers(0, 2**32 - 1)
)
def test_to_geodetic_of_many_points_is_pymap3d_to_the_bit(
    origin: tuple[float, float, float], n: int, scale: float, seed: int
) -> None:
    """Arrays of points take pymap3d's arithmetic without its overhead: with the pymap3d it
    repeats (3.2), its results exactly, for the table's column slices too (strided); with
    another, its results to a millimetre."""
    frame = LocalFrame(*origin)
    table = np.random.default_rng(seed).normal(size=(n, 6)) * scale
    enu = table[:, :3]
    got = frame.to_geodetic(enu)
    expected = pymap3d.enu2geodetic(enu[:, 0], enu[:, 1], enu[:, 2], *origin)
    same_code = pymap3d.__version__.startswith("3.2.")
    for a, b, atol in zip(got, expected, (1e-8, 1e-8, 1e-3), strict=True):
        assert a.dtype == np.float64
        if same_code:
            assert a.tobytes() == np.asarray(b).tobytes()
        else:
            np.testing.assert_allclose(a, b, rtol=0.0, atol=atol)


def test_to_geodetic_near_the_earths_axis_is_pymap3d() -> None:
    """A point at the earth's centre or on its axis is pymap3d's special case: its own code."""
    frame = LocalFrame(90.0, 0.0, 0.0)
    enu = np.array([[0.0, 0.0, -6356752.314245179], [0.0, 0.0, 1000.0], [10.0, 0.0, 0.0]])
    got = frame.to_geodetic(enu)
    expected = pymap3d.enu2geodetic(enu[:, 0], enu[:, 1], enu[:, 2], 90.0, 0.0, 0.0)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# --- SensorFrame -----------------------------------------------------------------------


def oracle_aer_to_camp(
    sensor: tuple[float, float, float], az: float, el: float, rng: float
) -> np.ndarray:
    lat, lon, alt = pymap3d.aer2geodetic(az, el, rng, *sensor)
    return np.array(pymap3d.geodetic2enu(lat, lon, alt, *ORIGIN), dtype=float)


def test_sensor_at_origin_is_the_camp_frame() -> None:
    frame = CAMP.sensor_frame(*ORIGIN)
    np.testing.assert_allclose(frame.position, [0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(frame.rotation, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("sensor", SENSORS)
def test_sensor_frame_is_a_rigid_motion(sensor: tuple[float, float, float]) -> None:
    frame = CAMP.sensor_frame(*sensor)
    np.testing.assert_allclose(frame.position, CAMP.to_enu(*sensor), atol=1e-9)
    np.testing.assert_allclose(frame.rotation @ frame.rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(frame.rotation) == pytest.approx(1.0, abs=1e-12)
    p = np.array([[100.0, -250.0, 30.0], [-4000.0, 1200.0, 500.0]])
    np.testing.assert_allclose(frame.to_camp(frame.to_local(p)), p, atol=1e-9)


@pytest.mark.parametrize("sensor", SENSORS)
@pytest.mark.parametrize(
    "aer",
    [(0.0, 0.0, 1000.0), (90.0, 5.0, 2500.0), (225.0, -2.0, 800.0), (359.5, 45.0, 20_000.0),
     (180.0, 89.0, 3000.0), (123.4, -30.0, 50_000.0)],
)  # fmt: skip
def test_aer_to_enu_matches_pymap3d(
    sensor: tuple[float, float, float], aer: tuple[float, float, float]
) -> None:
    frame = CAMP.sensor_frame(*sensor)
    got = frame.aer_to_enu(*aer)
    np.testing.assert_allclose(got, oracle_aer_to_camp(sensor, *aer), atol=1e-3)
    az, el, rng = (float(x) for x in frame.enu_to_aer(got))
    assert wrap_deg(az - aer[0]) == pytest.approx(0.0, abs=1e-7)
    assert (el, rng) == pytest.approx(aer[1:], abs=1e-7)


def test_tilt_between_sensor_and_camp_frames_is_modelled() -> None:
    """20 km north of the origin, the camp's 'north horizontal' points ~0.18 deg down."""
    sensor = SENSORS[3]
    frame = CAMP.sensor_frame(*sensor)
    naive = CAMP.to_enu(*sensor) + np.array([0.0, 1000.0, 0.0])
    proper = frame.aer_to_enu(0.0, 0.0, 1000.0)
    assert np.linalg.norm(proper - naive) > 2.0  # ~3 m at 1 km: not negligible
    np.testing.assert_allclose(proper, oracle_aer_to_camp(sensor, 0.0, 0.0, 1000.0), atol=1e-3)


def test_aer_to_enu_is_vectorised() -> None:
    frame = CAMP.sensor_frame(*SENSORS[1])
    az = np.array([0.0, 90.0, 270.0, 45.0])
    el = np.array([0.0, 10.0, -5.0, 60.0])
    rng = np.array([100.0, 1000.0, 2000.0, 500.0])
    enu = frame.aer_to_enu(az, el, rng)
    assert enu.shape == (4, 3)
    for i in range(4):
        np.testing.assert_allclose(enu[i], frame.aer_to_enu(az[i], el[i], rng[i]), atol=1e-9)
    az2, el2, rng2 = frame.enu_to_aer(enu)
    assert az2.shape == el2.shape == rng2.shape == (4,)
    np.testing.assert_allclose(wrap_deg(az2 - az), 0.0, atol=1e-9)
    np.testing.assert_allclose(rng2, rng, rtol=1e-12)


@SETTINGS
@given(
    st.sampled_from(SENSORS),
    st.floats(0.0, 360.0, exclude_max=True),
    st.floats(-89.0, 89.0, exclude_min=True, exclude_max=True),
    st.floats(1.0, 50_000.0, exclude_min=True, exclude_max=True),
)
def test_enu_to_aer_inverts_aer_to_enu(
    sensor: tuple[float, float, float], az: float, el: float, rng: float
) -> None:
    frame = CAMP.sensor_frame(*sensor)
    enu = frame.aer_to_enu(az, el, rng)
    az2, el2, rng2 = (float(x) for x in frame.enu_to_aer(enu))
    assert 0.0 <= az2 <= 360.0
    assert abs(float(wrap_deg(az2 - az))) < 1e-7
    assert abs(el2 - el) < 1e-7
    assert abs(rng2 - rng) < 1e-6 * max(1.0, rng)


@SETTINGS
@given(
    st.sampled_from(SENSORS),
    st.floats(0.0, 360.0, exclude_max=True),
    st.floats(-60.0, 60.0),
    st.floats(100.0, 30_000.0),
)
def test_enu_to_aer_matches_pymap3d(
    sensor: tuple[float, float, float], az: float, el: float, rng: float
) -> None:
    target = oracle_aer_to_camp(sensor, az, el, rng)
    lat, lon, alt = pymap3d.enu2geodetic(*target, *ORIGIN)
    az_o, el_o, rng_o = pymap3d.geodetic2aer(lat, lon, alt, *sensor)
    az2, el2, rng2 = (float(x) for x in CAMP.sensor_frame(*sensor).enu_to_aer(target))
    # pymap3d's enu2aer zeroes components below 1 mm, so compare at 2 mm across the beam
    tol = math.degrees(2e-3 / rng)
    assert abs(float(wrap_deg(az2 - az_o))) < tol / math.cos(math.radians(el))
    assert el2 == pytest.approx(el_o, abs=tol)
    assert rng2 == pytest.approx(rng_o, abs=1e-3)


@pytest.mark.parametrize("sensor", SENSORS)
@pytest.mark.parametrize(
    ("dlat", "dlon", "expected_az"),
    [(0.001, 0.0, 0.0), (0.0, 0.001, 90.0), (-0.001, 0.0, 180.0), (0.0, -0.001, 270.0),
     (0.001, 0.001 / math.cos(math.radians(8.65)) * 1.00, 45.0)],
    ids=["north", "east", "south", "west", "north-east"],
)  # fmt: skip
def test_azimuth_is_clockwise_from_true_north(
    sensor: tuple[float, float, float], dlat: float, dlon: float, expected_az: float
) -> None:
    lat, lon, alt = sensor
    target = CAMP.to_enu(lat + dlat, lon + dlon, alt + 10.0)
    az, el, _ = (float(x) for x in CAMP.sensor_frame(*sensor).enu_to_aer(target))
    tolerance = 0.5 if expected_az == 45.0 else 1e-3  # 45 deg only up to the ellipsoid's aspect
    assert abs(float(wrap_deg(az - expected_az))) < tolerance
    assert 0.0 < el < 10.0


def test_straight_up_from_a_sensor_is_elevation_90() -> None:
    sensor = SENSORS[4]
    frame = CAMP.sensor_frame(*sensor)
    _, el, rng = frame.enu_to_aer(CAMP.to_enu(sensor[0], sensor[1], sensor[2] + 500.0))
    assert float(el) == pytest.approx(90.0, abs=1e-6)
    assert float(rng) == pytest.approx(500.0, abs=1e-6)


# --- angle wrapping --------------------------------------------------------------------

angles = st.floats(-1.0e6, 1.0e6, allow_nan=False)


def congruent(x: float, w: float, period: float) -> bool:
    k = round((x - w) / period)
    return abs(x - w - k * period) <= 1e-9 * max(1.0, abs(x))


@SETTINGS
@given(angles)
@example(-180.0)
@example(180.0)
@example(540.0)
@example(-0.0)
@example(float(np.nextafter(-180.0, -np.inf)))  # just below -180
@example(-180.00000000000003)
def test_wrap_deg_range_and_congruence(x: float) -> None:
    w = float(wrap_deg(x))
    assert -180.0 <= w < 180.0
    assert congruent(x, w, 360.0)


@SETTINGS
@given(angles)
@example(-math.pi)
@example(math.pi)
@example(3 * math.pi)
@example(float(np.nextafter(-math.pi, -np.inf)))  # just below -pi
def test_wrap_rad_range_and_congruence(x: float) -> None:
    w = float(wrap_rad(x))
    assert -math.pi <= w < math.pi
    assert congruent(x, w, 2.0 * math.pi)


@pytest.mark.parametrize(
    ("x", "expected"),
    [(0.0, 0.0), (179.0, 179.0), (180.0, -180.0), (-180.0, -180.0), (181.0, -179.0),
     (359.0, -1.0), (360.0, 0.0), (-190.0, 170.0), (720.5, 0.5)],
)  # fmt: skip
def test_wrap_deg_known_values(x: float, expected: float) -> None:
    assert float(wrap_deg(x)) == pytest.approx(expected, abs=1e-12)
    assert float(wrap_rad(math.radians(x))) == pytest.approx(math.radians(expected), abs=1e-12)


def test_wrap_is_vectorised() -> None:
    x = np.array([[350.0, -350.0], [10.0, 190.0]])
    np.testing.assert_allclose(wrap_deg(x), [[-10.0, 10.0], [10.0, -170.0]], atol=1e-12)
    assert wrap_rad(np.radians(x)).shape == (2, 2)


def test_sensor_frame_is_a_plain_value() -> None:
    frame = CAMP.sensor_frame(*SENSORS[2])
    assert isinstance(frame, SensorFrame)
    assert frame.position.shape == (3,)
    assert frame.rotation.shape == (3, 3)
