"""A track takes an emitter id no track holds only if that emitter's recent bearings fit it
(emitter_claims.py): a bird's radar track on a hidden drone's line of bearing from one
finder, which the other finder hears elsewhere, does not become that drone."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from support.sites import all_round_site

from cuas.geodesy import LocalFrame
from cuas.tracking.emitter_claims import EmitterClaims
from cuas.tracking.emitter_codes import EmitterCodes
from cuas.tracking.emitter_ids import EmitterIds
from cuas.tracking.gating import Hypotheses
from cuas.tracking.measurements import BearingModel
from cuas.tracking.scan import Labels, Scan
from cuas.tracking.tracks import TrackTable

FRAME = LocalFrame(8.65, 24.50, 600.0)
SITES = {0: (-250.0, 0.0), 1: (250.0, 0.0)}
FINDERS = {i: BearingModel(all_round_site(FRAME, e, n, 10.0)) for i, (e, n) in SITES.items()}
SIGMA = np.radians(3.0)
EMITTER = "OCU-HIDDEN"


def bearing(sensor: int, t: float, at: np.ndarray, off_sigmas: float = 0.0) -> Scan:
    """Finder `sensor`'s bearing at `t` of the emitter at `at` (east, north, up), turned by
    `off_sigmas` of its noise."""
    state = np.concatenate([at, np.zeros(3)])[None, :]
    az, _ = FINDERS[sensor].predict(state)
    z = az + off_sigmas * SIGMA
    none = Labels.none(1)
    labels = Labels(none.class_probs, none.rcs_dbsm, [None], [EMITTER])
    return Scan(sensor, t, z, np.array([[SIGMA**2]]), FINDERS[sensor], labels)


def track(at: np.ndarray, velocity: np.ndarray | None = None, sigma_m: float = 30.0):
    """A radar track's state and covariance: at `at`, moving at `velocity`."""
    x = np.concatenate([at, np.zeros(3) if velocity is None else velocity])
    P = np.diag([sigma_m**2] * 3 + [4.0] * 3)
    return x, P


def heard(claims: EmitterClaims, scans: list[Scan]) -> EmitterClaims:
    """`claims`, having heard `scans` (in time order)."""
    for scan in sorted(scans, key=lambda s: s.t):
        claims.record(scan, {None: 0, EMITTER: 1}, np.array([1]))
    return claims


def test_bearings_through_the_track_from_both_finders_grant_the_claim() -> None:
    drone = np.array([300.0, 1500.0, 80.0])
    scans = [
        bearing(s, 0.5 * k + 0.1 * s, drone, off)
        for k, off in enumerate([0.4, -0.8, 1.1, -0.3])
        for s in (0, 1)
    ]
    claims = heard(EmitterClaims(), scans)
    assert claims.fits(EMITTER, 2.0, *track(drone))


def test_a_finder_that_hears_the_emitter_off_to_one_side_refuses_it() -> None:
    """The other finder's bearings pass the bird's track 2.7 sigmas to one side, one after
    another (random camp 308): the emitter is elsewhere on the first finder's line."""
    bird = np.array([300.0, 1500.0, 80.0])
    scans = [bearing(0, 0.5 * k, bird, 0.2 * (-1) ** k) for k in range(4)]
    scans += [bearing(1, 0.5 * k + 0.3, bird, -2.7) for k in range(4)]
    claims = heard(EmitterClaims(), scans)
    assert not claims.fits(EMITTER, 2.0, *track(bird))


def test_bearings_older_than_the_window_are_forgotten() -> None:
    bird = np.array([300.0, 1500.0, 80.0])
    claims = EmitterClaims(window_s=8.0)
    heard(claims, [bearing(1, 0.5 * k, bird, -2.7) for k in range(4)])
    assert not claims.fits(EMITTER, 8.0, *track(bird))
    heard(claims, [bearing(0, 12.0, bird, 0.3)])
    assert claims.fits(EMITTER, 12.0, *track(bird))


def test_a_longer_window_tells_a_passer_by_from_the_emitter() -> None:
    """The echo test (`Tracker._passed_by`) looks back `echo_window_s`: an inbound drone's
    radar track, at the hidden drone now and flying in along one finder's line to it, fits
    the emitter's last 8 s of bearings, not its last 30 s (random camp 1276)."""
    drone = np.array([300.0, 1500.0, 80.0])
    scans = [bearing(s, 1.0 * k + 0.5 * s, drone) for k in range(31) for s in (0, 1)]
    claims = heard(EmitterClaims(), scans)
    finder = np.array([*SITES[0], 0.0])
    inbound = -20.0 * (drone - finder) / np.linalg.norm(drone - finder)
    passer_by = track(drone, velocity=inbound)
    assert claims.fits(EMITTER, 30.5, *passer_by)
    assert not claims.fits(EMITTER, 30.5, *passer_by, window_s=claims.echo_window_s)
    assert claims.fits(EMITTER, 30.5, *track(drone), window_s=claims.echo_window_s)


def test_a_scan_naming_other_emitters_only_says_nothing_of_this_one() -> None:
    bird = np.array([300.0, 1500.0, 80.0])
    claims = EmitterClaims()
    for k in range(4):
        claims.record(bearing(1, 0.5 * k, bird, -2.7), {None: 0, "ELRS-1": 1}, np.array([1]))
    assert claims.fits(EMITTER, 2.0, *track(bird))


