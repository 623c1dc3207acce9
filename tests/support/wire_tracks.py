"""Wire tracks for tests: a confirmed drone with every field set, changed where a test says."""

from __future__ import annotations

from typing import Any

from cuas import wire


def confirmed_drone(track_id: int, t: float, enu: list[float], **changes: Any) -> wire.Track:
    """A confirmed, non-friendly drone track at camp ENU `enu`, seen by `radar-1`, flying
    west at 30 m/s; `changes` replaces any field."""
    fields: dict[str, Any] = {
        "track_id": track_id,
        "t": t,
        "status": "confirmed",
        "lat": 8.65,
        "lon": 24.5,
        "alt_m": 180.0,
        "enu": enu,
        "vel_enu": [-30.0, 0.0, 0.0],
        "pos_sigma_m": 8.0,
        "class_": "drone",
        "class_probs": {"drone": 0.9},
        "threat": "none",
        "sensors": ["radar-1"],
        "friendly": False,
        "uas_id": None,
        "t_update": t,
    }
    fields.update(changes)
    return wire.Track(**fields)
