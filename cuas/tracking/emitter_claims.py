"""Whether a track may take an emitter id: that emitter's recent bearings, from every finder.

Identity rule 1 (identity.py) gives a track without an emitter id the id of the first bearing
that names one and updates it (rule 3 moves a held id after three such bearings from two
sites, and a swarm's evidence binds one, emitter_binding.py). A radio-silent object on a
hidden drone's line of bearing took the drone's id so: a bearing of the drone 360 m beyond a
flock of birds fell inside the gate of a bird's radar track, which took the drone's id and
drone-class evidence from it, and was alerted on (random camps 131, 224, 257, 291, 304 and
308: seven alerts in 360 camps, the commonest alert on no hostile drone). The misfit rule
(`EmitterIds.check`) released the id 2-5 s later, after the alert: the other finder's
bearings had passed the flock 2.7 sigmas to one side all along.

So `EmitterClaims` keeps the direction finders' scans of the last `window_s`, as they came (a
scan of 200 bearings costs one append; the rare claim looks its emitter's bearings up), and a
claim on an emitter by a track holding none is granted only if those bearings fit the track,
taken back along its velocity to each bearing's time: from every finder, the bearings'
normalised residuals sum to at most `max_lean` times the square root of their count (the sum
of n residuals of bearings of an emitter on the track is normal with variance n). The tracker
bars a track refused an emitter from it, as one that lost it is, until two finders' bearings
of it fit the track while no track holds it (`EmitterIds.check`).

The camp's friendly links are tested as any other, but a track refused one is not barred from
it (`trusted`): a friendly's radar track at start-up, 2 s old, was refused its own link on
random camp 96 (one finder's first bearings 1.9-3.9 sigmas to one side, before its noise was
learnt); barred from it, it would have been alerted on. Granting friendly claims untested
was worse: once the patrol's own track had lost its link, a hostile drone's radar track 2 km
out on one finder's line to the patrol took the link, and was rated no threat for three
seconds in the middle of its warning (random camp 71, under a rule tried and not kept that
made the patrol's track lose its link).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cuas.tracking.motion import POS, VEL
from cuas.tracking.scan import Scan

Array = NDArray[np.float64]
Codes = NDArray[np.int64]


@dataclass
class EmitterClaims:
    """The direction finders' recent scans, and the test of a claim on an emitter (see the
    module docstring)."""

    window_s: float = 8.0
    max_lean: float = 3.5
    # How far back the echo test looks (`Tracker._passed_by`); scans are kept this long.
    echo_window_s: float = 30.0
    trusted: frozenset[str] = frozenset()  # emitters whose refused claims bar nothing
    # Per scan: the scan, its emitter ids' codes (id -> code) and each bearing's code.
    _scans: deque[tuple[Scan, Mapping[str | None, int], Codes]] = field(default_factory=deque)

    def record(self, scan: Scan, lookup: Mapping[str | None, int], codes: Codes) -> None:
        """A direction finder's `scan`, whose bearing j names the emitter of code `codes[j]`
        (`lookup`: emitter id -> code, 0 for none). Scans come in measurement-time order."""
        self._scans.append((scan, lookup, codes))
        while scan.t - self._scans[0][0].t > max(self.window_s, self.echo_window_s):
            self._scans.popleft()

    def fits(
        self,
        name: str,
        t: float,
        x: Array,
        P: Array,
        finders: int = 0,
        window_s: float | None = None,
    ) -> bool:
        """Whether emitter `name`'s bearings of the last `window_s` (default: the claims')
        fit a track of state `x` (6,) and covariance `P` (6, 6) at `t` from every finder that
        heard it, and at least `finders` heard it."""
        window = self.window_s if window_s is None else window_s
        by_sensor: dict[int, list[tuple[Scan, int]]] = {}
        for scan, lookup, codes in reversed(self._scans):  # newest first: the window is short
            if t - scan.t > window:
                break
            code = lookup.get(name)
            if code is None:
                continue
            j = int(np.argmax(codes == code))  # the first bearing naming it
            by_sensor.setdefault(scan.sensor, []).append((scan, j))
        if len(by_sensor) < finders:
            return False
        for newest_first in by_sensor.values():
            heard = newest_first[::-1]
            dt = np.array([scan.t for scan, _ in heard]) - t
            states = np.repeat(x[None, :], dt.size, axis=0)
            states[:, POS] += dt[:, None] * x[VEL]  # the track back along its velocity
            model = heard[-1][0].model
            zhat, H = model.predict(states)
            z = np.array([scan.z[j] for scan, j in heard])  # (n, 1): bearings
            var = np.array([scan.var[j, 0] for scan, j in heard])
            y = model.residual(z, zhat)[:, 0]
            h = H[:, 0, POS]
            spread = P[POS, POS][None] + (dt * dt)[:, None, None] * P[VEL, VEL][None]
            S = var + np.einsum("ni,nij,nj->n", h, spread, h)
            if abs(float(np.sum(y / np.sqrt(S)))) > self.max_lean * np.sqrt(dt.size):
                return False
        return True
