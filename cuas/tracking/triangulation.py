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
keep landing on it. The fit and its covariance start it where the fit is sure to a tenth of
its distance; elsewhere its linearisation fails (RF bearings meeting at a narrow angle; a
camera's clutter crossing another camera's line of sight where the elevations barely
agree) and the track starts from the moments of the pair's whole likelihood (`_posterior`,
lines_of_sight.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from cuas.tracking import kernels, lines_of_sight
from cuas.tracking.measurements import _MIN_RANGE, BearingModel, CameraModel, MeasurementModel
from cuas.tracking.motion import POS, STATE_DIM, VEL
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]


class _Fits(NamedTuple):
    """Fits of pairs (c of them): whether each passed, its position (c, 3), covariance
    (c, 3, 3; meaningful where it passed) and chi-square."""

    good: NDArray[np.bool_]
    pos: Array
    cov: Array
    chi: Array


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
            best = self._best_fit(pool, new)
            if best is None:
                pool.append(new)
                continue
            i, pos, cov = best
            partner = pool.items[i]
            pool.delete(i)
            pos, cov = self._posterior(partner, new, pos, cov)
            x = np.zeros(STATE_DIM)
            P = np.zeros((STATE_DIM, STATE_DIM))
            x[POS] = pos
            P[POS, POS] = cov
            P[VEL, VEL] = np.diag([self.speed_sigma**2] * 2 + [self.vspeed_sigma**2])
            states.append(x)
            covs.append(P)
            used.append(j)
        self._pending = pool.pending()
        if not states:
            empty = np.zeros(0, dtype=np.intp)
            return np.zeros((0, STATE_DIM)), np.zeros((0, STATE_DIM, STATE_DIM)), empty
        return np.array(states), np.array(covs), np.array(used, dtype=np.intp)

    def _posterior(self, a: _Sighting, b: _Sighting, pos: Array, cov: Array) -> tuple[Array, Array]:
        """Mean and covariance of where two angles (RF bearings, cameras' directions) place a
        target, over the whole region their lines of sight allow (lines_of_sight.py), not
        linearised at their crossing (`pos`, `cov`, the fit, which is kept if no point is in
        reach). Two bearings say nothing of height: the fit's (its prior) is kept. Where the
        fit is sure to a tenth of its distance from the nearer sensor, the linearisation holds
        over its uncertainty and the fit is the answer: most pairs, in a swarm hundreds a
        second, skip the grid.

        Camera pairs too: a camera's false alarm 250 m out, paired with another camera's line
        of sight to a drone 1.5 km beyond it (camp 13 of the robustness benchmark), fitted
        with a 43 m spread; the confirmed track, fed the drone's bearings, later raised an
        alert on nothing. Over the whole likelihood the pair is as vague as it is."""
        spread = float(np.sqrt(np.linalg.eigvalsh(cov[:2, :2])[-1]))
        near = min(float(np.hypot(*(pos - s.model.geometry.frame.position)[:2])) for s in (a, b))
        if spread < LINEAR_SPREAD * near:
            return pos, cov
        out = lines_of_sight.posterior(
            [lines_of_sight.Sighting(s.t, s.z, s.var, s.model) for s in (a, b)],
            max(a.t, b.t),
            np.zeros(2),
            self.max_speed_mps,
            lines_of_sight.HeightPrior(self.altitude_m, self.altitude_sigma_m),
            (float(pos[2]), float(cov[2, 2])),
        )
        return (pos, cov) if out is None else out

    def _best_fit(self, pool: _Pool, new: _Sighting) -> tuple[int, Array, Array] | None:
        """The pending sighting `new` pairs with best (index, fitted position and covariance):
        of those whose fit passes, the least chi-square, the first of equals; None if none.

        The crossing test runs on all pending sightings at once, and the fits of those that
        cross run together per partner sensor: in a swarm hundreds of sightings are pending,
        and few of them cross a new line of sight in front of both sensors. The fits stay in
        arrays: of the thousands a scan computes, one per new line of sight is taken."""
        if not pool.alive.any():
            return None
        candidates, starts = self._crossings(pool, new)
        c = candidates.size
        if c == 0:
            return None
        chi = np.full(c, np.inf)  # a failed fit never wins
        pos = np.empty((c, 3))
        cov = np.empty((c, 3, 3))
        sensors = pool.sensor[candidates]
        for sensor in np.unique(sensors).tolist():
            group = (sensors == sensor).nonzero()[0]
            at = candidates[group]
            model = pool.items[int(at[0])].model
            fits = self._fit_arrays(
                pool.z[at, : model.dim],
                pool.var[at, : model.dim],
                np.abs(pool.t[at] - new.t),
                model,
                new,
                starts[group],
            )
            chi[group] = np.where(fits.good, fits.chi, np.inf)
            pos[group], cov[group] = fits.pos, fits.cov
        best = int(np.argmin(chi))
        if chi[best] == np.inf:
            return None
        return int(candidates[best]), pos[best].copy(), cov[best]

    def _fit(self, a: _Sighting, b: _Sighting) -> tuple[Array, Array, float] | None:
        """Position, covariance and chi-square of the best point seen by both, or None."""
        crossing, starts = self._crossings(_Pool([a]), b, by_emitter=False)
        return self._fit_batch([a], b, starts)[0] if crossing.size else None

    def _fit_batch(
        self, olds: list[_Sighting], b: _Sighting, starts: Array
    ) -> list[tuple[Array, Array, float] | None]:
        """`_fit` of each of `olds` (sightings of one sensor) with `b`, from their crossings
        `starts` (c, 3)."""
        if not olds:
            return []
        fits = self._fit_arrays(
            np.array([s.z for s in olds]),
            np.array([s.var for s in olds]),
            np.abs(np.array([s.t for s in olds]) - b.t),
            olds[0].model,
            b,
            starts,
        )
        out: list[tuple[Array, Array, float] | None] = [None] * len(olds)
        for i in fits.good.nonzero()[0].tolist():
            out[i] = (fits.pos[i].copy(), fits.cov[i], float(fits.chi[i]))
        return out

    def _fit_arrays(
        self,
        za: Array,
        vara: Array,
        dt: Array,
        a_model: MeasurementModel,
        b: _Sighting,
        starts: Array,
    ) -> _Fits:
        """The fits of sightings of one sensor (`a_model`; angles `za` (c, m), variances
        `vara`, time apart from `b` `dt` (c,)) with `b`, from their crossings `starts` (c, 3):
        Gauss-Newton for all pairs at once, each stopping on its own."""
        c = za.shape[0]
        if kernels.ENABLED and type(a_model) in _ELEVATION and type(b.model) in _ELEVATION:
            return self._fit_compiled(a_model, b, starts, za, vara, dt)
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
        cov = np.zeros((c, 3, 3))
        rows = good.nonzero()[0]
        if rows.size:
            cov[rows] = np.linalg.inv(last_info[rows])
        return _Fits(good, x[:, POS], cov, chi)

    def _fit_compiled(
        self,
        a_model: MeasurementModel,
        b: _Sighting,
        starts: Array,
        za: Array,
        vara: Array,
        dt: Array,
    ) -> _Fits:
        """`_fit_arrays` by `kernels.triangulate` (its numpy code is the reference)."""
        ga, gb = a_model.geometry, b.model.geometry
        return _Fits(
            *kernels.triangulate(
                np.ascontiguousarray(starts, dtype=np.float64),
                np.ascontiguousarray(za, dtype=np.float64),
                np.ascontiguousarray(vara, dtype=np.float64),
                dt.astype(np.float64),
                _ELEVATION[type(a_model)],
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
        )

    def _chi_limit(self, residuals: int) -> float:
        """The fit's chi-square bound for `residuals` components (two of them the altitude
        prior and the unknowns' count is three): computed once per count."""
        key = (self.fit_probability, residuals)
        if key not in _CHI_LIMITS:
            _CHI_LIMITS[key] = float(chi2.ppf(self.fit_probability, max(residuals - 1 - 2, 1)))
        return _CHI_LIMITS[key]

    def _crossings(
        self, pool: _Pool, b: _Sighting, by_emitter: bool = True
    ) -> tuple[NDArray[np.intp], Array]:
        """The pending sightings (indices, in order) whose horizontal bearing that of `b`
        crosses (another sensor, a real angle, in front of both; with `by_emitter`, naming
        no emitter or the same as `b`), and where (c, 3), at the prior height."""
        code = pool.code(b.emitter) if by_emitter and b.emitter is not None else _ANY
        pb = b.model.geometry.frame.position
        db0, db1 = np.sin(b.z[0]), np.cos(b.z[0])
        # Near-parallel bearings: the intersection is hopelessly ill-conditioned.
        min_sin = np.sin(np.radians(self.min_crossing_deg))
        if kernels.ENABLED:  # the same tests, compiled; the code below is the reference
            return kernels.crossings(
                pool.site,
                pool.sin,
                pool.cos,
                pool.sensor,
                pool.alive,
                pool.emitter,
                pool.size,
                b.sensor,
                float(pb[0]),
                float(pb[1]),
                float(db0),
                float(db1),
                float(min_sin),
                code,
                float(self.altitude_m),
            )
        n = pool.size
        pa = pool.site[:n]
        da0, da1 = pool.sin[:n], pool.cos[:n]
        cross = da0 * db1 - da1 * db0
        ok = np.abs(cross) >= min_sin
        ok &= (pool.sensor[:n] != b.sensor) & pool.alive[:n]
        if code != _ANY:
            ok &= (pool.emitter[:n] == 0) | (pool.emitter[:n] == code)
        rel0, rel1 = pb[0] - pa[:, 0], pb[1] - pa[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (rel0 * db1 - rel1 * db0) / cross
            tb = (rel0 * da1 - rel1 * da0) / cross
        ok &= (ta > 0.0) & (tb > 0.0)  # not where the rays meet behind a sensor
        at = ok.nonzero()[0]
        starts = np.empty((at.size, 3))
        starts[:, 0] = pa[at, 0] + ta[at] * da0[at]
        starts[:, 1] = pa[at, 1] + ta[at] * da1[at]
        starts[:, 2] = self.altitude_m
        return at, starts


# A fit whose largest horizontal sigma is under this share of its distance from the nearer
# sensor is taken as it is (the linearisation holds over its uncertainty).
LINEAR_SPREAD = 0.1
_ANY = -2  # `_crossings` with any emitter (-1: one no pending sighting names)
_CHI_LIMITS: dict[tuple[float, int], float] = {}
# The angle-only models the compiled fit knows, and whether they measure elevation.
_ELEVATION: dict[type, bool] = {BearingModel: False, CameraModel: True}


class _Pool:
    """Pending sightings, with what the crossing test reads of them kept as arrays (built
    once per scan and kept in step, instead of gathered for every new line of sight). A
    sighting taken is marked, not removed, and room for more is made by doubling: in a swarm
    hundreds are pending, and copying every array for each one in or out cost more than the
    test. Emitter ids are kept as integer codes (0: none)."""

    def __init__(self, items: list[_Sighting]) -> None:
        self.items = list(items)
        self.size = n = len(items)
        capacity = max(16, 2 * n)
        self.alive = np.zeros(capacity, dtype=bool)
        self.alive[:n] = True
        self.sensor = np.zeros(capacity, dtype=np.intp)
        self.sensor[:n] = [s.sensor for s in items]
        self.az = np.zeros(capacity)
        self.az[:n] = [s.z[0] for s in items]
        self.sin, self.cos = np.sin(self.az), np.cos(self.az)
        self.site = np.zeros((capacity, 2))
        self.t = np.zeros(capacity)  # what the fits read: time, angles and their variances
        self.z = np.zeros((capacity, 2))  # (an RF bearing's second column unused)
        self.var = np.ones((capacity, 2))
        if n:
            self.site[:n] = [s.model.geometry.frame.position[:2] for s in items]
            self.t[:n] = [s.t for s in items]
            for i, s in enumerate(items):
                self.z[i, : s.z.shape[0]], self.var[i, : s.var.shape[0]] = s.z, s.var
        self._codes: dict[str | None, int] = {None: 0}
        self.emitter = np.zeros(capacity, dtype=np.int64)
        self.emitter[:n] = [self._code(s.emitter) for s in items]

    def _code(self, emitter: str | None) -> int:
        return self._codes.setdefault(emitter, len(self._codes))

    def code(self, emitter: str | None) -> int:
        """The code of an emitter id, -1 if no pending sighting ever named it."""
        return self._codes.get(emitter, -1)

    def append(self, s: _Sighting) -> None:
        i = self.size
        if i == self.alive.shape[0]:
            for name in ("alive", "sensor", "az", "sin", "cos", "site", "t", "z", "var", "emitter"):
                old = getattr(self, name)
                grown = np.zeros((2 * i, *old.shape[1:]), dtype=old.dtype)
                grown[:i] = old
                setattr(self, name, grown)
        self.items.append(s)
        self.alive[i] = True
        self.sensor[i] = s.sensor
        az = np.array([s.z[0]])  # as an array, as the pool's own were: the same bits
        self.az[i], self.sin[i], self.cos[i] = az[0], np.sin(az)[0], np.cos(az)[0]
        self.site[i] = s.model.geometry.frame.position[:2]
        self.t[i] = s.t
        self.z[i, : s.z.shape[0]], self.var[i, : s.var.shape[0]] = s.z, s.var
        self.emitter[i] = self._code(s.emitter)
        self.size = i + 1

    def delete(self, i: int) -> None:
        self.alive[i] = False

    def pending(self) -> list[_Sighting]:
        """The sightings still pending, in the order they came."""
        return [s for s, alive in zip(self.items, self.alive.tolist(), strict=False) if alive]
