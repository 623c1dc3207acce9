"""Where lines of sight place a target as a whole (cuas/tracking/lines_of_sight.py), and the
refit of bearings-only tracks built on it (cuas/tracking/passive_refit.py)."""

from __future__ import annotations

import numpy as np
from support.sites import all_round_site

from cuas.geodesy import LocalFrame
from cuas.tracking.lines_of_sight import HeightPrior, Sighting, posterior
from cuas.tracking.measurements import BearingModel
from cuas.tracking.passive_refit import PassiveRefit
from cuas.tracking.scan import Scan

FRAME = LocalFrame(8.65, 24.50, 600.0)
WEST = BearingModel(all_round_site(FRAME, -400.0, 0.0))
EAST = BearingModel(all_round_site(FRAME, 350.0, 0.0))
SIGMA = np.radians(3.5)
HEIGHT = HeightPrior(100.0, 150.0)
VELOCITY = np.array([-3.0, 3.0])


def position(t: float) -> np.ndarray:
    """A drone 2.2 km out, nearly in line with the two finders, drifting north-west."""
    return np.array([2100.0 + VELOCITY[0] * t, 800.0 + VELOCITY[1] * t, 80.0])


def sightings(rng: np.random.Generator, seconds: float) -> list[tuple[int, Sighting]]:
    """Both finders' bearings of the drone, twice a second each, for `seconds`."""
    out = []
    for k in range(int(2 * seconds)):
        t = 0.5 * k
        for sensor, model in enumerate((WEST, EAST)):
            z, _ = model.predict(np.r_[position(t), 0.0, 0.0, 0.0][None])
            z = z[0] + rng.normal(0.0, SIGMA, 1)
            out.append((sensor, Sighting(t + 0.01 * sensor, z, np.array([SIGMA**2]), model)))
    return out


def nees(truth: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    e = (truth - mean)[:2]
    return float(e @ np.linalg.solve(cov[:2, :2], e))


def test_ten_seconds_of_bearings_place_a_moving_drone_as_honestly_as_they_place_it() -> None:
    """Carried to now with the drone's velocity, 10 s of both finders' bearings give a
    posterior whose error agrees with its covariance, tighter than one pair's."""
    one_pair, whole = [], []
    scores = []
    for seed in range(20):
        seen = [s for _, s in sightings(np.random.default_rng(seed), 10.0)]
        t = seen[-1].t
        pair = posterior(seen[-2:], t, VELOCITY, 0.0, HEIGHT)
        out = posterior(seen, t, VELOCITY, 0.0, HEIGHT)
        assert pair is not None and out is not None
        one_pair.append(np.trace(pair[1][:2, :2]))
        whole.append(np.trace(out[1][:2, :2]))
        scores.append(nees(position(t), *out))
    assert 0.5 < np.mean(scores) < 3.0, np.mean(scores)
    assert np.median(whole) < 0.5 * np.median(one_pair)


def test_a_refit_replaces_a_confident_track_at_the_wrong_range_and_leaves_an_honest_one() -> None:
    """A bearings-only track 1 km short of the drone claiming 250 m gets the lines' posterior;
    one placed where they place it, as uncertain as they say, is left alone."""
    refit = PassiveRefit(HEIGHT)
    rng = np.random.default_rng(3)
    for sensor, s in sightings(rng, 10.0):
        scan = Scan(sensor, s.t, s.z[None], s.var[None], s.model)
        refit.record(np.array([7]), scan, np.array([0]))
    t = 10.0
    x = np.r_[position(t) - np.array([950.0, 350.0, 0.0]), VELOCITY, 0.0]
    P = np.diag([250.0**2 / 2, 250.0**2 / 2, 150.0**2, 4.0, 4.0, 1.0])
    assert 7 in refit.due(t)
    out = refit.refit(7, t, 0.0, x, P)
    assert out is not None
    mean, cov = out
    assert nees(position(t), mean, cov) < 9.21
    honest = np.r_[mean, VELOCITY, 0.0]
    P_honest = P.copy()
    P_honest[:3, :3] = cov
    assert refit.refit(7, t, 0.0, honest, P_honest) is None
    assert 7 not in refit.due(t)  # not again before its period
