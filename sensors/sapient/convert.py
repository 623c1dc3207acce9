"""SAPIENT sensor messages → the camp's wire: node types, statuses and detections.

Mapping, SAPIENT → ours:

| SAPIENT | ours |
|---|---|
| `Registration.node_definition[].node_type` RADAR, LIDAR | sensor `kind` radar |
| CAMERA | camera |
| PASSIVE_RF | rf |
| `SapientMessage.node_id` | the `[[sensors]]` entry whose `sapient_node_id` it is |
| `StatusReport.system` OK / WARNING / ERROR / GOODBYE | state ok / degraded / fault / degraded |
| `SapientMessage.timestamp` | report `t` (reports of one timestamp are one scan) |
| `range_bearing` range, azimuth, elevation, `*_error` | `range_m`, `az_deg`, `el_deg`, sigmas |
| `location` x (longitude), y (latitude), z | range/az/el as the sensor sees that point |
| `classification[].type`, `confidence` | `class_probs` (see `class_of`) |
| `object_id` | `object_id` (the node's own track id, for association) |

Range-bearing angles are taken as true-north degrees (`RANGE_BEARING_DATUM_TRUE`, degrees
and metres): a report in another datum or unit is refused, as is one with neither location.
`*_error` fields are taken as one-sigma values. A radar report without elevation gets
el 0 with a 30° sigma (a 2D radar).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from cuas.config import SensorConfig
from cuas.gateways.sapient_protocol import (
    LAT_LNG_DEG_M,
    RB_DEGREES_M,
    RB_TRUE,
    WGS84_E,
    DetectionReport,
    RangeBearing,
    Registration,
    StatusReport,
)
from cuas.geodesy import LocalFrame
from cuas.wire import CameraDetection, Detection, RadarDetection, RfDetection, SensorState

NODE_KINDS: dict[int, str] = {
    Registration.NODE_TYPE_RADAR: "radar",
    Registration.NODE_TYPE_LIDAR: "radar",
    Registration.NODE_TYPE_CAMERA: "camera",
    Registration.NODE_TYPE_PASSIVE_RF: "rf",
}
SYSTEM_STATES: dict[int, SensorState] = {
    StatusReport.SYSTEM_OK: "ok",
    StatusReport.SYSTEM_WARNING: "degraded",
    StatusReport.SYSTEM_ERROR: "fault",
    StatusReport.SYSTEM_GOODBYE: "degraded",
}
NO_ELEVATION_SIGMA_DEG = 30.0
Sigmas = tuple[float | None, float | None, float | None]  # range (m), azimuth, elevation (°)
# Words of a SAPIENT class name (lower case) → our class; the first rule that matches wins.
CLASS_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("uav", "uas", "drone", "quadcopter", "multirotor", "rotary wing uav"), "drone"),
    (("bird",), "bird"),
    (("aircraft", "helicopter", "fixed wing", "manned", "airliner"), "aircraft"),
    (("clutter", "vehicle", "person", "human", "ground"), "clutter"),
)


class DetectionError(ValueError):
    """A detection report the camp cannot use; `reason` is a counter key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def class_of(name: str) -> str:
    """Our class for a SAPIENT class name ("UAV rotary wing" → drone); unknown if none fits."""
    lower = name.lower()
    for words, ours in CLASS_WORDS:
        if any(w in lower for w in words):
            return ours
    return "unknown"


def class_probs(report: DetectionReport) -> dict[str, float] | None:
    """Confidences summed per class of ours, clamped to 1; None when the node sent none."""
    probs: dict[str, float] = {}
    for c in report.classification:
        if c.HasField("confidence") and math.isfinite(c.confidence):
            ours = class_of(c.type)
            probs[ours] = min(1.0, probs.get(ours, 0.0) + max(0.0, c.confidence))
    return probs or None


def state_of(status: StatusReport) -> tuple[SensorState, str]:
    state = SYSTEM_STATES.get(status.system, "degraded")
    name = StatusReport.System.Name(status.system) if status.system else "SYSTEM_UNSPECIFIED"
    detail = "; ".join(s.status_value for s in status.status if s.status_value)[:200]
    return state, f"SAPIENT {name}" + (f": {detail}" if detail else "")


def _finite(x: float, what: str) -> float:
    if not math.isfinite(x):
        raise DetectionError("not_finite", f"{what} is {x!r}")
    return x


