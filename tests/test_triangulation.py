"""Passive initiation's fits (cuas/tracking/triangulation.py): batched as they run, each pair
gets the fit it gets alone, compiled they equal the numpy reference, and a fit lands on the
target its sightings saw."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuas.geodesy import LocalFrame
from cuas.tracking import kernels
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.measurements import BearingModel, CameraModel
from cuas.tracking.triangulation import PassiveInitiator, _Pool, _Sighting

FRAME = LocalFrame(51.20, 5.40, 30.0)


def geometry(lat: float, lon: float) -> SensorGeometry:
    return SensorGeometry(
        frame=FRAME.sensor_frame(lat, lon, 35.0),
        min_range_m=0.0,
        max_range_m=6000.0,
        boresight_az_deg=0.0,
        fov_az_deg=360.0,
        fov_el_min_deg=-10.0,
        fov_el_max_deg=90.0,
    )


DF = BearingModel(geometry(51.21, 5.39))
CAMERA = CameraModel(geometry(51.19, 5.415))
OTHER_DF = BearingModel(geometry(51.195, 5.38))


def sighting(model, sensor: int, target: np.ndarray, rng: np.random.Generator) -> _Sighting:
    z, _ = model.predict(np.r_[target, np.zeros(3)][None])
    var = np.full(model.dim, np.radians(1.5) ** 2)
    z = z[0] + rng.normal(0, np.sqrt(var))
    return _Sighting(sensor, float(rng.uniform(0, 0.5)), z, var, model, None)


def targets(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.c_[rng.uniform(-2500, 2500, (n, 2)), rng.uniform(30, 200, n)]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25))
def test_batched_fits_equal_single_fits(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    init = PassiveInitiator()
    for old_model, new_model in ((DF, CAMERA), (CAMERA, DF), (DF, OTHER_DF)):
        olds = [sighting(old_model, 0, t, rng) for t in targets(rng, n)]
        new = sighting(new_model, 1, targets(rng, 1)[0], rng)
        crossing, starts = init._crossings(_Pool(olds), new)
        batch = init._fit_batch([olds[i] for i in crossing], new, starts)
        for i, fit in zip(crossing.tolist(), batch, strict=True):
            alone = init._fit(olds[i], new)
            assert (fit is None) == (alone is None)
            if fit is not None and alone is not None:
                np.testing.assert_allclose(fit[0], alone[0], rtol=1e-9, atol=1e-6)
                np.testing.assert_allclose(fit[1], alone[1], rtol=1e-9, atol=1e-9)
                assert abs(fit[2] - alone[2]) <= 1e-9 * max(1.0, alone[2])
        for i in sorted(set(range(n)) - set(crossing.tolist())):
            assert init._fit(olds[i], new) is None


def test_a_fit_lands_on_the_target() -> None:
    rng = np.random.default_rng(3)
    init = PassiveInitiator()
    hits = 0
    for target in targets(rng, 40):
        fit = init._fit(sighting(DF, 0, target, rng), sighting(CAMERA, 1, target, rng))
        if fit is not None:
            hits += 1
            sigma = np.sqrt(np.trace(fit[1][:2, :2]))
            assert np.hypot(*(fit[0][:2] - target[:2])) < 5 * sigma + 20.0
    assert hits >= 30


@pytest.mark.skipif(kernels.numba is None, reason="numba is not installed")
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25))
def test_compiled_fits_equal_the_numpy_reference(seed: int, n: int) -> None:
    """kernels.triangulate against the numpy Gauss-Newton it replaces (cuas/tracking/kernels.py)."""
    rng = np.random.default_rng(seed)
    init = PassiveInitiator()
    for old_model, new_model in ((DF, CAMERA), (CAMERA, DF), (DF, OTHER_DF), (CAMERA, CAMERA)):
        olds = [sighting(old_model, 0, t, rng) for t in targets(rng, n)]
        new = sighting(new_model, 1, targets(rng, 1)[0], rng)
        crossing, starts = init._crossings(_Pool(olds), new)
        olds = [olds[i] for i in crossing]
        enabled = kernels.ENABLED
        try:
            kernels.ENABLED = True
            compiled = init._fit_batch(olds, new, starts)
            kernels.ENABLED = False
            reference = init._fit_batch(olds, new, starts)
        finally:
            kernels.ENABLED = enabled
        for fit, ref in zip(compiled, reference, strict=True):
            assert (fit is None) == (ref is None)
            if fit is not None and ref is not None:
                np.testing.assert_allclose(fit[0], ref[0], rtol=1e-9, atol=1e-6)
                np.testing.assert_allclose(fit[1], ref[1], rtol=1e-7, atol=1e-9)
                assert abs(fit[2] - ref[2]) <= 1e-7 * max(1.0, ref[2])


@pytest.mark.skipif(kernels.numba is None, reason="numba is not installed")
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60))
def test_compiled_crossings_equal_the_numpy_reference(seed: int, n: int) -> None:
    """kernels.crossings against the numpy test it replaces: the same pending sightings, in
    order, crossing at the same points to the bit, with emitters, other sites and sightings
    already taken in the pool."""
    rng = np.random.default_rng(seed)
    init = PassiveInitiator()
    models = (DF, CAMERA, OTHER_DF)
    olds = []
    for t in targets(rng, n):
        which = int(rng.integers(0, 3))
        s = sighting(models[which], which, t, rng)
        name = [None, "A", "B"][int(rng.integers(0, 3))]
        olds.append(_Sighting(s.sensor, s.t, s.z, s.var, s.model, name))
    pool = _Pool(olds[: n // 2])
    for s in olds[n // 2 :]:
        pool.append(s)  # as a scan grows the pool (and past its first capacity)
    for i in rng.choice(n, n // 4, replace=False) if n else ():
        pool.delete(int(i))
    for which in range(3):
        s = sighting(models[which], which, targets(rng, 1)[0], rng)
        for name in (None, "A", "C"):
            new = _Sighting(s.sensor, s.t, s.z, s.var, s.model, name)
            enabled = kernels.ENABLED
            try:
                kernels.ENABLED = True
                compiled = init._crossings(pool, new)
                kernels.ENABLED = False
                reference = init._crossings(pool, new)
            finally:
                kernels.ENABLED = enabled
            assert compiled[0].tolist() == reference[0].tolist()
            np.testing.assert_array_equal(compiled[1], reference[1])


# Two finders 750 m apart on an east-west line, as on a camp's perimeter.
WEST_DF = BearingModel(geometry(51.20, 5.40))
EAST_DF = BearingModel(geometry(51.20, 5.4107))


def horizontal_nees(target: np.ndarray, pos: np.ndarray, cov: np.ndarray) -> float:
    e = (target - pos)[:2]
    return float(e @ np.linalg.solve(cov[:2, :2], e))


WEST_CAMERA = CameraModel(geometry(51.20, 5.40))
SIGMA_DEG = {WEST_DF: 3.5, EAST_DF: 3.5, WEST_CAMERA: 0.2}


@pytest.mark.parametrize("west", [WEST_DF, WEST_CAMERA], ids=["bearing", "camera"])
@pytest.mark.parametrize(
    ("offset", "narrow"),
    [((2300.0, 800.0), True), ((1500.0, 1200.0), False), ((600.0, 900.0), False)],
)
def test_an_rf_bearing_and_another_angle_place_a_target_with_an_honest_covariance(
    west: BearingModel | CameraModel, offset: tuple[float, float], narrow: bool
) -> None:
    """Over many noisy pairs, an RF bearing and a second bearing (or a camera's direction)
    start a track where the error agrees with the covariance (mean horizontal NEES about 2,
    at most), also where the lines meet at a few degrees, 2.4 km out (`narrow`): there the
    crossing alone, linearised, claims several times too much (NEES 10-17 with two bearings,
    5-9 with a camera, over ten seeds; the posterior's 1.0-1.8)."""
    site = EAST_DF.geometry.frame.position
    target = np.array([site[0] + offset[0], site[1] + offset[1], 80.0])
    state = np.r_[target, np.zeros(3)][None]
    rng = np.random.default_rng(11)
    init = PassiveInitiator()
    crossing, posterior = [], []
    for _ in range(200):
        a, b = (
            _Sighting(
                i, 0.2 * i, z + rng.normal(0, sigma, z.shape), np.full(z.shape, sigma**2), m, None
            )
            for i, m in enumerate((west, EAST_DF))
            for z, sigma in [(m.predict(state)[0][0], np.radians(SIGMA_DEG[m]))]
        )
        fit = init._fit(a, b)
        if fit is None:  # the lines did not cross in front of both sensors
            continue
        pos, cov, _ = fit
        crossing.append(horizontal_nees(target, pos, cov))
        posterior.append(horizontal_nees(target, *init._posterior(a, b, pos, cov)))
    assert len(posterior) >= 50
    assert 0.5 < np.mean(posterior) < 2.6, np.mean(posterior)
    if narrow:
        assert np.mean(crossing) > 3 * np.mean(posterior), (np.mean(crossing), np.mean(posterior))


def test_bearings_that_cross_sharply_give_the_crossing_and_its_covariance() -> None:
    """Where the crossing is well conditioned, the posterior is the least-squares fit."""
    site = EAST_DF.geometry.frame.position
    target = np.array([site[0] - 300.0, site[1] + 700.0, 100.0])
    state = np.r_[target, np.zeros(3)][None]
    var = np.array([np.radians(1.0) ** 2])
    a, b = (
        _Sighting(i, 0.0, model.predict(state)[0][0], var, model, None)
        for i, model in enumerate((WEST_DF, EAST_DF))
    )
    init = PassiveInitiator()
    fit = init._fit(a, b)
    assert fit is not None
    pos, cov = init._posterior(a, b, fit[0], fit[1])
    assert np.hypot(*(pos - fit[0])[:2]) < 0.1 * np.sqrt(np.trace(fit[1][:2, :2]))
    np.testing.assert_allclose(cov[:2, :2], fit[1][:2, :2], rtol=0.15, atol=4.0)
