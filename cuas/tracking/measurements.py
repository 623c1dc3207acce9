"""Measurement models: predicted measurements and their Jacobians for many tracks at once.

Each model is built for one sensor (it knows the sensor's frame) and exposes:
- `predict(x)`: predicted measurements (n, m) and Jacobians (n, m, 6) for states (n, 6);
- `residual(z, zhat)`: innovations with angular components wrapped to [-pi, pi);
- `initiate(z, var)`: a position and its covariance from detections alone, where the
  measurement localises a target in 3-D (radar, Remote ID); angle-only models cannot;
- `velocity_prior(...)`: what the detection says about velocity at initiation;
- `charges_misses`: whether a scan that does not see a covered track counts as a miss for
  its confirmation and deletion logic (a radar or camera looks at everything in its field;
  an RF direction finder hears only emitters and a Remote ID receiver only cooperative
  drones, so their silence says nothing).
Angles are radians inside the tracker; the wire's degrees are converted when a scan is built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from cuas.geodesy import wrap_rad
from cuas.tracking import kernels, measurement_kernels
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.motion import POS, STATE_DIM, VEL

Array = NDArray[np.float64]
_MIN_RANGE = 1e-3  # metres; keeps Jacobians finite for a state on top of the sensor


class MeasurementModel(ABC):
    """A sensor's measurement function h(x) and what the tracker needs to know about it."""

    dim: int
    wrap: NDArray[np.bool_]  # components that are angles
    coarse: int  # the component used for the cheap first gating pass
    can_initiate: bool
    charges_misses: bool

    def __init__(self, geometry: SensorGeometry) -> None:
        self.geometry = geometry

    @abstractmethod
    def predict(self, x: Array) -> tuple[Array, Array]:
        """Predicted measurements (n, m) and Jacobians dh/dx (n, m, 6)."""

    def residual(self, z: Array, zhat: Array) -> Array:
        """z - zhat with angles wrapped; broadcasts."""
        y = z - zhat
        if self.wrap.any():
            y[..., self.wrap] = wrap_rad(y[..., self.wrap])
        return y

    def initiate(self, z: Array, var: Array) -> tuple[Array, Array]:
        """Position estimates (k, 3) and their covariances (k, 3, 3) from detections alone."""
        raise NotImplementedError(f"{type(self).__name__} cannot localise a target alone")

    def velocity_prior(self, z: Array, var: Array, pos: Array, V: Array) -> tuple[Array, Array]:
        """Initial velocity (k, 3) and covariance (k, 3, 3) given the default prior V (3, 3)."""
        k = z.shape[0]
        return np.zeros((k, 3)), np.broadcast_to(V, (k, 3, 3)).copy()


class _Spherical:
    """Range, azimuth (clockwise from north) and elevation of tracks seen from a sensor,
    with their Jacobians with respect to the camp-frame position."""

    def __init__(self, geometry: SensorGeometry, x: Array) -> None:
        rot = geometry.frame.rotation
        self.rotation = rot
        if kernels.ENABLED:  # one compiled pass; the numpy below is the reference
            self.local, self.range, self.az, self.el, J = kernels.spherical(
                np.ascontiguousarray(x), geometry.frame.position, rot, _MIN_RANGE
            )
            self.J_range, self.J_az, self.J_el = J[:, 0], J[:, 1], J[:, 2]
            return
        d = geometry.frame.to_local(x[:, POS])
        e, n, u = d[:, 0], d[:, 1], d[:, 2]
        rho2 = np.maximum(e * e + n * n, _MIN_RANGE**2)
        rho = np.sqrt(rho2)
        r2 = rho2 + u * u
        self.local = d
        self.range = np.sqrt(r2)
        self.az = np.arctan2(e, n)
        self.el = np.arctan2(u, rho)
        zero = np.zeros_like(e)
        J_range = d / self.range[:, None]
        J_az = np.stack([n / rho2, -e / rho2, zero], axis=-1)
        J_el = np.stack([-e * u / (r2 * rho), -n * u / (r2 * rho), rho / r2], axis=-1)
        # Rows w.r.t. the camp-frame position: chain rule through the frame rotation.
        self.J_range = J_range @ rot
        self.J_az = J_az @ rot
        self.J_el = J_el @ rot


