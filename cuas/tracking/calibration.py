"""Sensor noise calibration: each angle-only sensor's real noise, learnt while it works.

A camp configures each sensor's noise from its datasheet, and the datasheet is often wrong
by half (siting, multipath, a worn antenna). A direction finder noisier than configured makes
its bearings-only tracks overconfident (their errors leave their covariance) and drags the
tracks it updates; one quieter than configured throws information away.

The calibration learns the truth from the sensor's own innovations on tracks that another
sensor places (a firm track a radar or Remote ID updated recently): there the track's
uncertainty across the line of sight is small against the bearing's, so an innovation is
almost all measurement noise, y^2 ~ sigma_real^2 chi2(1). Per sensor and measured component,
the median of y^2 / sigma_configured^2 over the last `window` such innovations, divided by
chi2(1)'s median, estimates (sigma_real / sigma_configured)^2; the median ignores the few
pairs that association got wrong. Once `min_samples` are in, the scale (bounded by
`bounds`) multiplies the variances of that sensor's detections before anything uses them:
gating, association, updates, initiation.

Only sensors that cannot place a target alone (direction finders, cameras) are calibrated:
a radar is the reference the others are measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
CHI2_1_MEDIAN = 0.454936423119572  # median of a chi-square variable with one degree of freedom


@dataclass
class NoiseCalibration:
    """Per-sensor variance scales learnt from innovations on tracks other sensors place."""

    n_sensors: int
    max_dim: int = 4
    window: int = 256  # innovations kept per sensor and component
    min_samples: int = 40  # before the scale moves off 1
    max_track_share: float = 0.25  # use a pair only where H P H' is below this share of R
    bounds: tuple[float, float] = (0.25, 4.0)  # variance scale: sigma x0.5 to x2
    scale: Array = field(init=False)
    _ratios: Array = field(init=False)
    _count: NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        self.scale = np.ones((self.n_sensors, self.max_dim))
        self._ratios = np.zeros((self.n_sensors, self.window, self.max_dim))
        self._count = np.zeros(self.n_sensors, dtype=np.int64)

    def variances(self, sensor: int, var: Array) -> Array:
        """Detection variances (k, dim) of `sensor` as calibrated (the input if unchanged)."""
        scale = self.scale[sensor, : var.shape[1]]
        if np.all(scale == 1.0):
            return var
        return var * scale

    def observe(self, sensor: int, y: Array, S: Array, var: Array) -> None:
        """Learn from innovations y (p, dim) with covariances S (p, dim, dim) of pairs whose
        tracks another sensor places; `var` (p, dim) are the variances the update used."""
        p, dim = y.shape
        if p == 0:
            return
        diag = np.arange(dim)
        track_part = S[:, diag, diag] - var
        usable = (track_part < self.max_track_share * var).all(axis=1)
        if not usable.any():
            return
        configured = var[usable] / self.scale[sensor, :dim]
        ratios = y[usable] ** 2 / configured
        start = int(self._count[sensor])
        at = (start + np.arange(ratios.shape[0])) % self.window
        self._ratios[sensor, at, :dim] = ratios
        self._count[sensor] = start + ratios.shape[0]
        n = min(int(self._count[sensor]), self.window)
        if n >= self.min_samples:
            estimate = np.median(self._ratios[sensor, :n, :dim], axis=0) / CHI2_1_MEDIAN
            self.scale[sensor, :dim] = np.clip(estimate, *self.bounds)