def _sigma(report_field: RangeBearing, name: str) -> float | None:
    if report_field.HasField(name):
        value = float(getattr(report_field, name))
        if math.isfinite(value) and value > 0.0:
            return (
                min(value, 180.0) if name.endswith(("azimuth_error", "elevation_error")) else value
            )
    return None


class DetectionConverter:
    """One node's detection reports → wire detections of its sensor's kind."""

    def __init__(self, sensor: SensorConfig, frame: LocalFrame) -> None:
        self.sensor = sensor
        self.sensor_frame = frame.sensor_frame(sensor.lat, sensor.lon, sensor.alt_m)
        self.frame = frame
        builders: dict[str, Callable[..., Detection]] = {
            "radar": self._radar,
            "camera": self._camera,
            "rf": self._rf,
        }
        if sensor.kind not in builders:
            raise ValueError(f"SAPIENT carries radar, camera and rf sensors, not {sensor.kind}")
        self._build = builders[sensor.kind]

    def convert(self, report: DetectionReport) -> Detection:
        """The wire detection of `report`, or `DetectionError`."""
        which = report.WhichOneof("location_oneof")
        if which == "range_bearing":
            rb = report.range_bearing
            if rb.coordinate_system != RB_DEGREES_M or rb.datum != RB_TRUE:
                raise DetectionError("unsupported_frame", "range_bearing not degrees/metres, true")
            if not rb.HasField("azimuth"):
                raise DetectionError("no_azimuth", "range_bearing without azimuth")
            az = _finite(rb.azimuth, "azimuth") % 360.0
            el = _finite(rb.elevation, "elevation") if rb.HasField("elevation") else None
            rng = _finite(rb.range, "range") if rb.HasField("range") else None
            sigmas: Sigmas = (
                _sigma(rb, "range_error"),
                _sigma(rb, "azimuth_error"),
                _sigma(rb, "elevation_error"),
            )
        elif which == "location":
            loc = report.location
            if loc.coordinate_system != LAT_LNG_DEG_M or loc.datum != WGS84_E:
                raise DetectionError("unsupported_frame", "location not lat/lng degrees, WGS84")
            lat, lon = _finite(loc.y, "latitude"), _finite(loc.x, "longitude")
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise DetectionError("out_of_range", f"lat {lat}, lon {lon}")
            alt = _finite(loc.z, "altitude") if loc.HasField("z") else self.sensor.alt_m
            enu = self.frame.to_enu(lat, lon, alt)
            a, e, r = self.sensor_frame.enu_to_aer(enu)
            az, el, rng = float(a), float(e), float(r)
            sigmas = (None, None, None)
        else:
            raise DetectionError("no_location", "neither range_bearing nor location")
        return self._build(report, az, el, rng, sigmas)

    def _radar(
        self,
        report: DetectionReport,
        az: float,
        el: float | None,
        rng: float | None,
        sigmas: Sigmas,
    ) -> RadarDetection:
        if rng is None or not 0.0 < rng <= 1.0e6:
            raise DetectionError("no_range", f"a radar detection needs a range, not {rng!r}")
        sigma_el = sigmas[2]
        if el is None:
            el, sigma_el = 0.0, NO_ELEVATION_SIGMA_DEG
        return RadarDetection(
            range_m=rng,
            az_deg=az,
            el_deg=max(-90.0, min(90.0, el)),
            sigma_range_m=sigmas[0],
            sigma_az_deg=sigmas[1],
            sigma_el_deg=sigma_el,
            class_probs=class_probs(report),
            object_id=report.object_id or None,
        )

    def _camera(
        self,
        report: DetectionReport,
        az: float,
        el: float | None,
        rng: float | None,
        sigmas: Sigmas,
    ) -> CameraDetection:
        if el is None:
            raise DetectionError("no_elevation", "a camera detection needs an elevation")
        probs = class_probs(report)
        return CameraDetection(
            az_deg=az,
            el_deg=max(-90.0, min(90.0, el)),
            sigma_az_deg=sigmas[1],
            sigma_el_deg=sigmas[2],
            class_probs=probs,
            confidence=max(0.0, min(1.0, report.detection_confidence))
            if report.HasField("detection_confidence")
            else None,
            object_id=report.object_id or None,
        )

    def _rf(
        self,
        report: DetectionReport,
        az: float,
        el: float | None,
        rng: float | None,
        sigmas: Sigmas,
    ) -> RfDetection:
        return RfDetection(
            az_deg=az,
            sigma_az_deg=sigmas[1],
            class_probs=class_probs(report),
            object_id=report.object_id or None,
        )
