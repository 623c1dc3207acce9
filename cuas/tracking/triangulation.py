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

from cuas.tracking import kernels
from cuas.tracking.measurements import _MIN_RANGE, BearingModel, CameraModel, MeasurementModel
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
        pool = _Pool([s for s in self._pending if scan.t - s.t <= self.window_s])
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
            for i, fit in self._fits(pool, new):
                if fit is not None and (best is None or fit[2] < best[2]):
                    best = (i, fit, fit[2])
            if best is None:
                pool.append(new)
                continue
            i, (pos, cov, _), _ = best
            pool.delete(i)
            x = np.zeros(STATE_DIM)
            P = np.zeros((STATE_DIM, STATE_DIM))
            x[POS] = pos
            P[POS, POS] = cov
            P[VEL, VEL] = np.diag([self.speed_sigma**2] * 2 + [self.vspeed_sigma**2])
            states.append(x)
            covs.append(P)
            used.append(j)
        self._pending = pool.items
        if not states:
            empty = np.zeros(0, dtype=np.intp)
            return np.zeros((0, STATE_DIM)), np.zeros((0, STATE_DIM, STATE_DIM)), empty
        return np.array(states), np.array(covs), np.array(used, dtype=np.intp)

    def _fits(
        self, pool: _Pool, new: _Sighting
    ) -> list[tuple[int, tuple[Array, Array, float] | None]]:
        """(index, fit or None) of each pending sighting `new` may pair with, in order.

        The crossing test runs on all pending sightings at once, and the fits of those that
        cross run together per partner sensor: in a swarm hundreds of sightings are pending,
        and few of them cross a new line of sight in front of both sensors."""
        if not pool.items:
            return []
        starts, ok = self._crossings(pool, new)
        if new.emitter is not None:
            ok &= np.equal(pool.emitter, None) | np.equal(pool.emitter, new.emitter)
        candidates = np.flatnonzero(ok)
        fits: dict[int, tuple[Array, Array, float] | None] = {}
        by_sensor: dict[int, list[int]] = {}
        for i in candidates.tolist():
            by_sensor.setdefault(pool.items[i].sensor, []).append(i)
        for group in by_sensor.values():
            olds = [pool.items[i] for i in group]
            fits.update(zip(group, self._fit_batch(olds, new, starts[group]), strict=True))
        return [(i, fits[i]) for i in candidates.tolist()]

    def _fit(self, a: _Sighting, b: _Sighting) -> tuple[Array, Array, float] | None:
        """Position, covariance and chi-square of the best point seen by both, or None."""
        starts, ok = self._crossings(_Pool([a]), b)
        return self._fit_batch([a], b, starts)[0] if ok[0] else None

    def _fit_batch(
        self, olds: list[_Sighting], b: _Sighting, starts: Array
    ) -> list[tuple[Array, Array, float] | None]:
        """`_fit` of each of `olds` (sightings of one sensor) with `b`, from their crossings
        `starts` (c, 3): Gauss-Newton for all pairs at once, each stopping on its own."""
        c = len(olds)
        if c == 0:
            return []
        a_model = olds[0].model
        za = np.array([s.z for s in olds])
        vara = np.array([s.var for s in olds])
        dt = np.abs(np.array([s.t for s in olds]) - b.t)
        if kernels.ENABLED and type(a_model) in _ELEVATION and type(b.model) in _ELEVATION:
            return self._fit_compiled(olds, b, starts, za, vara, dt)
        x = np.zeros((c, STATE_DIM))
        x[:, POS] = starts
        K = za.shape[1] + b.z.shape[0] + 1  # residuals: both sightings' angles, altitude
        last_r = np.zeros((c, K))  # each pair's residuals, weights and information matrix
        last_w = np.zeros((c, K))  # at its last step
        last_info = np.zeros((c, 3, 3))
        stepped = np.zeros(c, dtype=bool)
        failed = np.zeros(c, dtype=bool)
        active = np.arange(c)
        for _ in range(6):
            if active.size == 0:
                break
            xa = x[active]
            J, r, w = [], [], []
            for model, z, var in ((a_model, za[active], vara[active]), (b.model, b.z, b.var)):
                zhat, H = model.predict(xa)
                d = xa[:, POS] - model.geometry.frame.position
                rng = np.maximum(np.sqrt(np.einsum("ij,ij->i", d, d)), 1.0)
                # The target moved while the two sightings were taken: widen the angles.
                J.append(H[:, :, POS])
                r.append(model.residual(z, zhat))
                w.append(1.0 / (var + ((self.max_speed_mps * dt[active] / rng) ** 2)[:, None]))
            k = active.size
            Jm = np.concatenate([*J, np.broadcast_to([[[0.0, 0.0, 1.0]]], (k, 1, 3))], axis=1)
            rv = np.concatenate([*r, (self.altitude_m - xa[:, 2])[:, None]], axis=1)
            wv = np.concatenate([*w, np.full((k, 1), 1.0 / self.altitude_sigma_m**2)], axis=1)
            JmT = Jm.transpose(0, 2, 1)
            info = JmT @ (Jm * wv[:, :, None])
            rhs = (JmT @ (wv * rv)[:, :, None])[:, :, 0]
            singular = np.linalg.det(info) == 0.0
            if singular.any():  # no step exists: that pair has no fit
                failed[active[singular]] = True
                keep = ~singular
                active, info, rhs, rv, wv = (
                    active[keep],
                    info[keep],
                    rhs[keep],
                    rv[keep],
                    wv[keep],
                )
                if active.size == 0:
                    break
            step = np.linalg.solve(info, rhs[:, :, None])[:, :, 0]
            x[active, 0:3] += step
            last_r[active], last_w[active], last_info[active] = rv, wv, info
            stepped[active] = True
            active = active[np.sqrt(np.einsum("ij,ij->i", step, step)) >= 0.1]
        chi = np.sum(last_w[:, :-1] * last_r[:, :-1] ** 2, axis=1)
        good = stepped & ~failed & (chi <= self._chi_limit(K))
        for model in (a_model, b.model):  # the point must be within both sensors' range
            local = model.geometry.frame.to_local(x[:, POS])
            good &= np.sqrt(np.einsum("ij,ij->i", local, local)) <= model.geometry.max_range_m
        out: list[tuple[Array, Array, float] | None] = [None] * c
        rows = np.flatnonzero(good)
        if rows.size:
            covs = np.linalg.inv(last_info[rows])
            for n, i in enumerate(rows.tolist()):
                out[i] = (x[i, POS].copy(), covs[n], float(chi[i]))
        return out

    def _fit_compiled(
        self,
        olds: list[_Sighting],
        b: _Sighting,
        starts: Array,
        za: Array,
        vara: Array,
        dt: Array,
    ) -> list[tuple[Array, Array, float] | None]:
        """`_fit_batch` by `kernels.triangulate` (its numpy code is the reference)."""
        ga, gb = olds[0].model.geometry, b.model.geometry
        good, pos, cov, chi = kernels.triangulate(
            np.ascontiguousarray(starts, dtype=np.float64),
            np.ascontiguousarray(za, dtype=np.float64),
            np.ascontiguousarray(vara, dtype=np.float64),
            dt.astype(np.float64),
            _ELEVATION[type(olds[0].model)],
            ga.frame.position,
            ga.frame.rotation,
            float(ga.max_range_m),
            np.ascontiguousarray(b.z, dtype=np.float64),
            np.ascontiguousarray(b.var, dtype=np.float64),
            _ELEVATION[type(b.model)],
            gb.frame.position,
            gb.frame.rotation,
            float(gb.max_range_m),
            float(self.max_speed_mps),
            float(self.altitude_m),
            float(self.altitude_sigma_m),
            self._chi_limit(za.shape[1] + b.z.shape[0] + 1),
            _MIN_RANGE,
        )
        out: list[tuple[Array, Array, float] | None] = [None] * len(olds)
        for i in np.flatnonzero(good).tolist():
            out[i] = (pos[i].copy(), cov[i], float(chi[i]))
        return out

    def _chi_limit(self, residuals: int) -> float:
        """The fit's chi-square bound for `residuals` components (two of them the altitude
        prior and the unknowns' count is three): computed once per count."""
        key = (self.fit_probability, residuals)
        if key not in _CHI_LIMITS:
            _CHI_LIMITS[key] = float(chi2.ppf(self.fit_probability, max(residuals - 1 - 2, 1)))
        return _CHI_LIMITS[key]

    def _crossings(self, pool: _Pool, b: _Sighting) -> tuple[Array, NDArray[np.bool_]]:
        """Where the horizontal bearing of `b` crosses each pending one (at the prior height),
        and whether it does: another sensor, a real angle, in front of both."""
        pa, az = pool.site, pool.az
        pb = b.model.geometry.frame.position
        da0, da1 = np.sin(az), np.cos(az)
        db0, db1 = np.sin(b.z[0]), np.cos(b.z[0])
        cross = da0 * db1 - da1 * db0
        # Near-parallel bearings: the intersection is hopelessly ill-conditioned.
        ok = np.abs(cross) >= np.sin(np.radians(self.min_crossing_deg))
        ok &= pool.sensor != b.sensor
        rel0, rel1 = pb[0] - pa[:, 0], pb[1] - pa[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (rel0 * db1 - rel1 * db0) / cross
            tb = (rel0 * da1 - rel1 * da0) / cross
            starts = np.stack(
                [pa[:, 0] + ta * da0, pa[:, 1] + ta * da1, np.full(len(az), self.altitude_m)],
                axis=1,
            )
        ok &= (ta > 0.0) & (tb > 0.0)  # not where the rays meet behind a sensor
        return starts, ok


_CHI_LIMITS: dict[tuple[float, int], float] = {}
# The angle-only models the compiled fit knows, and whether they measure elevation.
_ELEVATION: dict[type, bool] = {BearingModel: False, CameraModel: True}


class _Pool:
    """Pending sightings, with what the crossing test reads of them kept as arrays (built
    once per scan and kept in step, instead of gathered for every new line of sight)."""

    def __init__(self, items: list[_Sighting]) -> None:
        self.items = items
        self.sensor = np.array([s.sensor for s in items], dtype=np.intp)
        self.az = np.array([s.z[0] for s in items], dtype=np.float64)
        self.site = np.array(
            [s.model.geometry.frame.position[:2] for s in items], dtype=np.float64
        ).reshape(-1, 2)
        self.emitter = np.array([s.emitter for s in items], dtype=object)

    def append(self, s: _Sighting) -> None:
        self.items.append(s)
        self.sensor = np.append(self.sensor, s.sensor)
        self.az = np.append(self.az, s.z[0])
        self.site = np.vstack([self.site, s.model.geometry.frame.position[:2]])
        self.emitter = np.append(self.emitter, s.emitter)

    def delete(self, i: int) -> None:
        del self.items[i]
        self.sensor = np.delete(self.sensor, i)
        self.az = np.delete(self.az, i)
        self.site = np.delete(self.site, i, axis=0)
        self.emitter = np.delete(self.emitter, i)
