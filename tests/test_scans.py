"""Scan building (cuas/fusion/scans.py): radar reports become tracker scans in radians, with
the sensor's own sigmas where a plot gives none."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas import wire
from cuas.config import load_config
from cuas.fusion.scans import ScanBuilder
from cuas.tracking.scan import Scan
from simulators.benchmark_scenarios import SAMPLE_CONFIG

CONFIG = load_config(SAMPLE_CONFIG)
BUILDER = ScanBuilder(CONFIG.sensors, CONFIG.local_frame())
RADAR = next(s for s in CONFIG.sensors if s.kind == "radar")
T0 = 1_764_000_000.0


def build(detections: list[wire.RadarDetection]) -> Scan:
    report = wire.RadarReport(v=1, sensor_id=RADAR.id, seq=0, t=T0, detections=detections)
    (scan,) = BUILDER.build(report)
    return scan


def test_angles_become_radians_and_missing_sigmas_the_sensors_own() -> None:
    scan = build(
        [
            wire.RadarDetection(range_m=900.0, az_deg=90.0, el_deg=3.0),
            wire.RadarDetection(range_m=800.0, az_deg=180.0, el_deg=6.0, sigma_az_deg=0.5),
        ]
    )
    assert scan.model.dim == 3
    assert scan.z.tolist() == [
        [900.0, math.radians(90.0), math.radians(3.0)],
        [800.0, math.radians(180.0), math.radians(6.0)],
    ]
    assert np.sqrt(scan.var[:, 0]).tolist() == [RADAR.sigma_range_m] * 2
    assert np.sqrt(scan.var[:, 1]).tolist() == [
        math.radians(RADAR.sigma_az_deg),
        math.radians(0.5),
    ]


def test_range_rate_is_measured_only_when_every_plot_has_one() -> None:
    both = [
        wire.RadarDetection(range_m=900.0, az_deg=10.0, el_deg=3.0, range_rate_mps=-12.0),
        wire.RadarDetection(range_m=800.0, az_deg=20.0, el_deg=3.0, range_rate_mps=4.0),
    ]
    scan = build(both)
    assert scan.model.dim == 4 and scan.z[:, 3].tolist() == [-12.0, 4.0]
    assert scan.var[:, 3].tolist() == [RADAR.sigma_range_rate_mps**2] * 2
    one = [both[0], wire.RadarDetection(range_m=800.0, az_deg=20.0, el_deg=3.0)]
    assert build(one).model.dim == 3


def test_an_empty_report_is_an_empty_scan() -> None:
    scan = build([])
    assert scan.z.shape == (0, 3) and scan.var.shape == (0, 3) and scan.labels is None


optional = st.one_of(st.none(), st.floats(0.1, 10.0))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 5000.0),
            st.floats(0.0, 359.9),
            st.floats(-10.0, 90.0),
            st.one_of(st.none(), st.floats(-80.0, 80.0), st.just(-0.0)),
            optional,
            optional,
            optional,
        ),
        max_size=30,
    )
)
def test_a_scan_is_its_plots_one_by_one(plots: list[tuple]) -> None:
    """Each plot's measurement and variances, to the bit, as taken one plot at a time."""
    names = ("range_m", "az_deg", "el_deg", "range_rate_mps")
    names += ("sigma_range_m", "sigma_az_deg", "sigma_el_deg")
    dets = [wire.RadarDetection(**dict(zip(names, plot, strict=True))) for plot in plots]
    scan = build(dets)
    with_rr = bool(plots) and all(p[3] is not None for p in plots)
    assert scan.model.dim == (4 if with_rr else 3)
    for i, (r, a, e, rr, sr, sa, se) in enumerate(plots):
        z = [r, np.radians(a), np.radians(e)] + ([rr + 0.0] if with_rr else [])
        sigma = [
            RADAR.sigma_range_m if sr is None else sr,
            np.radians(RADAR.sigma_az_deg if sa is None else sa),
            np.radians(RADAR.sigma_el_deg if se is None else se),
        ] + ([RADAR.sigma_range_rate_mps] if with_rr else [])
        assert scan.z[i].tobytes() == np.array(z).tobytes()
        assert scan.var[i].tobytes() == (np.array(sigma) * np.array(sigma)).tobytes()


CAMERA = next(s for s in CONFIG.sensors if s.kind == "camera")
FINDER = next(s for s in CONFIG.sensors if s.kind == "rf")
CLASS_NAMES = ("drone", "bird", "aircraft", "clutter", "unknown")
probs = st.one_of(
    st.none(), st.dictionaries(st.sampled_from(CLASS_NAMES), st.floats(0.0, 1.0), max_size=5)
)
sigma_or_zero = st.one_of(st.none(), st.just(0.0), st.floats(0.1, 10.0))


