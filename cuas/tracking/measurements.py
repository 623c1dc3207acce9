"""Measurement models: predicted measurements and their Jacobians for many tracks at once.

Each model is built for one sensor (it knows the sensor's frame) and exposes:
- `predict(x)`: predicted measurements (n, m) and Jacobians (n, m, 6) for states (n, 6);
- `residual(z, zhat)`: innovations with angular components wrapped to [-pi, pi);
- `initiate(z, var)`: a state and covariance from detections alone, where the measurement
  localises a target in 3-D (radar); angle-only models cannot and say so.
Angles are radians inside the tracker; the wire's degrees are converted when a scan is built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from cuas.geodesy import wrap_rad
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


class RadarModel(MeasurementModel):
    """Range, azimuth (clockwise from north), elevation, and optionally range-rate."""

    coarse = 0
    can_initiate = True

    def __init__(self, geometry: SensorGeometry, with_range_rate: bool) -> None:
        super().__init__(geometry)
        self.with_range_rate = with_range_rate
        self.dim = 4 if with_range_rate else 3
        self.wrap = np.array([False, True, False, False][: self.dim])

    def predict(self, x: Array) -> tuple[Array, Array]:
        rot = self.geometry.frame.rotation
        d = self.geometry.frame.to_local(x[:, POS])
        e, n, u = d[:, 0], d[:, 1], d[:, 2]
        rho2 = np.maximum(e * e + n * n, _MIN_RANGE**2)
        rho = np.sqrt(rho2)
        r2 = rho2 + u * u
        r = np.sqrt(r2)
        count = x.shape[0]
        zhat = np.empty((count, self.dim))
        zhat[:, 0] = r
        zhat[:, 1] = np.arctan2(e, n)
        zhat[:, 2] = np.arctan2(u, rho)
        J = np.zeros((count, self.dim, 3))  # w.r.t. the local position vector
        J[:, 0, :] = d / r[:, None]
        J[:, 1, 0] = n / rho2
        J[:, 1, 1] = -e / rho2
        J[:, 2, 0] = -e * u / (r2 * rho)
        J[:, 2, 1] = -n * u / (r2 * rho)
        J[:, 2, 2] = rho / r2
        H = np.zeros((count, self.dim, STATE_DIM))
        if self.with_range_rate:
            v = x[:, VEL] @ rot.T
            los = d / r[:, None]
            rr = np.einsum("ij,ij->i", los, v)
            zhat[:, 3] = rr
            J[:, 3, :] = (v - rr[:, None] * los) / r[:, None]
            H[:, 3, VEL] = los @ rot
        H[:, :, POS] = J @ rot
        return zhat, H

    def initiate(self, z: Array, var: Array) -> tuple[Array, Array]:
        rng, az, el = z[:, 0], z[:, 1], z[:, 2]
        ca, sa, ce, se = np.cos(az), np.sin(az), np.cos(el), np.sin(el)
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

    def line_of_sight(self, positions: Array) -> Array:
        """Unit vectors (k, 3), in the camp frame, from the sensor to positions."""
        d = positions - self.geometry.frame.position
        return d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), _MIN_RANGE)
