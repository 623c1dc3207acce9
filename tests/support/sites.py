"""Sensor sites for tracker tests: a sensor placed in a camp frame, seeing all round."""

from __future__ import annotations

import numpy as np

from cuas.geodesy import LocalFrame
from cuas.tracking.coverage import SensorGeometry


def all_round_site(frame: LocalFrame, e: float, n: float, up: float = 12.0) -> SensorGeometry:
    """A sensor at east/north/up metres of `frame`'s origin, covering 0-6 km all round and
    -10 to 90 degrees of elevation."""
    lat, lon, alt = frame.to_geodetic(np.array([e, n, up]))
    return SensorGeometry(
        frame.sensor_frame(float(lat), float(lon), float(alt)), 0.0, 6000.0, 0.0, 360.0, -10, 90
    )