def test_the_track_is_taken_back_along_its_velocity_to_each_bearing() -> None:
    """A drone crossing at 40 m/s: its bearings of 6 s ago are off where it is now, but on
    where it was."""
    velocity = np.array([40.0, 0.0, 0.0])
    start = np.array([-100.0, 1000.0, 80.0])
    scans = [bearing(s, t, start + velocity * t) for t in np.arange(0.0, 6.5, 0.5) for s in (0, 1)]
    claims = heard(EmitterClaims(), scans)
    now = start + velocity * 6.0
    assert claims.fits(EMITTER, 6.0, *track(now, velocity))
    assert not claims.fits(EMITTER, 6.0, *track(now))  # held still, it misses them all


def test_an_emitter_never_heard_before_grants_any_claim() -> None:
    assert EmitterClaims().fits("PKO-LINK-1", 0.0, *track(np.array([0.0, 900.0, 50.0])))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), north=st.floats(600.0, 3000.0))
def test_bearings_of_an_emitter_on_the_track_are_seldom_refused(seed: int, north: float) -> None:
    """Bearings with their configured noise, from both finders, of an emitter on the track:
    the claim is granted (the test refuses at 3.5 sigmas of the bearings' summed residual)."""
    rng = np.random.default_rng(seed)
    drone = np.array([200.0, north, 80.0])
    scans = [
        bearing(s, 0.5 * k + 0.1 * s, drone, float(rng.normal())) for k in range(12) for s in (0, 1)
    ]
    claims = heard(EmitterClaims(), scans)
    assert claims.fits(EMITTER, 6.0, *track(drone))


def test_a_friendly_link_is_tested_too_but_a_refusal_bars_nothing() -> None:
    """A hostile drone's radar track on one finder's line to the friendly patrol must not
    take the friendly's link untested (random camp 71: rated no threat for 3 s mid-warning);
    but a friendly's own track refused its link at start-up, before a finder's noise is
    learnt (random camp 96: one finder's first bearings 1.9-3.9 sigmas to one side), must be
    free to claim it again, or it would be alerted on."""
    bird = np.array([300.0, 1500.0, 80.0])
    scans = [bearing(1, 0.5 * k, bird, -2.7) for k in range(4)]
    for trusted in (frozenset(), frozenset({EMITTER})):
        claims = heard(EmitterClaims(trusted=trusted), scans)
        assert not claims.fits(EMITTER, 2.0, *track(bird))
        ids = EmitterIds(0.5, 0.7, None, claims)
        table = TrackTable(n_sensors=2)
        x, P = track(bird)
        table.add(x[None, :], P[None], 2.0, 0)
        assert not ids.claim_fits(table, EMITTER, 2.0, 0)
        assert table.barred_emitter[0, 0] == (None if trusted else EMITTER)
        assert ids.refused == 1


def check(ids: EmitterIds, table: TrackTable, scan: Scan, d2: float = 1.0) -> int:
    """How many of `scan`'s bearing pairs with track 0, at squared distance `d2`, `ids.check`
    lets through."""
    pair = Hypotheses(
        np.zeros(1, np.intp),
        np.zeros(1, np.intp),
        np.full(1, d2),
        np.zeros((1, 1)),
        np.full((1, 1, 1), SIGMA**2),
        np.zeros((1, 1, 6)),
    )
    kept, _ = ids.check(table, scan, pair, 9.0, EmitterCodes.of([EMITTER]))
    return len(kept)


def test_a_refused_claim_is_lifted_once_two_finders_bearings_fit_the_track() -> None:
    """A claim is tested on the bearings of its moment: in a swarm's first seconds a track
    between two drones was refused its own drone's emitter and, barred for good, never took
    it again (random camp 521). Once two finders' recent bearings of the emitter fit the
    track, the bar goes; one finder's alone fit anything on its line, and lift nothing."""
    drone = np.array([300.0, 1500.0, 80.0])
    claims = heard(EmitterClaims(), [bearing(1, 0.5 * k, drone, -2.7) for k in range(4)])
    ids = EmitterIds(0.5, 0.7, None, claims)
    table = TrackTable(n_sensors=2)
    x, P = track(drone)
    table.add(x[None, :], P[None], 2.0, 0)
    assert not ids.claim_fits(table, EMITTER, 2.0, 0)
    assert table.barred_emitter[0, 0] == EMITTER
    heard(claims, [bearing(0, 20.0 + 0.5 * k, drone, 0.4 * (-1) ** k) for k in range(6)])
    assert check(ids, table, bearing(0, 23.0, drone)) == 0
    assert table.barred_emitter[0, 0] == EMITTER
    heard(claims, [bearing(1, 23.1 + 0.5 * k, drone, 0.3 * (-1) ** k) for k in range(4)])
    assert check(ids, table, bearing(0, 25.0, drone)) == 1
    assert table.barred_emitter[0, 0] is None


def test_a_lost_emitter_stays_barred_whatever_its_bearings_do() -> None:
    """A track that lost an emitter id (its bearings missed it, or dragged it off its
    target) is not given it back when they fit: dragged, they fit it best of all."""
    drone = np.array([300.0, 1500.0, 80.0])
    through = [bearing(s, 0.5 * k + 0.1 * s, drone) for k in range(6) for s in (0, 1)]
    ids = EmitterIds(0.5, 0.7, None, heard(EmitterClaims(), through))
    table = TrackTable(n_sensors=2)
    x, P = track(drone)
    table.add(x[None, :], P[None], 3.0, 0)
    table.emitter_id[0] = EMITTER
    for t in (3.0, 3.5):  # two bearings far outside its gate: the id goes
        check(ids, table, bearing(0, t, drone), d2=100.0)
    assert table.emitter_id[0] is None and table.barred_emitter[0, 0] == EMITTER
    assert check(ids, table, bearing(0, 4.0, drone)) == 0
    assert table.barred_emitter[0, 0] == EMITTER
