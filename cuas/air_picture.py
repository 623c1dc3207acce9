"""The air picture: a tracker snapshot rendered as the published track stream of DESIGN.md."""

from __future__ import annotations

import numpy as np

from cuas import wire
from cuas.alerts import TrackGeometry
from cuas.geodesy import LocalFrame
from cuas.tracking.tracker import TrackSnapshot
from cuas.tracking.tracks import STATUS_NAMES

_UNKNOWN = {"unknown": 1.0}


class AirPicture:
    """Builds `TrackCycle` messages; values are rounded to sensible precision (1 cm, 1e-7 deg)."""

    def __init__(self, frame: LocalFrame, sensor_ids: list[str], sensor_memory_s: float) -> None:
        self.frame = frame
        self.sensor_ids = sensor_ids
        self.sensor_memory_s = sensor_memory_s
        self._bits = 1 << np.arange(len(sensor_ids), dtype=np.int64)
        self._lists: dict[int, list[str]] = {}

    def _contributors(self, code: int) -> list[str]:
        """The sensor ids of a bit set (cached: there are few distinct combinations)."""
        ids = self._lists.get(code)
        if ids is None:
            ids = [s for i, s in enumerate(self.sensor_ids) if code >> i & 1]
            self._lists[code] = ids
        return ids

    def cycle(self, snap: TrackSnapshot, geo: TrackGeometry, threat: list[str]) -> wire.TrackCycle:
        tracks = self._tracks(
            snap.t,
            snap.track_id,
            [STATUS_NAMES[s] for s in snap.status],
            snap.x,
            snap.P,
            snap.t_update,
            snap.last_hit,
            geo.lat,
            geo.lon,
            geo.alt,
            threat,
        )
        if snap.deleted_id.size:
            lat, lon, alt = self.frame.to_geodetic(snap.deleted_x[:, :3])
            k = snap.deleted_id.size
            tracks += self._tracks(
                snap.t,
                snap.deleted_id,
                ["deleted"] * k,
                snap.deleted_x,
                snap.deleted_P,
                snap.deleted_t_update,
                snap.deleted_last_hit,
                lat,
                lon,
                alt,
                ["none"] * k,
            )
        return wire.TrackCycle(v=wire.VERSION, t=snap.t, tracks=tracks)

    def _tracks(
        self,
        t: float,
        ids: np.ndarray,
        status: list[str],
        x: np.ndarray,
        P: np.ndarray,
        t_update: np.ndarray,
        last_hit: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        alt: np.ndarray,
        threat: list[str],
    ) -> list[wire.Track]:
        if ids.size == 0:
            return []
        sigma = np.sqrt(P[:, 0, 0] + P[:, 1, 1] + P[:, 2, 2])
        recent = ((t - last_hit) <= self.sensor_memory_s) @ self._bits
        rows = zip(
            ids.tolist(),
            status,
            np.round(lat, 7).tolist(),
            np.round(lon, 7).tolist(),
            np.round(alt, 2).tolist(),
            np.round(x[:, :3], 2).tolist(),
            np.round(x[:, 3:], 2).tolist(),
            np.round(sigma, 2).tolist(),
            threat,
            t_update.tolist(),
            recent.tolist(),
            strict=True,
        )
        return [
            wire.Track(
                track_id=tid,
                t=t,
                status=st,
                lat=la,
                lon=lo,
                alt_m=al,
                enu=enu,
                vel_enu=vel,
                pos_sigma_m=sg,
                class_="unknown",
                class_probs=_UNKNOWN,
                threat=th,
                sensors=self._contributors(code),
                friendly=False,
                uas_id=None,
                t_update=tu,
            )
            for tid, st, la, lo, al, enu, vel, sg, th, tu, code in rows
        ]
