"""Refit of bearings-only tracks: where their recent lines of sight place them, as a whole.

A track that no radar or Remote ID ever placed is updated bearing by bearing by an extended
Kalman filter, which linearises each update at its estimate. Where two finders' lines meet
at a few degrees (sites a few hundred metres apart, a drone kilometres out), an estimate
that noise has pulled short sees the lines cross at too wide an angle there, and shrinks its
covariance around the wrong range: on random camp 16 a track started honestly (1.2 km out,
657 m of sigma, the drone at 2.1 km) and claimed 265 m at 1.1 km from the drone ten seconds
later, when it was confirmed and warned of a zone the drone was never in.

So every `period_s` such a track is first given the straight course its lines of sight of
the last `course_window_s` fit as a whole, where that fit is accepted and places it more
tightly than the filter (bearings_tma.py); otherwise, while the track is younger than
`max_age_s`, its lines of sight of
the last `window_s` (from two sites or more, an RF bearing among them: cameras alone cross
sharply) are integrated as a whole (lines_of_sight.py), carried to now with the track's
velocity, that velocity's uncertainty integrated out. Where
the filter disagrees with that posterior (its position outside the posterior's 99 % region,
or its covariance under half the posterior's along the posterior's long axis), the track's
position and position covariance become the posterior's; its velocity is kept.

Lines of sight do not observe how fast a far drone moves along them, and the filter,
linearised at a range that noise has pulled off, explains their drift by motion along them:
on random camp 125 the hidden drone orbits 2.1 km out at 11 m/s, and its track, confirmed
200 m short of it, ran outwards at up to 69 m/s and was 1.3 km beyond it 16 s later, where
it kept the drone's emitter id (and the cameras' tracks of the drone died as radar-silent
rivals). So every `period_s`, before its refit, such a track moving faster than
`speed_prior_mps` is told what a small drone flies (`velocity_prior`): zero-mean,
`speed_prior_mps` on each horizontal axis and `climb_prior_mps` vertically, as a
measurement. A slower track is left alone: told every period, the prior would count many
times over and make every bearings-only track surer of its velocity than it is (on 120
random camps, (e/sigma)^2 1.28 -> 1.33, against 1.27 so). The price: a fast drone heard
and never seen is held slower than it flies, and a track whose velocity is held is surer
of where it is, so it may pass the observability test (`tracker.crossing_at_track`)
sooner. On random camp 149, whose finders' lines cross at the drone at 1.7 times their
noise, a track 400-800 m short of the drone was confirmed ((e/sigma)^2 0.8 -> 22;
docs/fusion-history.md, session 20).

A camera's line of sight is fine, and one of them alone places a vague track wherever it
crosses the bearings: clutter in a bearings-only track's wide gate pulled it 800 m off its
drone (random camp 36), and two looks at a friendly, crossing the bearings of a drone
nobody saw, held a track on that crossing (random camp 39). So a camera's sightings of such
a track count only once that camera keeps seeing it where it saw it, along a path a target
can fly (`sighted`, `steady`); until then they are glimpses, stored but not used, and the
refit leaves them out too. A run joins a track the finders hear only where its line passes
where their recent bearings do (`finders_meet`); elsewhere it is another object's (random
camp 39 without its radar: a loiterer's, 10 degrees off a swarm's bearings), and stays a
glimpse.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cuas.geodesy import wrap_rad
from cuas.tracking import bearings_tma, lines_of_sight
from cuas.tracking.lines_of_sight import HeightPrior, Sighting
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]
Index = NDArray[np.intp]
REGION_99 = 9.21  # chi-square, two degrees of freedom, 99 %


@dataclass
class PassiveRefit:
    """The recent lines of sight of bearings-only tracks, and their refits (see the module
    docstring)."""

    height: HeightPrior
    window_s: float = 10.0
    period_s: float = 2.0
    max_age_s: float = 60.0
    max_sightings: int = 1024
    course_window_s: float = 120.0
    max_speed_sigma_mps: float = 20.0
    speed_prior_mps: float = 15.0
    climb_prior_mps: float = 5.0
    repeat_m: int = 2
    repeat_s: float = 2.0
    # Per track: (sensor, glimpse, sighting).
    _seen: dict[int, deque[tuple[int, bool, Sighting]]] = field(default_factory=dict)
    _next: dict[int, float] = field(default_factory=dict)
    _joined: set[int] = field(default_factory=set)  # a camera's run began: refit, at any age
    # Tracks whose height came from camera sightings since disowned (`disown`): their next
    # refit takes the height prior, whatever the filter says.
    _unheighted: set[int] = field(default_factory=set)

    def record(self, track_ids: NDArray[np.int64], scan: Scan, dets: Index) -> None:
        """The lines of sight of `scan` (detections `dets`) that updated tracks `track_ids`."""
        for tid, j in zip(track_ids.tolist(), dets.tolist(), strict=True):
            self._store(tid, scan, j, glimpse=False)

    def sighted(
        self,
        track_ids: NDArray[np.int64],
        scan: Scan,
        dets: Index,
        rate: Array,
    ) -> NDArray[np.bool_]:
        """A camera's lines of sight `dets` of `scan` assigned to tracks
        `track_ids`, which cannot turn about the camera faster than `rate` (rad/s each):
        stored, and whether each may update its track now.

        A camera glimpses a track until `repeat_m` of its sightings of it in the last
        `repeat_s` lie where this one does, within their noise and the track's motion, and
        this one continues two of them at a steady rate (`steady`). The
        sighting that makes the run counts those before it and asks for a refit at once:
        from a vague estimate, one Kalman update with a fine line of sight is linearised far
        from the target and leaves a confident track off it, while the lines as a whole
        place it. Later sightings update it."""
        use = np.zeros(track_ids.size, dtype=bool)
        for i, (tid, j) in enumerate(zip(track_ids.tolist(), dets.tolist(), strict=True)):
            z, var = scan.z[j], scan.var[j]
            seen = self._seen.get(tid, ())
            run = [
                k
                for k, (sensor, _, s) in enumerate(seen)
                if sensor == scan.sensor
                and scan.t - s.t <= self.repeat_s
                and together(z, var, s.z, s.var, rate[i] * (scan.t - s.t))
            ]
            kept = len(run) >= self.repeat_m and steady(
                scan.t, z, var, [seen[k][2] for k in run], rate[i]
            )
            joined = kept and all(seen[k][1] for k in run)
            if joined:  # before storing this one, which may drop the oldest and shift `run`
                mine = self._seen[tid]
                for k in run:
                    mine[k] = (mine[k][0], False, mine[k][2])
                self._next[tid] = scan.t
                self._joined.add(tid)
            self._store(tid, scan, j, glimpse=not kept)
            use[i] = kept and not joined
        return use

    def disown(self, tid: int, scan: Scan, j: int, rate: float) -> float | None:
        """Line of sight `j` of camera `scan` is another track's (a track a radar places):
        track `tid`'s sightings by that camera along it (within their noise and `rate`, how
        fast the track may turn about the camera, rad/s) were of that object, and become
        glimpses, and its refit is due at once. Returns the time of the camera's last
        sighting of the track still its own (-inf if none), or None if none was disowned."""
        seen = self._seen.get(tid)
        if not seen:
            return None
        z, var = scan.z[j], scan.var[j]
        last, disowned = -np.inf, False
        for k, (sensor, glimpse, s) in enumerate(seen):
            if sensor != scan.sensor or glimpse:
                continue
            if together(z, var, s.z, s.var, rate * (scan.t - s.t)):
                seen[k] = (sensor, True, s)
                disowned = True
            else:
                last = max(last, s.t)
        if not disowned:
            return None
        self._next[tid] = scan.t
        if not any(s.z.shape[0] > 1 and not glimpse for _, glimpse, s in seen):
            self._unheighted.add(tid)  # no camera's sighting of its own is left
        return last

    def _store(self, tid: int, scan: Scan, j: int, glimpse: bool) -> None:
        seen = self._seen.get(tid)
        if seen is None:
            seen = self._seen[tid] = deque(maxlen=self.max_sightings)
            self._next[tid] = scan.t + self.period_s
        # Copies: a row of the scan's arrays would keep the whole scan alive.
        z, var = scan.z[j].copy(), scan.var[j].copy()
        seen.append((scan.sensor, glimpse, Sighting(scan.t, z, var, scan.model)))
        # Nothing older than the course's window is read again: a track's memory is its
        # sensors' rate times that window, and `max_sightings` at most.
        while scan.t - seen[0][2].t > self.course_window_s:
            seen.popleft()

    def forget(self, track_ids: list[int]) -> None:
        """Tracks deleted, or placed by a radar or Remote ID: nothing more to refit."""
        for tid in track_ids:
            self._seen.pop(tid, None)
            self._next.pop(tid, None)
            self._joined.discard(tid)
            self._unheighted.discard(tid)

    def due(self, t: float) -> list[int]:
        """Track ids whose refit is due at `t`."""
        return [tid for tid, when in self._next.items() if when <= t]

    def velocity_prior(self) -> Array:
        """The covariance (3, 3) of the zero-mean velocity measurement that a bearings-only
        track is given before each refit (see the module docstring)."""
        h, v = self.speed_prior_mps**2, self.climb_prior_mps**2
        return np.diag([h, h, v])

    def course(self, tid: int, t: float, x: Array) -> bearings_tma.CourseFit | None:
        """The course that track `tid`'s lines of sight of the last `course_window_s` fit,
        from its state `x` at `t` (bearings_tma.py), or None. A camera's azimuths count
        with the finders' bearings: one camera's fine line places the drone across it and
        the finders' bearings along it, where the filter, bearing by bearing, drifted
        150-430 m along that line with a sigma of 140 m (random camp 91; 44 m with the
        course). Until the course considered an unknown acceleration, a camera's azimuths
        made it too sure of itself on an orbiting drone, and it stood aside while a camera
        saw the track (random camp 4: 142 m at the median, against 57 m with the filter)."""
        seen = [
            s
            for _, glimpse, s in self._seen.get(tid, ())
            if t - s.t <= self.course_window_s and not glimpse
        ]
        return bearings_tma.fit(seen, t, x[bearings_tma.CourseFit.components], float(x[2]))

    def done(self, tid: int, t: float) -> None:
        """Track `tid` was given its course at `t` (`course`): no refit is due before the
        next period."""
        self._next[tid] = t + self.period_s
        self._joined.discard(tid)

    def refit(
        self, tid: int, t: float, born: float, x: Array, P: Array
    ) -> tuple[Array, Array] | None:
        """The position (3,) and covariance (3, 3) to give track `tid` (state `x`, covariance
        `P` at `t`, born at `born`), or None to leave it."""
        self._next[tid] = t + self.period_s
        joined = tid in self._joined
        self._joined.discard(tid)
        unheighted = tid in self._unheighted
        if t - born > self.max_age_s and not joined:
            return None  # sightings are still kept: the camera rule counts them
        seen = self._recent(tid, t)
        if len({sensor for sensor, _ in seen}) < 2 or all(s.z.shape[0] > 1 for _, s in seen):
            return None  # one site, or cameras alone: their fine lines cross sharply
        out = lines_of_sight.posterior(
            [s for _, s in seen],
            t,
            x[3:5],
            self._speed_sigma(P),
            self.height,
            None if unheighted else (float(x[2]), float(P[2, 2])),
        )
        if out is None:
            return None
        mean, cov = out
        if unheighted:
            self._unheighted.discard(tid)
            return mean, cov
        d = x[:2] - mean[:2]
        C = cov[:2, :2]
        outside = float(d @ np.linalg.solve(C, d)) > REGION_99
        _, axes = np.linalg.eigh(C)
        long = axes[:, -1]
        overconfident = float(long @ P[:2, :2] @ long) < 0.5 * float(long @ C @ long)
        return (mean, cov) if outside or overconfident else None

    def admit(self, tid: int, t: float, x: Array, P: Array) -> bool | None:
        """Whether the camera run that just joined track `tid` (state `x`, covariance `P` at
        `t`; its refit is due) is the track's: its line passes where the finders' bearings of
        the last `window_s` do (`finders_meet`). If not, the run is another object's: its
        sightings are glimpses again and no refit is due before the next period. None where
        no run joined (or its sightings were since disowned)."""
        if tid not in self._joined:
            return None
        seen = self._recent(tid, t)
        run = max(
            ((sensor, s) for sensor, s in seen if s.z.shape[0] > 1),
            key=lambda p: p[1].t,
            default=None,
        )
        if run is None:
            return None
        heard = [s for _, s in seen if s.z.shape[0] == 1]
        if finders_meet(run[1], heard, x[3:5], self._speed_sigma(P)):
            return True
        mine = self._seen[tid]
        for k, (sensor, glimpse, s) in enumerate(mine):
            if sensor == run[0] and not glimpse and t - s.t <= self.repeat_s:
                mine[k] = (sensor, True, s)
        self.done(tid, t)
        return False

    def _recent(self, tid: int, t: float) -> list[tuple[int, Sighting]]:
        """Track `tid`'s (sensor, sighting) pairs of the last `window_s` before `t` that
        count (no glimpses): what its refit integrates and its camera run is weighed against."""
        return [
            (sensor, s)
            for sensor, glimpse, s in self._seen.get(tid, ())
            if t - s.t <= self.window_s and not glimpse
        ]

    def _speed_sigma(self, P: Array) -> float:
        """How fast (m/s) a track of covariance `P` may stray from its velocity, at most
        `max_speed_sigma_mps`."""
        return min(float(np.sqrt(0.5 * (P[3, 3] + P[4, 4]))), self.max_speed_sigma_mps)


def finders_meet(camera: Sighting, heard: list[Sighting], velocity: Array, stray: float) -> bool:
    """Whether a camera's line of sight `camera` passes, somewhere within the camera's reach,
    where finders' bearings `heard` (taken before it) do: their chi-square there at
    most `CAMERA_RUN_GATE` times their count, each bearing's noise widened by how far the
    target may have strayed (`stray`, m/s) from `velocity` (2,) since. True where none
    heard it."""
    if not heard:
        return True
    geometry = camera.model.geometry
    r = np.geomspace(max(lines_of_sight.NEAR_M, geometry.min_range_m), geometry.max_range_m, 200)
    az, el = np.degrees(camera.z[:2])
    points = geometry.frame.aer_to_enu(az, el, r)  # the line, camp ENU
    chi = np.zeros(r.size)
    for s in heard:
        age = camera.t - s.t
        then = np.zeros((r.size, 6))
        then[:, :3] = points
        then[:, :2] -= velocity * age
        zhat, _ = s.model.predict(then)
        far = np.hypot(*(then[:, :2] - s.model.geometry.frame.position[:2]).T)
        widen = (stray * age / np.maximum(far, 1.0)) ** 2
        chi += wrap_rad(s.z[0] - zhat[:, 0]) ** 2 / (float(s.var[0]) + widen)
    return float(chi.min()) <= CAMERA_RUN_GATE * len(heard)


# A camera's run joins a bearings-only track only where its line passes where the finders'
# bearings of the refit's window do, their chi-square there at most this many times their
# count (`finders_meet`): random camp 39 without its radar, a camera's three looks at a
# loiterer 800 m out joined a track the finders heard on a swarm 2.3 km out, their lines 10
# degrees apart; the refit put it at the camera's reach, where no bearing passed within 4 of
# its sigmas, 7 m sure of itself, and its alert was 500 m from any drone.
CAMERA_RUN_GATE = 9.0

# How fast a target may change its rate of turn about a camera, per rad/s of the turn rate
# it may reach (`sighted`'s `rate`, a top speed over a least range): a top lateral
# acceleration over that top speed (20 m/s^2, two g, against 60 m/s), 1/s.
TURN_ACCELERATION_PER_RATE = 20.0 / 60.0


def steady(t: float, z: Array, var: Array, earlier: list[Sighting], rate: float) -> bool:
    """Whether a camera's line of sight `z` (azimuth, elevation; variances `var`) at `t`
    continues two of its `earlier` ones at a steady rate of turn, within their noise (four
    sigmas of the extrapolation) and the change of rate that a target turning at most at
    `rate` (rad/s) may make.

    A track no radar placed, and so only vaguely, may turn fast about the camera as far as
    its uncertainty knows, and `together` then admits a wide box: a camera's clutter fell
    into it often enough to make runs of three, 6 to 30 degrees apart within a second,
    whose lines crossed the finders' and placed the track there with 0-50 m of sigma,
    1-1.2 km from its drone (random camps 149 and 456, kept in tests/test_random_camps.py).
    A target's own lines of sight follow a smooth path; clutter's jump about."""
    accel = TURN_ACCELERATION_PER_RATE * rate
    stretch = _stretch(z)
    for i, a in enumerate(earlier):
        for b in earlier[i + 1 :]:
            if a.t == b.t:
                continue
            first, last = (a, b) if a.t < b.t else (b, a)
            k = (t - last.t) / (last.t - first.t)
            guess = last.z + k * _turn(last.z, first.z)
            noise = var + (1.0 + k) ** 2 * last.var + k**2 * first.var
            bend = 0.5 * accel * (t - first.t) * (t - last.t)
            if np.all(np.abs(_turn(z, guess)) <= 4.0 * np.sqrt(noise) + bend * stretch):
                return True
    return False


def _turn(z: Array, z0: Array) -> Array:
    """The turn (azimuth wrapped to +-pi, elevation) from line of sight `z0` to `z`."""
    d = z - z0
    d[0] = wrap_rad(d[0])
    return d


def _stretch(z: Array) -> Array:
    """How much faster than the target's own turn about the camera each angle of line of
    sight `z` turns: an azimuth by 1 / cos(elevation) (at most 5 times), an elevation not."""
    return np.array([1.0 / max(float(np.cos(z[1])), 0.2), 1.0])


def together(z: Array, var: Array, z0: Array, var0: Array, turn: float) -> bool:
    """Whether two lines of sight of one camera (azimuth, elevation) can be of one target
    that turned by at most `turn` radians about the camera between them (an azimuth turns
    faster, by 1 / cos(elevation))."""
    d = np.abs(_turn(z, z0))
    return bool(np.all(d <= 4.0 * np.sqrt(var + var0) + turn * _stretch(z)))
