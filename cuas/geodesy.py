"""Geodesy: WGS84 geodetic <-> camp East-North-Up, and sensor az/el/range <-> camp ENU.

Conversions between geodetic and ENU are pymap3d's (exact WGS84, vectorised over numpy
arrays); ENU to geodetic for arrays of points, which every track cycle and update makes, is
its arithmetic without its per-call overhead (`_enu_to_geodetic`). A sensor sees in its
*own* local ENU frame (true north and the local horizontal at the sensor), which is tilted
against the camp frame by the earth's curvature (about 0.01 deg per km); `SensorFrame`
carries the exact affine map between the two so that azimuths and elevations are modelled
where the sensor measured them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pymap3d
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def ecef_to_enu_rotation(lat_deg: float, lon_deg: float) -> Array:
    """The 3x3 rotation taking ECEF vectors into the ENU frame at (lat, lon)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    return np.array(
        [
            [-so, co, 0.0],
            [-sl * co, -sl * so, cl],
            [cl * co, cl * so, sl],
        ]
    )


@dataclass(frozen=True)
class LocalFrame:
    """The camp's ENU frame, in metres, with its origin at a geodetic point."""

    lat0: float
    lon0: float
    alt0: float

    def to_enu(self, lat: ArrayLike, lon: ArrayLike, alt: ArrayLike) -> Array:
        """Geodetic degrees/metres -> ENU metres; returns shape (..., 3)."""
        e, n, u = pymap3d.geodetic2enu(lat, lon, alt, self.lat0, self.lon0, self.alt0)
        return np.stack(np.broadcast_arrays(e, n, u), axis=-1).astype(np.float64)

    def to_geodetic(self, enu: ArrayLike) -> tuple[Array, Array, Array]:
        """ENU metres of shape (..., 3) -> (lat, lon, alt) arrays."""
        p = np.asarray(enu, dtype=np.float64)
        if p.ndim == 2:
            out = _enu_to_geodetic(p[:, 0], p[:, 1], p[:, 2], self._origin)
            if out is not None:
                return out
        lat, lon, alt = pymap3d.enu2geodetic(
            p[..., 0], p[..., 1], p[..., 2], self.lat0, self.lon0, self.alt0
        )
        return np.asarray(lat), np.asarray(lon), np.asarray(alt)

    @cached_property
    def _origin(self) -> _Origin:
        """The origin's terms of pymap3d's ENU -> ECEF, computed once as it computes them."""
        lat0, lon0 = np.radians(self.lat0), np.radians(self.lon0)
        x0, y0, z0 = pymap3d.geodetic2ecef(self.lat0, self.lon0, self.alt0)
        return _Origin(
            np.cos(lat0),
            np.sin(lat0),
            np.cos(lon0),
            np.sin(lon0),
            x0,
            y0,
            z0,  # type: ignore[arg-type]
        )

    def sensor_frame(self, lat: float, lon: float, alt: float) -> SensorFrame:
        """The frame of a sensor standing at a geodetic point."""
        position = self.to_enu(lat, lon, alt).reshape(3)
        rotation = ecef_to_enu_rotation(lat, lon) @ ecef_to_enu_rotation(self.lat0, self.lon0).T
        return SensorFrame(position=position, rotation=rotation)


@dataclass(frozen=True)
class _Origin:
    """A frame origin's sines and cosines and ECEF position (numpy scalars, as pymap3d's)."""

    cos_lat: np.float64
    sin_lat: np.float64
    cos_lon: np.float64
    sin_lon: np.float64
    x: np.float64
    y: np.float64
    z: np.float64


_WGS84 = pymap3d.Ellipsoid.from_name("wgs84")
_A, _B = _WGS84.semimajor_axis, _WGS84.semiminor_axis
_E = np.sqrt(_A**2 - _B**2)
_LIM_PI2 = np.pi / 2 - np.finfo(np.float64).eps


