"""Cursor-on-Target events for the camp's tracks, written with the standard library.

pytak would do it, but it turns `stale=0` into 120 s (so it cannot end a track) and rounds
positions to 4 decimals (~11 m); a CoT event is a few XML elements, so `xml.etree` it is.

Mapping (DESIGN.md, "Standard interfaces"), our track → the CoT event:

| ours | CoT |
|---|---|
| `cuas.<camp_id>.<track_id>` | `event/@uid` |
| friendly / active alert / otherwise | affiliation `a-f-` / `a-h-` / `a-u-` |
| `class` drone or unknown / any other | `A-M-H-Q` (rotary-wing drone) / `A` (air track) |
| always `m-f` (machine, fused) | `event/@how` |
| cycle time `t` | `@time`, `@start` |
| `t` + stale period (ended track: `t` itself) | `@stale` |
| `lat`, `lon`, `alt_m` (WGS84 ellipsoid) | `point/@lat`, `@lon`, `@hae` |
| `horiz_sigma_m`, `alt_sigma_m` (older core: `pos_sigma_m`) | `point/@ce`, `@le` (1-sigma, m) |
| `vel_enu` | `detail/track/@course` (degrees true), `@speed` (m/s) |
| `<prefix> <track_id>` | `detail/contact/@callsign` |
| class, threat, sensors, `placed` false; the alert's level, reason, `eta_s` | `detail/remarks` |
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from cuas.wire import Alert, Track

DRONE_CLASSES = frozenset({"drone", "unknown"})


def iso(t: float) -> str:
    """UNIX time as CoT's UTC timestamp, to the millisecond: `2026-12-01T04:05:06.789Z`."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def track_uid(camp_id: str, track_id: int) -> str:
    return f"cuas.{camp_id}.{track_id}"


def cot_type(track: Track, alerted: bool) -> str:
    """`a-<affiliation>-A-M-H-Q` for a drone; friendly wins over an alert."""
    affiliation = "f" if track.friendly else "h" if alerted else "u"
    return f"a-{affiliation}-A-M-H-Q" if track.class_ in DRONE_CLASSES else f"a-{affiliation}-A"


def remarks(track: Track, alert: Alert | None) -> str:
    """One line for a person: what it is, how threatening, and the alert's reason and eta."""
    parts = [f"{track.class_} track {track.track_id}, threat {track.threat}"]
    if track.uas_id:
        parts.append(f"Remote ID {track.uas_id}")
    if not track.placed:
        parts.append("range unconfirmed: only two lines of sight cross on it")
    if alert is not None:
        eta = "" if alert.eta_s is None else f"; perimeter in {alert.eta_s:.0f} s"
        parts.append(f"ALERT {alert.level.upper()} ({alert.state}): {alert.reason}{eta}")
    if track.sensors:
        parts.append("sensors " + ", ".join(track.sensors))
    return "; ".join(parts)


def track_event(
    camp_id: str,
    track: Track,
    alert: Alert | None,
    stale_s: float,
    *,
    callsign_prefix: str = "UAS",
    now: float | None = None,
) -> bytes:
    """The CoT event of one live track (`alert`: its active alert, if any)."""
    t = track.t if now is None else now
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": track_uid(camp_id, track.track_id),
            "type": cot_type(track, alert is not None),
            "how": "m-f",
            "time": iso(t),
            "start": iso(t),
            "stale": iso(t + stale_s),
        },
    )
    horizontal, vertical = track.sigmas()
    ET.SubElement(
        event,
        "point",
        {
            "lat": f"{track.lat:.7f}",
            "lon": f"{track.lon:.7f}",
            "hae": f"{track.alt_m:.1f}",
            "ce": f"{min(horizontal, 9_999_999.0):.1f}",
            "le": f"{min(vertical, 9_999_999.0):.1f}",
        },
    )
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", {"callsign": f"{callsign_prefix} {track.track_id}".strip()})
    ve, vn = track.vel_enu[0], track.vel_enu[1]
    course = math.degrees(math.atan2(ve, vn)) % 360.0
    ET.SubElement(
        detail, "track", {"course": f"{course:.1f}", "speed": f"{math.hypot(ve, vn):.2f}"}
    )
    ET.SubElement(detail, "remarks").text = remarks(track, alert)
    return ET.tostring(event)


def ended_event(camp_id: str, track: Track, now: float) -> bytes:
    """The event that ends a track in every TAK client: its last position, stale at once."""
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": track_uid(camp_id, track.track_id),
            "type": cot_type(track, False),
            "how": "m-f",
            "time": iso(now),
            "start": iso(now),
            "stale": iso(now),
        },
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": f"{track.lat:.7f}",
            "lon": f"{track.lon:.7f}",
            "hae": f"{track.alt_m:.1f}",
            "ce": "9999999.0",
            "le": "9999999.0",
        },
    )
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "remarks").text = f"track {track.track_id} ended"
    return ET.tostring(event)
