"""The camps as the page draws them: zones, sensors and the extent of the metric map.

Without tiles the page draws in one East-North-Up frame, 1 map unit = 1 m (Leaflet's simple
CRS): the first camp's. Each camp's zones, sensors and tracks are in its own ENU frame, so
each camp carries `offset_m`, its origin in the map's frame; positions are also sent as
lat/lon, which a tiled map uses.
"""

from __future__ import annotations

import math
from typing import Any

from cuas.config import CampConfig
from cuas.geodesy import LocalFrame


def camp_view(config: CampConfig, map_frame: LocalFrame | None = None) -> dict[str, Any]:
    """One camp for the page's hello message, placed in `map_frame` (default its own)."""
    frame = config.local_frame()
    offset = (0.0, 0.0)
    if map_frame is not None:
        o = config.origin
        e, n, _ = (float(v) for v in map_frame.to_enu(o.lat, o.lon, o.alt_m).reshape(3))
        offset = (round(e, 1), round(n, 1))
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
    return {
        "camp_id": config.camp_id,
        "origin": {"lat": config.origin.lat, "lon": config.origin.lon},
        "offset_m": list(offset),
        "zones": zones,
        "sensors": sensors,
        "extent_m": math.ceil(reach / 500.0) * 500.0,
        "view_m": min(math.ceil(zone_reach * 1.5 / 100.0) * 100.0, reach),
    }