def _enu_to_geodetic(
    east: Array, north: Array, up: Array, o: _Origin
) -> tuple[Array, Array, Array] | None:
    """pymap3d 3.2's `enu2geodetic` (`enu2ecef`, then You's `ecef2geodetic`), the same numpy
    operations in the same order, so the same bits, for points (n,) that none of its special
    cases concerns; None when one does (a point near the earth's centre or axis: pymap3d
    then). pymap3d itself checks for those with three `isclose` and runs its formulas on
    masked copies, which cost more than the arithmetic for a cycle's few hundred tracks."""
    t = o.cos_lat * up - o.sin_lat * north  # enu2uvw
    w = o.sin_lat * up + o.cos_lat * north
    u = o.cos_lon * t - o.sin_lon * east
    v = o.sin_lon * t + o.cos_lon * east
    x, y, z = o.x + u, o.y + v, o.z + w
    r = np.sqrt(x**2 + y**2 + z**2)  # ecef2geodetic
    u = np.sqrt(0.5 * (r**2 - _E**2) + 0.5 * np.hypot(r**2 - _E**2, 2 * _E * z))
    hxy = np.hypot(x, y)
    if not ((np.abs(u) > 1e-8).all() and (np.abs(hxy) > 1e-8).all()):  # isclose(., 0), or NaN
        return None
    huE = np.hypot(u, _E)
    beta = np.arctan(huE / u * z / hxy)
    beta += ((_B * u - _A * huE + _E**2) * np.sin(beta)) / (
        _A * huE * 1 / np.cos(beta) - _E**2 * np.cos(beta)
    )
    lat = np.arctan(_A / _B * np.tan(beta))
    lat = np.where(beta >= _LIM_PI2, np.pi / 2, lat)
    lat = np.where(beta <= -_LIM_PI2, -np.pi / 2, lat)
    lon = np.arctan2(y, x)
    cos_beta = np.cos(beta)
    cos_beta = np.where(beta >= _LIM_PI2, 0, cos_beta)
    cos_beta = np.where(beta <= -_LIM_PI2, 0, cos_beta)
    alt = np.hypot(z - _B * np.sin(beta), hxy - _A * cos_beta)
    inside = x**2 / _A**2 + y**2 / _A**2 + z**2 / _B**2 < 1
    if inside.any():
        alt[inside] = -alt[inside]
    return np.degrees(lat), np.degrees(lon), alt


@dataclass(frozen=True)
class SensorFrame:
    """A sensor's local ENU frame expressed in the camp frame.

    `position` is the sensor in camp ENU; `rotation` maps a camp-ENU vector into the
    sensor's local ENU (its north and its horizontal).
    """

    position: Array
    rotation: Array

    def to_local(self, enu: ArrayLike) -> Array:
        """Camp ENU points (..., 3) -> vectors from the sensor in its local ENU (..., 3)."""
        return (np.asarray(enu, dtype=np.float64) - self.position) @ self.rotation.T

    def to_camp(self, local: ArrayLike) -> Array:
        """Sensor-local ENU vectors (..., 3) -> camp ENU points (..., 3)."""
        return np.asarray(local, dtype=np.float64) @ self.rotation + self.position

    def aer_to_enu(self, az_deg: ArrayLike, el_deg: ArrayLike, range_m: ArrayLike) -> Array:
        """Azimuth (clockwise from true north), elevation and slant range -> camp ENU."""
        return self.to_camp(aer_to_local(az_deg, el_deg, range_m))

    def enu_to_aer(self, enu: ArrayLike) -> tuple[Array, Array, Array]:
        """Camp ENU points -> (azimuth 0..360, elevation, slant range) seen by the sensor."""
        return local_to_aer(self.to_local(enu))


def aer_to_local(az_deg: ArrayLike, el_deg: ArrayLike, range_m: ArrayLike) -> Array:
    """Spherical (az clockwise from north, el above horizontal, range) -> local ENU (..., 3)."""
    az, el = np.radians(az_deg), np.radians(el_deg)
    r = np.asarray(range_m, dtype=np.float64)
    horizontal = r * np.cos(el)
    return np.stack(
        np.broadcast_arrays(horizontal * np.sin(az), horizontal * np.cos(az), r * np.sin(el)),
        axis=-1,
    )


def local_to_aer(local: ArrayLike) -> tuple[Array, Array, Array]:
    """Local ENU vectors (..., 3) -> (azimuth 0..360, elevation -90..90, range)."""
    v = np.asarray(local, dtype=np.float64)
    e, n, u = v[..., 0], v[..., 1], v[..., 2]
    horizontal = np.hypot(e, n)
    az = np.degrees(np.arctan2(e, n)) % 360.0
    az = np.where(az >= 360.0, 0.0, az)  # -tiny % 360 rounds to 360
    el = np.degrees(np.arctan2(u, horizontal))
    return az, el, np.sqrt(horizontal**2 + u**2)


def _wrap(angle: ArrayLike, half_turn: float) -> Array:
    # Float % can round a tiny negative up to a whole turn; fold that back into range.
    wrapped = (np.asarray(angle, dtype=np.float64) + half_turn) % (2.0 * half_turn) - half_turn
    return np.where(wrapped >= half_turn, wrapped - 2.0 * half_turn, wrapped)


def wrap_deg(angle: ArrayLike) -> Array:
    """Wrap angle differences into [-180, 180)."""
    return _wrap(angle, 180.0)


def wrap_rad(angle: ArrayLike) -> Array:
    """Wrap angle differences into [-pi, pi)."""
    return _wrap(angle, np.pi)
