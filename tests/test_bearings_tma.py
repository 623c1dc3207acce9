"""Target motion analysis (cuas/tracking/bearings_tma.py): a bearings-only course fitted to
two finders' lines of sight as a whole."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support.sites import all_round_site

from cuas.geodesy import LocalFrame
from cuas.tracking.bearings_tma import fit
from cuas.tracking.lines_of_sight import Sighting
from cuas.tracking.measurements import BearingModel

FRAME = LocalFrame(8.65, 24.50, 600.0)
WEST = BearingModel(all_round_site(FRAME, -400.0, 0.0))
EAST = BearingModel(all_round_site(FRAME, 350.0, 0.0))
SIGMA = np.radians(3.5)
# A drone 2.2 km out, nearly in line with the two finders (their lines meet at 6 degrees,
# under two of their sigmas), drifting north-west.
START = np.array([2100.0, 800.0])
VELOCITY = np.array([-3.0, 3.0])


def bearings(
    rng: np.random.Generator | None,
    seconds: float,
    start: np.ndarray = START,
    velocity: np.ndarray = VELOCITY,
    finders: tuple[BearingModel, ...] = (WEST, EAST),
    noise: float = SIGMA,
) -> list[Sighting]:
    """Each finder's bearing of the drone twice a second for `seconds` (noiseless without
    `rng`), with noise of sigma `noise` and reported as of sigma SIGMA."""
    out = []
    for k in range(int(2 * seconds)):
        t = 0.5 * k
        p = np.r_[start + velocity * t, 80.0, 0.0, 0.0, 0.0]
        for i, model in enumerate(finders):
            z = model.predict(p[None])[0][0]
            if rng is not None:
                z = z + rng.normal(0.0, noise, 1)
            out.append(Sighting(t + 0.01 * i, z, np.array([SIGMA**2]), model))
    return out


def truth(t: float) -> np.ndarray:
    return np.r_[START + VELOCITY * t, VELOCITY]


def nees(x: np.ndarray, P: np.ndarray, t: float) -> float:
    e = (truth(t) - x)[:2]
    return float(e @ np.linalg.solve(P[:2, :2], e))


def short_of_the_drone(t: float, metres: float) -> np.ndarray:
    """A starting guess `metres` short of the drone (negative: beyond), standing still."""
    p = truth(t)[:2]
    return np.r_[p * (1.0 - metres / np.hypot(*p)), 0.0, 0.0]


def test_two_minutes_of_bearings_place_a_drone_as_honestly_as_they_place_it() -> None:
    """From a guess 600 m short of the drone, two minutes of both finders' bearings give a
    course whose error agrees with its covariance (mean NEES 2.2 over 20 seeds, two degrees
    of freedom, were it known to be straight; 1.4 with an acceleration considered, which
    this drone, flying straight, does not have), within 300 m of the drone on 19 seeds of 20
    (median 81 m), and three times tighter than half a minute of them (which the speed's
    prior already narrows)."""
    scores, errors, spans = [], [], []
    for seed in range(20):
        seen = bearings(np.random.default_rng(seed), 120.0)
        t = seen[-1].t
        long = fit(seen, t, short_of_the_drone(t, 600.0), 80.0)
        short = fit([s for s in seen if s.t >= t - 30.0], t, short_of_the_drone(t, 600.0), 80.0)
        assert long is not None and short is not None
        scores.append(nees(long.x, long.P_straight, t))
        errors.append(float(np.hypot(*(long.x - truth(t))[:2])))
        spans.append(np.trace(long.P_straight[:2, :2]) / np.trace(short.P_straight[:2, :2]))
        assert np.all(np.linalg.eigvalsh(long.P - long.P_straight) > -1e-6)  # only wider
    assert 0.5 < np.mean(scores) < 3.5, np.mean(scores)  # two degrees of freedom
    assert np.mean(np.array(errors) < 300.0) >= 0.8, errors
    assert np.median(spans) < 0.4


def orbit(rng: np.random.Generator, seconds: float, radius: float, speed: float) -> tuple:
    """Both finders' bearings, twice a second, of a drone circling the camp at `radius` and
    `speed`; and its position and velocity at time t."""

    def state(t: float) -> tuple[np.ndarray, np.ndarray]:
        a = np.radians(30.0) + speed / radius * t
        return radius * np.array([np.sin(a), np.cos(a)]), speed * np.array([np.cos(a), -np.sin(a)])

    out = []
    for k in range(int(2 * seconds)):
        p = np.r_[state(0.5 * k)[0], 80.0, 0.0, 0.0, 0.0]
        for i, model in enumerate((WEST, EAST)):
            z = model.predict(p[None])[0][0] + rng.normal(0.0, SIGMA, 1)
            out.append(Sighting(0.5 * k + 0.01 * i, z, np.array([SIGMA**2]), model))
    return out, state


def test_a_course_on_a_circling_drone_owns_up_to_the_turn_it_cannot_see() -> None:
    """A drone circling the camp 1.5 km out at 12 m/s (0.1 m/s² inwards) bends away from the
    straight course smoothly, which its bearings' noise hides from the fit's residuals. Were
    the course surely straight, its covariance would claim three times what it knows (mean
    NEES 6.2 over 20 seeds, two degrees of freedom); with the acceleration considered, the
    errors agree with it (2.1), and the course itself is the same."""
    straight, considered = [], []
    for seed in range(20):
        seen, state = orbit(np.random.default_rng(seed), 120.0, 1500.0, 12.0)
        t = seen[-1].t
        p = state(t)[0]
        course = fit(seen, t, np.r_[0.9 * p, 0.0, 0.0], 80.0)
        plain = fit(seen, t, np.r_[0.9 * p, 0.0, 0.0], 80.0, accel_sigma_mps2=0.0)
        assert course is not None and plain is not None
        assert np.allclose(course.x, plain.x) and np.allclose(plain.P, plain.P_straight)
        e = course.x[:2] - p
        straight.append(float(e @ np.linalg.solve(course.P_straight[:2, :2], e)))
        considered.append(float(e @ np.linalg.solve(course.P[:2, :2], e)))
    assert np.mean(straight) > 4.0, np.mean(straight)
    assert 1.0 < np.mean(considered) < 3.5, np.mean(considered)


def test_it_finds_the_same_course_from_short_long_and_aside() -> None:
    seen = bearings(np.random.default_rng(7), 90.0)
    t = seen[-1].t
    guesses = [short_of_the_drone(t, 600.0), short_of_the_drone(t, -600.0)]
    guesses.append(short_of_the_drone(t, 0.0) + np.array([300.0, -300.0, 5.0, 5.0]))
    courses = [fit(seen, t, g, 80.0) for g in guesses]
    assert all(c is not None for c in courses)
    for c in courses[1:]:
        assert np.allclose(c.x, courses[0].x, atol=1.0), (c.x, courses[0].x)


def test_it_refuses_one_site_a_short_span_and_another_transmitter_s_bearings() -> None:
    t = 60.0
    guess = short_of_the_drone(t, 300.0)
    seen = bearings(np.random.default_rng(1), 60.0)
    assert fit(seen, seen[-1].t, guess, 80.0) is not None
    one_site = bearings(np.random.default_rng(1), 60.0, finders=(WEST,))
    assert fit(one_site, one_site[-1].t, guess, 80.0) is None
    recent = [s for s in seen if s.t >= seen[-1].t - 10.0]
    assert fit(recent, seen[-1].t, guess, 80.0) is None
    # Every third of the east finder's bearings is of another drone, 20 degrees away.
    other = [
        Sighting(s.t, s.z + np.radians(20.0), s.var, s.model)
        if s.model is EAST and k % 3 == 0
        else s
        for k, s in enumerate(seen)
    ]
    assert fit(other, seen[-1].t, guess, 80.0) is None


def test_half_a_minute_of_bearings_cannot_claim_a_speed_they_do_not_tell() -> None:
    """From 25 s of bearings of a drone at 4 m/s, with lines crossing at 6 degrees, the
    bearings alone fit courses at up to 76 m/s (one in ten over 40 m/s). The prior that a
    small drone's speed is of the order of `speed_sigma_mps` keeps every fit under 35 m/s,
    with errors its covariance still accounts for (mean NEES of the four components 3.1)."""
    free, kept, scores = [], [], []
    for seed in range(40):
        seen = bearings(np.random.default_rng(seed), 25.0)
        t = seen[-1].t
        guess = short_of_the_drone(t, 600.0)
        loose = fit(seen, t, guess, 80.0, speed_sigma_mps=np.inf)
        course = fit(seen, t, guess, 80.0)
        assert loose is not None and course is not None
        free.append(float(np.hypot(*loose.x[2:])))
        kept.append(float(np.hypot(*course.x[2:])))
        e = truth(t) - course.x
        scores.append(float(e @ np.linalg.solve(course.P, e)))
    assert max(free) > 40.0  # what the prior is for
    assert max(kept) < 35.0, kept
    assert 2.0 < np.mean(scores) < 6.0, np.mean(scores)  # four degrees of freedom


def test_finders_noisier_than_configured_widen_the_course_they_give() -> None:
    """Finders whose bearings are half as noisy again as their configuration says (random
    camps are off by up to 50 %) leave residuals above their noise; the covariance is scaled
    by them, so the course's errors still agree with it (mean NEES 2.3 over 30 seeds, two
    degrees of freedom; 4.1 unscaled)."""
    scores = []
    for seed in range(30):
        seen = bearings(np.random.default_rng(seed), 120.0, noise=1.5 * SIGMA)
        t = seen[-1].t
        course = fit(seen, t, short_of_the_drone(t, 600.0), 80.0)
        assert course is not None and course.chi2_dof > 1.2
        scores.append(nees(course.x, course.P, t))
    assert 0.5 < np.mean(scores) < 3.5, np.mean(scores)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.0, 360.0),
    st.floats(1000.0, 3000.0),
    st.floats(0.0, 360.0),
    st.floats(0.0, 15.0),
)
def test_noiseless_bearings_of_a_straight_course_give_that_course(
    bearing_deg: float, distance_m: float, heading_deg: float, speed_mps: float
) -> None:
    """Wherever the drone flies straight, if the two finders' lines cross it at more than a
    few degrees, their noiseless bearings give back its course from a guess 30 % off (with
    no prior on its speed, which would pull the estimate towards standing still)."""
    b, h = np.radians(bearing_deg), np.radians(heading_deg)
    start = distance_m * np.array([np.sin(b), np.cos(b)])
    velocity = speed_mps * np.array([np.sin(h), np.cos(h)])
    seen = bearings(None, 60.0, start, velocity)
    t = seen[-1].t
    end = start + velocity * t
    sites = np.array([[-400.0, 0.0], [350.0, 0.0]])
    rays = [end - site for site in sites]
    crossing = np.degrees(
        np.arccos(np.dot(*rays) / (np.linalg.norm(rays[0]) * np.linalg.norm(rays[1])))
    )
    assume(crossing > 8.0 and np.hypot(*end) > 800.0)
    course = fit(seen, t, np.r_[end * 1.3, 0.0, 0.0], 80.0, speed_sigma_mps=np.inf)
    assert course is not None
    assert np.hypot(*(course.x[:2] - end)) < 5.0, (course.x, end)
    assert np.hypot(*(course.x[2:] - velocity)) < 0.1
    assert course.chi2_dof < 1e-3