class RadarModel(MeasurementModel):
    """Range, azimuth (clockwise from north), elevation, and optionally range-rate."""

    coarse = 1  # azimuth: narrower than range in every camp measured (tracks spread round)
    can_initiate = True
    charges_misses = True

    def __init__(self, geometry: SensorGeometry, with_range_rate: bool) -> None:
        super().__init__(geometry)
        self.with_range_rate = with_range_rate
        self.dim = 4 if with_range_rate else 3
        self.wrap = np.array([False, True, False, False][: self.dim])

    def predict(self, x: Array) -> tuple[Array, Array]:
        if kernels.ENABLED:  # one compiled pass; `_predict` is the reference
            frame = self.geometry.frame
            return measurement_kernels.radar_predict(
                np.ascontiguousarray(x),
                frame.position,
                frame.rotation,
                _MIN_RANGE,
                self.with_range_rate,
            )
        return self._predict(x)

    def _predict(self, x: Array) -> tuple[Array, Array]:
        """`predict` in numpy, but for the geometry (`_Spherical`, compiled when enabled)."""
        s = _Spherical(self.geometry, x)
        count = x.shape[0]
        zhat = np.empty((count, self.dim))
        zhat[:, 0], zhat[:, 1], zhat[:, 2] = s.range, s.az, s.el
        H = np.zeros((count, self.dim, STATE_DIM))
        H[:, 0, POS], H[:, 1, POS], H[:, 2, POS] = s.J_range, s.J_az, s.J_el
        if self.with_range_rate:
            v = x[:, VEL] @ s.rotation.T
            los = s.local / s.range[:, None]
            rr = np.einsum("ij,ij->i", los, v)
            zhat[:, 3] = rr
            H[:, 3, POS] = ((v - rr[:, None] * los) / s.range[:, None]) @ s.rotation
            H[:, 3, VEL] = los @ s.rotation
        return zhat, H

    def initiate(self, z: Array, var: Array) -> tuple[Array, Array]:
        rng, az, el = z[:, 0], z[:, 1], z[:, 2]
        ca, sa, ce, se = np.cos(az), np.sin(az), np.cos(el), np.sin(el)
        if kernels.ENABLED:  # the rest in one compiled pass; the numpy below is the reference
            frame = self.geometry.frame
            return measurement_kernels.radar_initiate(
                np.ascontiguousarray(z),
                np.ascontiguousarray(var),
                ca,
                sa,
                ce,
                se,
                frame.position,
                frame.rotation,
            )
        local = np.stack([rng * ce * sa, rng * ce * ca, rng * se], axis=-1)
        # Columns: d/drange, d/daz, d/del of the local position.
        J = np.empty((z.shape[0], 3, 3))
        J[:, :, 0] = np.stack([ce * sa, ce * ca, se], axis=-1)
        J[:, :, 1] = np.stack([rng * ce * ca, -rng * ce * sa, np.zeros_like(rng)], axis=-1)
        J[:, :, 2] = np.stack([-rng * se * sa, -rng * se * ca, rng * ce], axis=-1)
        cov_local = (J * var[:, None, :3]) @ J.transpose(0, 2, 1)
        rot = self.geometry.frame.rotation
        pos = self.geometry.frame.to_camp(local)
        cov = rot.T @ cov_local @ rot
        return pos, cov

    def velocity_prior(self, z: Array, var: Array, pos: Array, V: Array) -> tuple[Array, Array]:
        """With range-rate, the velocity along the line of sight is measured, not guessed:
        that roughly halves the time a fast target needs to be confirmed."""
        if not self.with_range_rate:
            return super().velocity_prior(z, var, pos, V)
        if kernels.ENABLED:  # one compiled pass; the numpy below is the reference
            return measurement_kernels.radar_velocity_prior(
                np.ascontiguousarray(z),
                np.ascontiguousarray(var),
                np.ascontiguousarray(pos),
                self.geometry.frame.position,
                np.ascontiguousarray(V, dtype=np.float64),
                _MIN_RANGE,
            )
        los = self.line_of_sight(pos)
        outer = los[:, :, None] * los[:, None, :]
        across = np.eye(3) - outer
        return z[:, 3:4] * los, across @ V @ across + var[:, 3][:, None, None] * outer

    def line_of_sight(self, positions: Array) -> Array:
        """Unit vectors (k, 3), in the camp frame, from the sensor to positions."""
        d = positions - self.geometry.frame.position
        return d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), _MIN_RANGE)


class CameraModel(MeasurementModel):
    """Azimuth and elevation of an EO/IR camera: a direction, no range."""

    dim = 2
    wrap = np.array([True, False])
    coarse = 0
    can_initiate = False
    charges_misses = True

    def predict(self, x: Array) -> tuple[Array, Array]:
        s = _Spherical(self.geometry, x)
        H = np.zeros((x.shape[0], 2, STATE_DIM))
        H[:, 0, POS], H[:, 1, POS] = s.J_az, s.J_el
        return np.stack([s.az, s.el], axis=-1), H


class BearingModel(MeasurementModel):
    """True-north bearing of an RF direction finder."""

    dim = 1
    wrap = np.array([True])
    coarse = 0
    can_initiate = False
    charges_misses = False

    def predict(self, x: Array) -> tuple[Array, Array]:
        s = _Spherical(self.geometry, x)
        H = np.zeros((x.shape[0], 1, STATE_DIM))
        H[:, 0, POS] = s.J_az
        return s.az[:, None], H


class PositionModel(MeasurementModel):
    """A reported camp-ENU position (Remote ID), optionally with its velocity: linear."""

    coarse = 0
    can_initiate = True
    charges_misses = False

    def __init__(self, geometry: SensorGeometry, with_velocity: bool) -> None:
        super().__init__(geometry)
        self.with_velocity = with_velocity
        self.dim = 6 if with_velocity else 3
        self.wrap = np.zeros(self.dim, dtype=bool)
        self._H = np.eye(STATE_DIM)[: self.dim]

    def predict(self, x: Array) -> tuple[Array, Array]:
        H = np.broadcast_to(self._H, (x.shape[0], self.dim, STATE_DIM)).copy()
        return x[:, : self.dim].copy(), H

    def initiate(self, z: Array, var: Array) -> tuple[Array, Array]:
        cov = np.zeros((z.shape[0], 3, 3))
        idx = np.arange(3)
        cov[:, idx, idx] = var[:, :3]
        return z[:, :3].copy(), cov

    def velocity_prior(self, z: Array, var: Array, pos: Array, V: Array) -> tuple[Array, Array]:
        if not self.with_velocity:
            return super().velocity_prior(z, var, pos, V)
        cov = np.zeros((z.shape[0], 3, 3))
        idx = np.arange(3)
        cov[:, idx, idx] = var[:, 3:6]
        return z[:, 3:6].copy(), cov
