"""Wire reports of the example camp's sensors seeing a point, for tests fed from the wire."""

from __future__ import annotations

import numpy as np

from cuas import wire
from cuas.config import load_config
from simulators.benchmark_scenarios import SAMPLE_CONFIG

T0 = 1_764_000_000.0
CONFIG = load_config(SAMPLE_CONFIG)
FRAME = CONFIG.local_frame()


def radar_report(
    t: float, seq: int, enu: np.ndarray, sensor: str = "radar-1", rcs_dbsm: float | None = None
) -> bytes:
    """One radar plot of the point `enu` (camp ENU metres), measured at `t`, with its radar
    cross-section where given."""
    radar = CONFIG.sensor(sensor)
    assert radar is not None
    az, el, rng = FRAME.sensor_frame(radar.lat, radar.lon, radar.alt_m).enu_to_aer(enu)
    det = wire.RadarDetection(
        range_m=float(rng), az_deg=float(az), el_deg=float(el), rcs_dbsm=rcs_dbsm
    )
    return wire.to_msgpack(wire.RadarReport(v=1, sensor_id=sensor, seq=seq, t=t, detections=[det]))


def camera_report(t: float, seq: int, sensor: str, enu: np.ndarray) -> bytes:
    """One camera detection (bearing and elevation) of the point `enu`, measured at `t`."""
    cam = CONFIG.sensor(sensor)
    assert cam is not None
    az, el, _ = FRAME.sensor_frame(cam.lat, cam.lon, cam.alt_m).enu_to_aer(enu)
    det = wire.CameraDetection(az_deg=float(az), el_deg=float(el))
    return wire.to_msgpack(wire.CameraReport(v=1, sensor_id=sensor, seq=seq, t=t, detections=[det]))


def rf_report(
    t: float, seq: int, sensor: str, enu: np.ndarray, emitter_id: str, az_noise_deg: float = 0.0
) -> bytes:
    """One direction finder's bearing of the emitter `emitter_id` at the point `enu`, measured
    at `t`, `az_noise_deg` off the true bearing."""
    finder = CONFIG.sensor(sensor)
    assert finder is not None
    az, _, _ = FRAME.sensor_frame(finder.lat, finder.lon, finder.alt_m).enu_to_aer(enu)
    det = wire.RfDetection(az_deg=float(az + az_noise_deg) % 360.0, emitter_id=emitter_id)
    return wire.to_msgpack(wire.RfReport(v=1, sensor_id=sensor, seq=seq, t=t, detections=[det]))
