"""Export a drill (or any replay) in the COURAGEOUS C-UAS trial logging format (CWA 18150).

COURAGEOUS is the JSON format test ranges use to compare counter-drone systems in trials
(grvc.us.es/courageous, documented version 0.4.1): one document per system and run, with the
system's static location, *detection sets* (what sensors saw, record by record) and *tracks*
(what the system locked on to, with its alarm state), every record stamped in UNIX
milliseconds and numbered uniquely across the document.

How cuas maps onto it:

- `static_cuas_location`: the camp origin; each detection record also carries its sensor's
  position as `cuas_location`, since the camp's sensors are spread over the camp.
- detection sets: one per sensor (`uas_id` null: a sensor does not identify), except Remote ID
  detections, grouped per broadcast serial. Locations: radar `BearingElevationDistance`,
  camera `BearingElevation`, RF direction finder `Bearing`, Remote ID `Position3d`.
- tracks: one per cuas track (`uas_id` = track id), a record per published cycle while the
  track is confirmed or coasting: `Position3d`, ENU velocity, classification `UAV` for drones,
  `Other` for birds, aircraft and clutter, `Unknown` otherwise; `alarm.active` while an alert
  of the track is open (raised, not yet cleared), `alarm.certainty` the track's drone
  probability.
- Locations are `{"$type": variant, ...fields}` as in the format's 0.4.1 documentation.
  Heights are cuas's WGS84 ellipsoid heights (`alt_m`); the format asks for heights above
  mean sea level (EGM96), which cuas does not model: add the local geoid separation if the
  range needs them exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from cuas import wire
from cuas.config import CampConfig
from cuas.io.recording import read_records
from cuas.topics import is_report

FORMAT_VERSION = "0.4.1"
SYSTEM_NAME = "cuas"
VENDOR_NAME = "cuas (open source)"

__all__ = ["FORMAT_VERSION", "courageous_document", "write_courageous"]


def _ms(t: float) -> int:
    return round(t * 1000.0)


def _position(lat: float, lon: float, alt: float) -> dict[str, float]:
    return {"lat": lat, "lon": lon, "height_amsl": alt}


def _classification(class_: str) -> str:
    if class_ == "drone":
        return "UAV"
    return "Unknown" if class_ == "unknown" else "Other"


class _Numbers:
    """Record numbers, unique across the document."""

    def __init__(self) -> None:
        self.next = 0

    def __call__(self) -> int:
        self.next += 1
        return self.next


def _detection_location(kind: str, d: Any) -> dict[str, Any]:
    if kind == "radar":
        return {
            "$type": "BearingElevationDistance",
            "bearing": d.az_deg,
            "elevation": d.el_deg,
            "distance": d.range_m,
        }
    if kind == "camera":
        return {"$type": "BearingElevation", "bearing": d.az_deg, "elevation": d.el_deg}
    if kind == "rf":
        return {"$type": "Bearing", "bearing": d.az_deg}
    return {"$type": "Position3d", **_position(d.lat, d.lon, d.alt_m)}


def _detection_class(kind: str, d: Any) -> str:
    if kind == "remote_id":
        return "UAV"
    probs = getattr(d, "class_probs", None) or {}
    label = getattr(d, "label", None)
    if label is not None:
        return _classification(label)
    if probs:
        return _classification(max(probs, key=probs.get))
    return "Unknown"


def detection_sets(
    camp: CampConfig, reports: Iterable[wire.Report], number: _Numbers
) -> list[dict[str, Any]]:
    """One detection set per sensor (Remote ID: per serial), records in report order."""
    sensors = {s.id: s for s in camp.sensors}
    sets: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for report in reports:
        kind = wire.report_kind(report)
        sensor = sensors.get(report.sensor_id)
        where = None if sensor is None else _position(sensor.lat, sensor.lon, sensor.alt_m)
        for d in report.detections:
            t = getattr(d, "t", None) or report.t
            record: dict[str, Any] = {
                "time": _ms(t),
                "record_number": number(),
                "classification": _detection_class(kind, d),
                "location": _detection_location(kind, d),
            }
            if where is not None:
                record["cuas_location"] = where
            serial = getattr(d, "uas_id", None) if kind == "remote_id" else None
            if serial is not None:
                record["identification"] = f"Remote ID {serial}"
            sets[(report.sensor_id, serial)].append(record)
    serials = sorted({s for _, s in sets if s is not None})
    out = []
    for (sensor_id, serial), records in sets.items():
        out.append(
            {
                "uas_id": None if serial is None else 1_000_000 + serials.index(serial),
                "name": sensor_id if serial is None else f"{sensor_id}: {serial}",
                "records": records,
            }
        )
    return out


def tracks(
    cycles: Sequence[wire.TrackCycle], alerts: Sequence[wire.Alert], number: _Numbers
) -> list[dict[str, Any]]:
    """One COURAGEOUS track per cuas track: its firm states, with the alarm state."""
    transitions: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for a in sorted(alerts, key=lambda a: a.t):
        if a.track_id is not None and a.state in ("raised", "cleared"):
            transitions[a.track_id].append((a.t, a.state == "raised"))

    def alarm_on(track_id: int, t: float) -> bool:
        on = False
        for t_change, state in transitions.get(track_id, ()):
            if t_change > t:
                break
            on = state
        return on

    out: dict[int, dict[str, Any]] = {}
    for cycle in sorted(cycles, key=lambda c: c.t):
        for k in cycle.tracks:
            if k.status not in ("confirmed", "coasting"):
                continue
            track = out.setdefault(
                k.track_id, {"uas_id": k.track_id, "name": f"track {k.track_id}", "records": []}
            )
            record: dict[str, Any] = {
                "time": _ms(cycle.t),
                "record_number": number(),
                "classification": _classification(k.class_),
                "alarm": {
                    "active": alarm_on(k.track_id, cycle.t),
                    "certainty": round(float(k.class_probs.get("drone", 0.0)), 3),
                },
                "location": {"$type": "Position3d", **_position(k.lat, k.lon, k.alt_m)},
                "velocity": {"east": k.vel_enu[0], "north": k.vel_enu[1], "up": k.vel_enu[2]},
            }
            if k.uas_id is not None:
                record["identification"] = f"Remote ID {k.uas_id}"
            elif k.friendly:
                record["identification"] = "friendly"
            track["records"].append(record)
    return list(out.values())


def courageous_document(
    camp: CampConfig,
    reports: Iterable[wire.Report],
    cycles: Sequence[wire.TrackCycle],
    alerts: Sequence[wire.Alert],
    system_name: str = SYSTEM_NAME,
) -> dict[str, Any]:
    """The COURAGEOUS document of one run (see the module docstring)."""
    number = _Numbers()
    o = camp.origin
    return {
        "version": FORMAT_VERSION,
        "vendor_name": VENDOR_NAME,
        "system_name": f"{system_name} (camp {camp.camp_id})",
        "static_cuas_location": _position(o.lat, o.lon, o.alt_m),
        "detection": detection_sets(camp, reports, number),
        "tracks": tracks(cycles, alerts, number),
    }


def read_reports(recording: str | Path) -> list[wire.Report]:
    """The valid sensor reports of a recording (heartbeats and invalid messages skipped)."""
    decoder = msgspec.msgpack.Decoder(wire.Report)
    out: list[wire.Report] = []
    for r in read_records(recording):
        if is_report(r.topic):
            try:
                out.append(decoder.decode(r.payload))
            except msgspec.DecodeError:
                continue
    return out


def write_courageous(
    path: str | Path,
    camp: CampConfig,
    reports: Iterable[wire.Report],
    cycles: Sequence[wire.TrackCycle],
    alerts: Sequence[wire.Alert],
) -> Path:
    """Write the document as JSON to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.encode(courageous_document(camp, reports, cycles, alerts)))
    return path
