"""Zones: camp polygons in the ENU plane with altitude bands, tested for many tracks at once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cuas.config import ZoneConfig
from cuas.geodesy import LocalFrame
from cuas.tracking import kernels

Array = NDArray[np.float64]
LEVEL_RANK = {"warning": 1, "critical": 2}


class ZoneSet:
    """The camp's zones, projected once into the camp ENU plane.

    `floor_m` / `ceiling_m` are heights above the camp origin (the ENU `u` axis).
    """

    def __init__(self, zones: list[ZoneConfig], frame: LocalFrame) -> None:
        self.names = [z.name for z in zones]
        self.levels = [z.level for z in zones]
        self.rank = np.array([LEVEL_RANK[z.level] for z in zones], dtype=np.int64)
        self.polygons: list[Array] = []
        for z in zones:
            lat, lon = np.array(z.polygon, dtype=np.float64).T
            self.polygons.append(np.ascontiguousarray(frame.to_enu(lat, lon, frame.alt0)[:, :2]))
        self.floor = np.array([-np.inf if z.floor_m is None else z.floor_m for z in zones])
        self.ceiling = np.array([np.inf if z.ceiling_m is None else z.ceiling_m for z in zones])
        self.perimeter = next((i for i, z in enumerate(zones) if z.name == "perimeter"), None)

    def __len__(self) -> int:
        return len(self.names)

    def contains(self, positions: Array) -> NDArray[np.bool_]:
        """(n, zones) mask: which zone volumes hold each ENU position (n, 3)."""
        out = np.zeros((positions.shape[0], len(self)), dtype=bool)
        for i, polygon in enumerate(self.polygons):
            band = (positions[:, 2] >= self.floor[i]) & (positions[:, 2] <= self.ceiling[i])
            out[:, i] = band & point_in_polygon(positions[:, :2], polygon)
        return out

    def distance_outside(self, positions: Array) -> Array:
        """(n, zones) metres from each ENU position (n, 3) to each zone volume (0 inside).

        Horizontal distance to the polygon, or the height above the ceiling (below the floor)
        when that is larger; used for hysteresis: a track just outside a zone is still "at" it.
        """
        out = np.zeros((positions.shape[0], len(self)))
        for i, polygon in enumerate(self.polygons):
            flat = distance_to_polygon(positions[:, :2], polygon)
            flat[point_in_polygon(positions[:, :2], polygon)] = 0.0
            vertical = np.maximum(
                positions[:, 2] - self.ceiling[i], self.floor[i] - positions[:, 2]
            )
            out[:, i] = np.maximum(flat, np.maximum(vertical, 0.0))
        return out

    def time_to_perimeter(self, positions: Array, velocities: Array) -> Array:
        """Seconds until each track crosses the perimeter at its current horizontal velocity.

        0 inside, inf when its course misses the perimeter, NaN when no perimeter is set.
        """
        if self.perimeter is None:
            return np.full(positions.shape[0], np.nan)
        polygon = self.polygons[self.perimeter]
        eta = time_to_boundary(positions[:, :2], velocities[:, :2], polygon)
        eta[point_in_polygon(positions[:, :2], polygon)] = 0.0
        return eta


def _c(a: Array) -> Array:
    return np.ascontiguousarray(a, dtype=np.float64)


def _ends(polygon: Array) -> Array:
    """Each vertex's successor, the first after the last (np.roll's result, cheaper)."""
    return np.concatenate([polygon[1:], polygon[:1]])


def point_in_polygon(points: Array, polygon: Array) -> NDArray[np.bool_]:
    """Crossing-number test of points (n, 2) against a simple polygon (v, 2).

    All edges at once, as (n, v) arrays: a handful of numpy calls per test instead of a few
    per edge (the threat stage asks this for every scan). Compiled when `kernels.ENABLED`."""
    if kernels.ENABLED:
        return kernels.point_in_polygon(_c(points), _c(polygon))
    px, py = points[:, 0, None], points[:, 1, None]
    ax, ay = polygon[:, 0], polygon[:, 1]
    ends = _ends(polygon)
    bx, by = ends[:, 0], ends[:, 1]
    straddles = (ay > py) != (by > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = ax + (py - ay) * (bx - ax) / (by - ay)
    crossings = np.count_nonzero(straddles & (px < x_cross), axis=1)
    return (crossings & 1).astype(bool)


def time_to_boundary(points: Array, velocities: Array, polygon: Array) -> Array:
    """Earliest t > 0 at which point + t * velocity meets a polygon edge (inf if never).
    Compiled when `kernels.ENABLED`."""
    if kernels.ENABLED:
        return kernels.time_to_boundary(_c(points), _c(velocities), _c(polygon))
    a = polygon
    edge = _ends(polygon) - a  # (v, 2)
    rel = a[None, :, :] - points[:, None, :]  # (n, v, 2)
    v = velocities[:, None, :]
    denom = v[..., 0] * edge[None, :, 1] - v[..., 1] * edge[None, :, 0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = (rel[..., 0] * edge[None, :, 1] - rel[..., 1] * edge[None, :, 0]) / denom
        s = (rel[..., 0] * v[..., 1] - rel[..., 1] * v[..., 0]) / denom
    hit = (np.abs(denom) > 1e-12) & (t > 0.0) & (s >= 0.0) & (s <= 1.0)
    return np.where(hit, t, np.inf).min(axis=1, initial=np.inf)


def distance_to_polygon(points: Array, polygon: Array) -> Array:
    """Distance from points (n, 2) to the nearest edge of a polygon (v, 2). Compiled when
    `kernels.ENABLED`."""
    if kernels.ENABLED:
        return kernels.distance_to_polygon(_c(points), _c(polygon))
    a = polygon[None, :, :]
    edge = _ends(polygon)[None, :, :] - a  # (1, v, 2)
    rel = points[:, None, :] - a  # (n, v, 2)
    length2 = np.maximum((edge**2).sum(axis=2), 1e-12)
    s = np.clip((rel * edge).sum(axis=2) / length2, 0.0, 1.0)
    nearest = rel - s[..., None] * edge
    return np.sqrt((nearest**2).sum(axis=2)).min(axis=1, initial=np.inf)