def expected_probs(cps: list, fallback: list) -> np.ndarray:
    """Rows of class probabilities taken one detection at a time: the wire's map (classes it
    leaves out at 0), else `fallback`'s row; normalised, NaN where nothing is said."""
    rows = np.array(
        [
            [cp.get(c, 0.0) for c in CLASS_NAMES] if cp is not None else row
            for cp, row in zip(cps, fallback, strict=True)
        ],
        dtype=float,
    ).reshape(-1, len(CLASS_NAMES))
    total = rows.sum(axis=1, keepdims=True)
    return rows / np.where(total > 0.0, total, np.nan)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 359.9),
            st.floats(-10.0, 90.0),
            sigma_or_zero,
            sigma_or_zero,
            probs,
            st.sampled_from([None, "drone", "Bird", "kite"]),
            st.one_of(st.none(), st.floats(0.0, 1.0)),
        ),
        max_size=30,
    )
)
def test_a_camera_scan_is_its_sightings_one_by_one(sightings: list[tuple]) -> None:
    """Each sighting's angles, variances (a sigma missing or 0: the camera's own) and class
    probabilities, to the bit, as taken one sighting at a time."""
    names = ("az_deg", "el_deg", "sigma_az_deg", "sigma_el_deg", "class_probs", "label")
    names += ("confidence",)
    dets = [wire.CameraDetection(**dict(zip(names, s, strict=True))) for s in sightings]
    report = wire.CameraReport(v=1, sensor_id=CAMERA.id, seq=0, t=T0, detections=dets)
    (scan,) = BUILDER.build(report)
    assert scan.z.shape == (len(dets), 2)
    for i, (a, e, sa, se, *_) in enumerate(sightings):
        sigma = np.radians([sa or CAMERA.sigma_az_deg, se or CAMERA.sigma_el_deg])
        assert scan.z[i].tobytes() == np.radians([a, e]).tobytes()
        assert scan.var[i].tobytes() == (sigma * sigma).tobytes()
    said = [s[4] is not None or s[5] is not None for s in sightings]
    if not any(said):
        assert scan.labels is None
        return
    assert scan.labels is not None
    if all(s[4] is not None for s in sightings):  # the wire's alone
        expected = expected_probs([s[4] for s in sightings], [[]] * len(dets))
        assert scan.labels.class_probs.tobytes() == expected.tobytes()
    else:  # a label's row where no map is given: the sighting says something
        assert [not np.isnan(r).all() for r in scan.labels.class_probs] == [
            (s[4] is not None and sum(s[4].values()) > 0.0) or (s[4] is None and s[5] is not None)
            for s in sightings
        ]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 359.9),
            sigma_or_zero,
            probs,
            st.sampled_from([None, "", "elrs", "Unknown"]),
            st.sampled_from([None, "ELRS-1", "ELRS-2"]),
        ),
        max_size=30,
    )
)
def test_an_rf_scan_is_its_bearings_one_by_one(bearings: list[tuple]) -> None:
    """Each bearing's azimuth, variance (a sigma missing or 0: the finder's own), class
    probabilities and emitter id, as taken one bearing at a time."""
    names = ("az_deg", "sigma_az_deg", "class_probs", "protocol", "emitter_id")
    dets = [wire.RfDetection(**dict(zip(names, b, strict=True))) for b in bearings]
    report = wire.RfReport(v=1, sensor_id=FINDER.id, seq=0, t=T0, detections=dets)
    (scan,) = BUILDER.build(report)
    assert scan.z.shape == (len(dets), 1)
    for i, (a, sa, *_) in enumerate(bearings):
        sigma = np.radians(sa or FINDER.sigma_az_deg)
        assert scan.z[i, 0].tobytes() == np.radians(a).tobytes()
        assert scan.var[i, 0].tobytes() == (sigma * sigma).tobytes()
    protocol = [b[3] is not None and b[3].strip().lower() not in ("", "unknown") for b in bearings]
    said = [b[2] is not None or p for b, p in zip(bearings, protocol, strict=True)]
    if not any(said) and all(b[4] is None for b in bearings):
        assert scan.labels is None
        return
    assert scan.labels is not None
    assert scan.labels.emitter_id == [b[4] for b in bearings]
    nothing = [float("nan")] * len(CLASS_NAMES)
    drone = [0.9 if c == "drone" else (1.0 - 0.9) / 4 for c in CLASS_NAMES]
    fallback = [drone if p else nothing for p in protocol]
    expected = expected_probs([b[2] for b in bearings], fallback)
    assert scan.labels.class_probs.tobytes() == expected.tobytes()
