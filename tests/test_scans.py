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
