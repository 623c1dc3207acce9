"""Passive initiation: tracks from crossing bearings where no radar sees the target.

An RF direction finder or a camera alone cannot say where a target is, only in which
direction. Two of them, on different sites, can: detections that no track explained are kept
for a short while, and each new one is tried against those of *other* passive sensors:

- the pair must be close in time (`window_s`: the target moves meanwhile, which is added to
  the angular noise as `max_speed * dt`);
- RF detections that both name an emitter must name the same one (a frequency-hopping
  control link identifies its drone: this is what removes the ghost intersections of two
  direction finders hearing two drones);
- the horizontal bearings must cross at a real angle (`min_crossing_deg`), in front of both
  sensors and within their range;
- the position is the least-squares fit of the same measurement models the filter uses
  (Gauss-Newton from the horizontal intersection), with a weak altitude prior because a pair
  of RF bearings says nothing about height, and the fit must pass a chi-square test (two
  cameras measure four angles for three unknowns: inconsistent elevations are a ghost).

A triangulated track starts tentative like any other; it is confirmed only if later bearings
keep landing on it. The covariance of the fit is its initial position covariance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from cuas.tracking.measurements import MeasurementModel
from cuas.tracking.motion import POS, STATE_DIM, VEL
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]


@dataclass(frozen=True)
class _Sighting:
    sensor: int
    t: float
    z: Array
    var: Array
    model: MeasurementModel
    emitter: str | None


@dataclass
class PassiveInitiator:
    """Pairs unexplained angle-only detections of different sensors into tentative tracks."""

    window_s: float = 0.6
    min_crossing_deg: float = 5.0
    max_speed_mps: float = 40.0
    altitude_m: float = 100.0  # prior height above the camp origin
    altitude_sigma_m: float = 150.0
    speed_sigma: float = 20.0
    vspeed_sigma: float = 5.0
    fit_probability: float = 0.999
    _pending: list[_Sighting] = field(default_factory=list)

    def offer(self, scan: Scan, dets: NDArray[np.intp]) -> tuple[Array, Array, NDArray[np.intp]]:
        """States (k, 6), covariances (k, 6, 6) and the detections of `scan` they came from,
        for tracks triangulated from detections `dets` of an angle-only scan and the
        sightings kept from other sensors; detections that found no partner are kept."""
        self._pending = [s for s in self._pending if scan.t - s.t <= self.window_s]
        emitters = scan.labels.emitter_id if scan.labels is not None else None
        states, covs, used = [], [], []
        for j in dets.tolist():
            new = _Sighting(
                scan.sensor,
                scan.t,
                scan.z[j],
                scan.var[j],
                scan.model,
                emitters[j] if emitters is not None else None,
            )
            best = None
            for i, old in enumerate(self._pending):
                if old.sensor == new.sensor or not _same_emitter(old, new):
                    continue
                fit = self._fit(old, new)
                if fit is not None and (best is None or fit[2] < best[2]):
                    best = (i, fit, fit[2])
            if best is None:
                self._pending.append(new)
                continue
            i, (pos, cov, _), _ = best
            del self._pending[i]
            x = np.zeros(STATE_DIM)
            P = np.zeros((STATE_DIM, STATE_DIM))
            x[POS] = pos
            P[POS, POS] = cov
            P[VEL, VEL] = np.diag([self.speed_sigma**2] * 2 + [self.vspeed_sigma**2])
            states.append(x)
            covs.append(P)
            used.append(j)
        if not states:
            empty = np.zeros(0, dtype=np.intp)
            return np.zeros((0, STATE_DIM)), np.zeros((0, STATE_DIM, STATE_DIM)), empty
        return np.array(states), np.array(covs), np.array(used, dtype=np.intp)

    def _fit(self, a: _Sighting, b: _Sighting) -> tuple[Array, Array, float] | None:
        """Position, covariance and chi-square of the best point seen by both, or None."""
        start = self._crossing(a, b)
        if start is None:
            return None
        dt = abs(a.t - b.t)
        x = np.zeros((1, STATE_DIM))
        x[0, POS] = start
        for _ in range(6):
            J, r, w = [], [], []
            for s in (a, b):
                zhat, H = s.model.predict(x)
                rng = max(float(np.linalg.norm(x[0, POS] - s.model.geometry.frame.position)), 1.0)
                # The target moved while the two sightings were taken: widen the angles.
                var = s.var + (self.max_speed_mps * dt / rng) ** 2
                J.append(H[0][:, POS])
                r.append(s.model.residual(s.z, zhat[0]))
                w.append(1.0 / var)
            Jm = np.vstack([*J, [[0.0, 0.0, 1.0]]])
            rv = np.concatenate([*r, [self.altitude_m - x[0, 2]]])
            wv = np.concatenate([*w, [1.0 / self.altitude_sigma_m**2]])
            info = Jm.T @ (Jm * wv[:, None])
            try:
                step = np.linalg.solve(info, Jm.T @ (wv * rv))
            except np.linalg.LinAlgError:
                return None
            x[0, POS] += step
            if np.linalg.norm(step) < 0.1:
                break
        chi = float(np.sum(wv[:-1] * rv[:-1] ** 2))
        if chi > chi2.ppf(self.fit_probability, max(len(rv) - 1 - 2, 1)):
            return None
        for s in (a, b):
            local = s.model.geometry.frame.to_local(x[0, POS])
            if np.linalg.norm(local) > s.model.geometry.max_range_m:
                return None
        return x[0, POS].copy(), np.linalg.inv(info), chi

    def _crossing(self, a: _Sighting, b: _Sighting) -> Array | None:
        """Where the horizontal bearings cross, at the prior height; None if they do not."""
        pa, pb = a.model.geometry.frame.position, b.model.geometry.frame.position
        da = np.array([np.sin(a.z[0]), np.cos(a.z[0])])
        db = np.array([np.sin(b.z[0]), np.cos(b.z[0])])
        cross = da[0] * db[1] - da[1] * db[0]
        if abs(cross) < np.sin(np.radians(self.min_crossing_deg)):
            return None  # near-parallel: the intersection is hopelessly ill-conditioned
        rel = pb[:2] - pa[:2]
        ta = (rel[0] * db[1] - rel[1] * db[0]) / cross
        tb = (rel[0] * da[1] - rel[1] * da[0]) / cross
        if ta <= 0.0 or tb <= 0.0:
            return None  # the rays meet behind a sensor
        e, n = pa[:2] + ta * da
        return np.array([e, n, self.altitude_m])


def _same_emitter(a: _Sighting, b: _Sighting) -> bool:
    return a.emitter is None or b.emitter is None or a.emitter == b.emitter
