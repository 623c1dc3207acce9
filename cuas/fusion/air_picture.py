"""The air picture: tracker snapshots rendered as the published track stream of DESIGN.md
(every cycle's whole picture, and the tracks scans just updated)."""

from __future__ import annotations

import numpy as np

from cuas import wire
from cuas.fusion.alerts import TrackGeometry
from cuas.geodesy import LocalFrame
from cuas.tracking.classification import PublishedClasses, published_classes
from cuas.tracking.scan import CLASSES
from cuas.tracking.tracker import TrackSnapshot
from cuas.tracking.tracks import STATUS_NAMES, TrackRows


class AirPicture:
    """Builds `TrackCycle` messages; values are rounded to sensible precision (1 cm, 1e-7 deg).

    A track's published `class` is decided once per cycle (`published_classes`), for the
    threat evaluation and this picture alike.
    """

    def __init__(
        self,
        frame: LocalFrame,
        sensor_ids: list[str],
        sensor_memory_s: float,
        class_confidence: float,
    ) -> None:
        self.frame = frame
        self.sensor_ids = sensor_ids
        self.sensor_memory_s = sensor_memory_s
        self.class_confidence = class_confidence  # for deleted tracks' last words
        self._bits = 1 << np.arange(len(sensor_ids), dtype=np.int64)
        self._lists: dict[int, list[str]] = {}
        self._class_cache: dict[tuple[float, ...], dict[str, float]] = {}

    def _contributors(self, code: int) -> list[str]:
        """The sensor ids of a bit set (cached: there are few distinct combinations)."""
        ids = self._lists.get(code)
        if ids is None:
            ids = [s for i, s in enumerate(self.sensor_ids) if code >> i & 1]
            self._lists[code] = ids
        return ids

    def cycle(
        self,
        snap: TrackSnapshot,
        geo: TrackGeometry,
        threat: list[str],
        classes: PublishedClasses,
    ) -> wire.TrackCycle:
        tracks = self._live(snap, geo, threat, classes)
        dead = snap.deleted
        if len(dead):
            lat, lon, alt = self.frame.to_geodetic(dead.x[:, :3])
            k = len(dead)
            last = published_classes(dead.class_logp, self.class_confidence)
            tracks += self._tracks(
                snap.t, dead, ["deleted"] * k, lat, lon, alt, ["none"] * k, np.zeros(k, bool), last
            )
        return wire.TrackCycle(v=wire.VERSION, t=snap.t, tracks=tracks)

    def update(
        self,
        snap: TrackSnapshot,
        geo: TrackGeometry,
        threat: list[str],
        classes: PublishedClasses,
    ) -> wire.TrackUpdate:
        """The tracks scans just updated (`snap.live`, none coasting), as a `TrackUpdate`."""
        return wire.TrackUpdate(
            v=wire.VERSION, t=snap.t, tracks=self._live(snap, geo, threat, classes)
        )

    def _live(
        self,
        snap: TrackSnapshot,
        geo: TrackGeometry,
        threat: list[str],
        classes: PublishedClasses,
    ) -> list[wire.Track]:
        """The snapshot's live tracks as published, each with its own status."""
        live = snap.live
        status = [STATUS_NAMES[s] for s in live.status.tolist()]
        return self._tracks(
            snap.t, live, status, geo.lat, geo.lon, geo.alt, threat, snap.sensors_silent, classes
        )

    def _class_probs(self, probs: np.ndarray) -> list[dict[str, float]]:
        """Each row's class probabilities as published (rounded; cached by value: most tracks
        share a handful of distributions, and a dict per track per cycle adds up)."""
        if len(self._class_cache) > 100_000:
            self._class_cache.clear()
        dicts = []
        for p in map(tuple, np.round(probs, 3).tolist()):
            cached = self._class_cache.get(p)
            if cached is None:
                cached = self._class_cache[p] = dict(zip(CLASSES, p, strict=True))
            dicts.append(cached)
        return dicts

    def _tracks(
        self,
        t: float,
        rows: TrackRows,
        status: list[str],
        lat: np.ndarray,
        lon: np.ndarray,
        alt: np.ndarray,
        threat: list[str],
        sensors_silent: np.ndarray,
        classes: PublishedClasses,
    ) -> list[wire.Track]:
        if len(rows) == 0:
            return []
        horizontal = rows.P[:, 0, 0] + rows.P[:, 1, 1]
        vertical = rows.P[:, 2, 2]
        sigma = np.sqrt(horizontal + vertical)
        recent = ((t - rows.last_hit) <= self.sensor_memory_s) @ self._bits
        names, probs = classes.names, self._class_probs(classes.probs)
        # Positional, in the struct's field order: five times cheaper than keywords, for every
        # track each cycle.
        columns = zip(
            rows.track_id.tolist(),
            [t] * len(rows),
            status,
            np.round(lat, 7).tolist(),
            np.round(lon, 7).tolist(),
            np.round(alt, 2).tolist(),
            np.round(rows.x[:, :3], 2).tolist(),  # enu
            np.round(rows.x[:, 3:], 2).tolist(),  # vel_enu
            np.round(sigma, 2).tolist(),  # pos_sigma_m
            names,
            probs,
            threat,
            map(self._contributors, recent.tolist()),  # sensors
            rows.friendly.tolist(),
            rows.uas_id.tolist(),
            rows.t_update.tolist(),
            sensors_silent.tolist(),
            np.round(np.sqrt(horizontal), 2).tolist(),  # horiz_sigma_m
            np.round(np.sqrt(vertical), 2).tolist(),  # alt_sigma_m
            (~np.isnan(rows.t_vouched)).tolist(),  # placed
            strict=True,
        )
        return [wire.Track(*row) for row in columns]
