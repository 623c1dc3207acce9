"""The camp as the page draws it: zones, sensors and the extent of the metric map.

The page draws without tiles in the camp's East-North-Up frame (1 map unit = 1 m, Leaflet's
simple CRS), so zones and sensors are sent in ENU metres as well as lat/lon (which a tiled map
uses). Alerts carry lat/lon only: their ENU position is the page's job via their track.
"""

from __future__ import annotations

import math
from typing import Any

from cuas.config import CampConfig


def camp_view(config: CampConfig, *, tiles: bool = False, camp_label: str | None = None) -> dict:
    """The `camp` part of the page's hello message."""
    frame = config.local_frame()
    zones = []
    for z in config.zones:
        enu = frame.to_enu([p[0] for p in z.polygon], [p[1] for p in z.polygon], 0.0)
        zones.append(
            {
                "name": z.name,
                "level": z.level,
                "polygon": [list(p) for p in z.polygon],
                "enu": [[round(float(e), 1), round(float(n), 1)] for e, n, _ in enu],
                "floor_m": z.floor_m,
                "ceiling_m": z.ceiling_m,
            }
        )
    sensors = []
    for s in config.sensors:
        e, n, _ = (float(v) for v in frame.to_enu(s.lat, s.lon, s.alt_m).reshape(3))
        sensors.append(
            {
                "id": s.id,
                "kind": s.kind,
                "lat": s.lat,
                "lon": s.lon,
                "enu": [round(e, 1), round(n, 1)],
                "max_range_m": s.max_range_m,
                "boresight_az_deg": s.boresight_az_deg,
                "fov_az_deg": s.fov_az_deg,
            }
        )
    reach = max(
        [math.hypot(*p) for z in zones for p in z["enu"]]
        + [math.hypot(*s["enu"]) + s["max_range_m"] for s in sensors]
        + [1000.0]
    )
    # The first view: the zones with room around them (the grid reaches every sensor's range).
    zone_reach = max([math.hypot(*p) for z in zones for p in z["enu"]] + [500.0])
    view: dict[str, Any] = {
        "camp_id": config.camp_id,
        "label": camp_label or config.camp_id,
        "origin": {"lat": config.origin.lat, "lon": config.origin.lon},
        "zones": zones,
        "sensors": sensors,
        "extent_m": math.ceil(reach / 500.0) * 500.0,
        "view_m": min(math.ceil(zone_reach * 1.5 / 100.0) * 100.0, reach),
        "tiles": tiles,
    }
    return view
