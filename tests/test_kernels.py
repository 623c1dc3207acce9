"""The compiled kernels against the numpy reference: same results on random inputs, and the
same replay (cuas/tracking/kernels.py). Each test runs a stage twice, with the kernels and
with `kernels.ENABLED` off, and compares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cuas.config import load_config
from cuas.fusion import zones
from cuas.fusion.threat import ThreatEvaluator, TrackGeometry
from cuas.fusion.threat_pass import ThreatLevels
from cuas.geodesy import LocalFrame, wrap_rad
from cuas.service.replay import replay
from cuas.tracking import kernels, pair_kernels, sight_kernels, update_kernels
from cuas.tracking.angle_screening import ambiguous_angles, contested_pairs, screen_bearings
from cuas.tracking.association import global_nearest_neighbour
from cuas.tracking.classification import Classifier, label_loglik, published_classes
from cuas.tracking.coverage import SensorGeometry
from cuas.tracking.emitter_binding import EmitterEvidence
from cuas.tracking.emitter_codes import EmitterCodes
from cuas.tracking.gating import Hypotheses, gate_threshold, hypothesise
from cuas.tracking.imm import InteractingMultipleModel, combine, gaussian_loglik
from cuas.tracking.lifecycle import LifecycleRules
from cuas.tracking.lines_of_sight import HeightPrior, Sighting, posterior
from cuas.tracking.measurements import BearingModel, CameraModel, PositionModel, RadarModel
from cuas.tracking.motion import NearlyConstantVelocity
from cuas.tracking.scan import Scan
from cuas.tracking.tracker import Tracker, TrackSnapshot, _plots_elsewhere
from cuas.tracking.tracks import TrackTable
from cuas.tracking.update import (
    innovation_covariance,
    kalman_update,
    store_updated_modes,
    update_modes,
)
from simulators.benchmark_scenarios import SAMPLE_CONFIG, SAMPLE_DIR
from simulators.random_camp import random_camp

pytestmark = pytest.mark.skipif(kernels.numba is None, reason="numba is not installed")

FRAME = LocalFrame(51.20, 5.40, 30.0)
IMM = InteractingMultipleModel(
    (NearlyConstantVelocity(1.0, 0.25), NearlyConstantVelocity(25.0, 4.0)), (20.0, 4.0)
)
# ... and with a steady mode between them, as the tracker's default motion.
IMM3 = InteractingMultipleModel(
    (IMM.models[0], NearlyConstantVelocity(0.0625, 0.016), IMM.models[1]), (20.0, 20.0, 4.0)
)


def imm_of(modes: int) -> InteractingMultipleModel:
    """An IMM of one, two or three modes."""
    return {1: InteractingMultipleModel(IMM.models[:1], (1.0,)), 2: IMM, 3: IMM3}[modes]


seeds = st.integers(0, 2**32 - 1)


def both(run: Callable[[], Any]) -> tuple[Any, Any]:
    """`run()` with the kernels, then with the numpy reference (whatever CUAS_KERNELS says)."""
    enabled = kernels.ENABLED
    try:
        kernels.ENABLED = True
        compiled = run()
        kernels.ENABLED = False
        reference = run()
    finally:
        kernels.ENABLED = enabled
    return compiled, reference


def close(a: Any, b: Any, rtol: float = 1e-9, atol: float = 1e-9) -> None:
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)


def geometry(rng: np.random.Generator, fov_az: float = 360.0) -> SensorGeometry:
    lat, lon = 51.20 + rng.uniform(-0.02, 0.02), 5.40 + rng.uniform(-0.03, 0.03)
    return SensorGeometry(
        frame=FRAME.sensor_frame(lat, lon, 30.0 + rng.uniform(0, 40)),
        min_range_m=rng.uniform(0, 200),
        max_range_m=rng.uniform(1500, 5000),
        boresight_az_deg=rng.uniform(0, 360),
        fov_az_deg=fov_az,
        fov_el_min_deg=rng.uniform(-10, 0),
        fov_el_max_deg=rng.uniform(30, 90),
    )


def tracks(rng: np.random.Generator, n: int, modes: int = 2) -> tuple[np.ndarray, ...]:
    """Mode probabilities, states and covariances (random SPD) of n tracks."""
    mu = rng.dirichlet(np.ones(modes), n)
    xm = np.concatenate(
        [
            rng.uniform(-3000, 3000, (n, modes, 2)),
            rng.uniform(10, 300, (n, modes, 1)),
            rng.normal(0, 15, (n, modes, 3)),
        ],
        axis=2,
    )
    A = rng.normal(0, 1, (n, modes, 6, 6)) * np.r_[30.0] * rng.uniform(0.05, 2, (n, modes, 1, 1))
    Pm = A @ A.transpose(0, 1, 3, 2) + np.eye(6)
    return mu, xm, Pm


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 40), st.floats(1e-3, 5.0), st.sampled_from([1, 2, 3]), st.booleans())
def test_imm_predict_and_combine(seed: int, n: int, dt: float, modes: int, own: bool) -> None:
    rng = np.random.default_rng(seed)
    mu, xm, Pm = tracks(rng, n, modes)
    imm = imm_of(modes)
    scale = rng.uniform(0.1, 2.0, n) if seed % 2 else None  # per-track process noise
    times = rng.uniform(0.0, dt, n) if own else dt  # each track its own time since its update
    a, b = both(lambda: imm.predict_combined(mu, xm, Pm, times, scale))
    close(a, b)
    modes_before = [mu.copy(), xm.copy(), Pm.copy()]
    into = [np.empty((n, 6)), np.empty((n, 6, 6))]
    imm.predict_into(mu, xm, Pm, times, *into, scale)
    close(into, b[3:])
    close([mu, xm, Pm], modes_before)  # the modes stay as they were
    advanced = [mu.copy(), xm.copy(), Pm.copy()]
    imm.advance(*advanced, times, scale)  # ... or move on, in place
    close(advanced, b[:3])
    kept = [np.empty_like(mu), np.empty_like(xm), np.empty_like(Pm)]
    imm.predict_into(mu, xm, Pm, times, *into, scale, kept)  # ... or keep them elsewhere
    for k, a in zip(kept, advanced, strict=True):  # the same pass: the same bits
        assert k.tobytes() == a.tobytes()
    close([mu, xm, Pm], modes_before)
    close(*both(lambda: combine(mu, xm, Pm)))


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 30), st.integers(1, 6))
def test_update_and_likelihood(seed: int, p: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    _, xm, Pm = tracks(rng, p, 1)
    x, P = xm[:, 0], Pm[:, 0]
    H = rng.normal(0, 1, (p, m, 6))
    var = rng.uniform(0.01, 100, (p, m))
    S = H @ P @ H.transpose(0, 2, 1) + var[:, :, None] * np.eye(m)
    y = rng.normal(0, 3, (p, m))
    close(*both(lambda: kalman_update(x, P, y, S, H, var)), rtol=1e-7, atol=1e-7)
    close(*both(lambda: [gaussian_loglik(y, S)]))
    close(*both(lambda: [innovation_covariance(H, P, var)]), rtol=1e-9, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 30), st.integers(1, 40), st.integers(0, 5), st.sampled_from([1, 2, 3]))
def test_update_modes(seed: int, p: int, k: int, which: int, modes: int) -> None:
    """The fused IMM update against the numpy reference, and against the separate kernels
    it replaces (innovation covariance, Kalman update, likelihood) to the bit."""
    rng = np.random.default_rng(seed)
    model = models(geometry(rng))[which]
    _, xm, Pm = tracks(rng, p * modes, 1)
    xm, Pm = xm[:, 0], Pm[:, 0]
    det = rng.integers(0, k, p)
    zhat, _ = model.predict(xm[::modes] if p else np.zeros((0, 6)))
    var = rng.uniform(0.1, 4, (p, model.dim)) * np.where(model.wrap, 1e-4, 25.0)
    z = rng.normal(0, 1, (k, model.dim)) * 10.0 + (zhat[rng.integers(0, p, k)] if p else 0.0)
    z[:, model.wrap] %= 2 * np.pi
    close(*both(lambda: update_modes(model, xm, Pm, z, det, var, modes)), rtol=1e-7, atol=1e-7)

    def separate() -> tuple[np.ndarray, ...]:
        zhat, H = model.predict(xm)
        v = np.repeat(var, modes, axis=0)
        y = model.residual(np.repeat(z[det], modes, axis=0), zhat)
        S = innovation_covariance(H, Pm, v)
        return (*kalman_update(xm, Pm, y, S, H, v), gaussian_loglik(y, S))

    fused, _ = both(lambda: update_modes(model, xm, Pm, z, det, var, modes))
    for a, b in zip(fused, both(separate)[0], strict=True):
        assert np.array_equal(a, b)


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(0, 120), st.integers(0, 5), st.sampled_from([1, 2]), st.booleans())
def test_update_modes_in_blocks(seed: int, p: int, which: int, modes: int, bad: bool) -> None:
    """The fused update, taken across blocks of rows, equals the row-by-row pass to the bit
    for any number of rows (whole blocks and a part of one); a row whose innovation
    covariance is not positive definite sends the whole call to the row-by-row pass."""
    rng = np.random.default_rng(seed)
    model = models(geometry(rng))[which]
    _, xm, Pm = tracks(rng, p * modes, 1)
    xm, Pm = xm[:, 0], Pm[:, 0]
    zhat, H = model.predict(xm)
    var = rng.uniform(0.1, 4, (p, model.dim)) * np.where(model.wrap, 1e-4, 25.0)
    if bad and p:
        var[rng.integers(0, p), 0] = -1e12  # S = H P H' + R is then not positive definite
    z = zhat[::modes] + rng.normal(0, 1, (p, model.dim))
    det = rng.permutation(p)
    args = (xm, Pm, zhat, H, z, det, var, model.wrap, modes)
    blocks = update_kernels.update_modes(*args)
    rows = update_kernels._update_rows(*args)
    for a, b in zip(blocks, rows, strict=True):
        assert a.tobytes() == b.tobytes()


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(1, 40), st.sampled_from([1, 2, 3]))
def test_store_modes(seed: int, n: int, modes: int) -> None:
    """Modes and their combination written into table rows, as the numpy reference."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(n)[: rng.integers(0, n + 1)]
    mu, xm, Pm = tracks(rng, rows.size, modes)

    def stored() -> list[np.ndarray]:
        table = TrackTable(1, mode_prior=np.full(modes, 1.0 / modes))
        table.add(np.zeros((n, 6)), np.broadcast_to(np.eye(6), (n, 6, 6)), 0.0, 0)
        table.store_modes(rows, mu, xm, Pm)
        return [table.mode_p, table.mode_x, table.mode_P, table.x, table.P]

    close(*both(stored))


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 40), st.sampled_from([1, 2, 3]))
def test_store_updated_modes(seed: int, n: int, modes: int) -> None:
    """The mode posterior (numpy's log and exp), quiet for tentative or unplaced tracks, and
    the store: with the kernels, the numpy reference's bits (floored, tiny, zero and huge
    likelihood ratios among them)."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(n)[: rng.integers(1, n + 1)]
    p = rows.size
    c = rng.dirichlet(np.full(modes, 0.4), p)
    c[rng.random(c.shape) < 0.1] = 0.0
    loglik = rng.normal(-5.0, 30.0, p * modes) * 10.0 ** rng.integers(-3, 3, p * modes)
    _, xm, Pm = tracks(rng, p * modes, 1)
    located = rng.random(p) < 0.8
    status = rng.integers(0, 3, n).astype(np.int8)
    quiet = np.full(modes, 1e-4)
    quiet[0] = 1.0 - 1e-4 * (modes - 1)

    def stored() -> list[np.ndarray]:
        table = TrackTable(1, mode_prior=quiet)
        table.add(np.zeros((n, 6)), np.broadcast_to(np.eye(6), (n, 6, 6)), 0.0, 0)
        table.status[:n] = status
        store_updated_modes(table, rows, c, loglik, xm[:, 0], Pm[:, 0], located, quiet, 0)
        return [table.mode_p, table.mode_x, table.mode_P, table.x, table.P]

    for a, b in zip(*both(stored), strict=True):
        assert a.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 60))
def test_kinematic_evidence(seed: int, n: int) -> None:
    """The classifier's kinematic cues, compiled: the numpy reference's bits, for speeds and
    heights on and off the cues' grids (NaN and infinities read as numpy's cast does)."""
    rng = np.random.default_rng(seed)
    scale = np.array([1e3, 1e3, 300.0, 30.0, 30.0, 5.0]) * 10.0 ** rng.integers(-2, 3, (n, 1))
    x = rng.normal(0.0, 1.0, (n, 6)) * scale
    x[rng.random((n, 6)) < 0.05] = np.nan
    x[rng.random((n, 6)) < 0.05] = np.inf
    A = rng.normal(0.0, 1.0, (n, 6, 6)) * 10.0 ** rng.integers(-1, 3, (n, 1, 1))
    table = TrackTable(1, mode_prior=np.ones(1))
    table.add(x, A @ A.transpose(0, 2, 1), 0.0, 0)
    rows = rng.permutation(n)[: rng.integers(0, n + 1)]
    classifier = Classifier(load_config(SAMPLE_CONFIG).tracker)
    with np.errstate(invalid="ignore"):
        a, b = both(lambda: classifier.kinematics(table, rows))
    assert a.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 60))
def test_class_step(seed: int, n: int) -> None:
    """A Bayesian step of the class log-probabilities, its exp and log numpy's: the numpy
    reference's bits (evidence that floors classes, NaN among it)."""
    rng = np.random.default_rng(seed)
    table = TrackTable(1, mode_prior=np.ones(1))
    table.add(np.zeros((n, 6)), np.broadcast_to(np.eye(6), (n, 6, 6)), 0.0, 0)
    table.class_logp[:n] = np.log(rng.dirichlet(np.ones(5), n))
    rows = rng.permutation(n)[: rng.integers(0, n + 1)]
    evidence = rng.normal(0.0, 5.0, (5, rows.size)) * 10.0 ** rng.integers(-2, 2, (5, 1))
    evidence[rng.random(evidence.shape) < 0.02] = np.nan
    classifier = Classifier(load_config(SAMPLE_CONFIG).tracker)

    def stepped() -> np.ndarray:
        logp = table.class_logp.copy()
        classifier._step(SimpleNamespace(class_logp=logp), rows, evidence)  # type: ignore[arg-type]
        return logp

    a, b = both(stepped)
    assert a.tobytes() == b.tobytes()


# Rows of -inf and NaN are fed on purpose: numpy's reference warns on them, the kernel not.
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 60))
def test_published_class_probabilities(seed: int, n: int) -> None:
    """The published class probabilities, compiled round numpy's exp: the numpy reference's
    bits, and the benign test of the threat pass the same as its numpy (rows of -inf, NaN, a
    class far ahead, equal classes)."""
    rng = np.random.default_rng(seed)
    logp = np.log(rng.dirichlet(np.full(5, 0.5), n)) * rng.choice([0.1, 1.0, 30.0], (n, 1))
    logp[rng.random((n, 5)) < 0.03] = rng.choice([np.nan, -np.inf, 0.0, -0.0, -800.0])
    logp[rng.random(n) < 0.05] = -np.inf
    a, b = both(lambda: published_classes(logp, 0.6))
    assert a.probs.tobytes() == b.probs.tobytes()
    assert a.names == b.names
    config = load_config(SAMPLE_CONFIG)
    frame = LocalFrame(config.origin.lat, config.origin.lon, config.origin.alt_m)
    levels = ThreatLevels(ThreatEvaluator(config.threat, zones.ZoneSet(config.zones, frame)))
    for confidence in (0.5, 0.9, float(np.round(rng.random(), 2))):
        levels._benign_confidence = confidence
        assert np.array_equal(levels._benign(logp), levels.benign_reference(logp))


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 40), st.integers(1, 60), st.sampled_from([3, 4]))
def test_radar_pairs(seed: int, n: int, k: int, m: int) -> None:
    """A radar scan's plots that went to another track, compiled: the numpy reference's
    bits (tracks with no rival, a NaN distance among the pairs, echo gates of any width)."""
    rng = np.random.default_rng(seed)
    pairs = rng.random((n, k)) < rng.choice([0.05, 0.3, 0.8])
    track, det = np.nonzero(pairs)
    p = track.size
    d2 = rng.uniform(0.0, 20.0, p) * rng.choice([0.1, 1.0, 10.0], p)
    d2[rng.random(p) < 0.02] = np.nan
    y = rng.normal(0.0, 1.0, (p, m))
    gated = Hypotheses(track, det, d2, y, np.zeros((p, m, m)), np.zeros((p, m, 6)))
    # One plot per track and track per plot: the first free plot of each track in turn.
    chosen, used = [], set()
    for q in rng.permutation(p).tolist():
        if track[q] not in {track[c] for c in chosen} and det[q] not in used:
            chosen.append(q)
            used.add(det[q])
    assigned = gated.subset(np.sort(np.array(chosen, dtype=np.intp)))
    placed = rng.random(n) < 0.6
    echo = rng.choice([np.inf, 11.3, 2.0], n)
    for a, b in zip(*both(lambda: _plots_elsewhere(gated, assigned, placed, echo)), strict=True):
        assert a.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 60))
def test_label_loglik(seed: int, k: int) -> None:
    """What detections' class probabilities say, compiled before numpy's log: the numpy
    reference's bits (rows with NaN, negative or no positive values, floored classes)."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(5, 0.3), k) * rng.choice([0.5, 1.0, 3.0], (k, 1))
    probs[rng.random((k, 5)) < 0.05] = rng.choice([np.nan, np.inf, -0.2, 0.0, -0.0])
    probs[rng.random(k) < 0.1] = 0.0
    a, b = both(lambda: label_loglik(probs, 0.05))
    assert a.tobytes() == b.tobytes()


def models(g: SensorGeometry) -> list:
    return [
        RadarModel(g, with_range_rate=False),
        RadarModel(g, with_range_rate=True),
        CameraModel(g),
        BearingModel(g),
        PositionModel(g, with_velocity=False),
        PositionModel(g, with_velocity=True),
    ]


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 40), st.integers(0, 160), st.integers(0, 5), st.sampled_from([1, 100]))
def test_gating(seed: int, n: int, k: int, which: int, wide: float) -> None:
    """The same gated pairs in the same order, with the same distances and innovations; a
    pair whose distance is within rounding of the threshold may fall either way. From 64
    detections on a circular axis the kernel searches them by angle within each track's
    widest gate; `wide` widens the detections' variances, so that it may wrap or span the
    whole turn."""
    rng = np.random.default_rng(seed)
    model = models(geometry(rng))[which]
    _, xm, Pm = tracks(rng, n, 1)
    x, P = xm[:, 0], Pm[:, 0] * 0.1 + np.eye(6)
    zhat, _ = model.predict(x[rng.integers(0, max(n, 1), k)] if n else np.zeros((k, 6)))
    var = rng.uniform(0.1, 4, (k, model.dim)) * np.where(model.wrap, 1e-4, 25.0) * wide
    var[: k // 3] *= wide  # some wider still: the widest sets the search
    z = zhat + rng.normal(0, 1, zhat.shape) * np.sqrt(var) * rng.uniform(0, 4, (k, 1))
    z[:, model.wrap] %= 2 * np.pi
    scan = Scan(0, 0.0, z, var, model)
    threshold = gate_threshold(0.999, model.dim)
    a, b = both(lambda: hypothesise(x, P, scan, threshold))
    pa = set(zip(a.track.tolist(), a.det.tolist(), strict=True))
    pb = set(zip(b.track.tolist(), b.det.tolist(), strict=True))
    borderline = {
        (t, d)
        for t, d, d2 in zip(b.track, b.det, b.d2, strict=True)
        if abs(d2 - threshold) < 1e-9 * threshold
    }
    assert pa ^ pb <= borderline
    if pa == pb:
        assert a.track.tolist() == b.track.tolist() and a.det.tolist() == b.det.tolist()
        close((a.d2, a.y, a.S, a.H), (b.d2, b.y, b.S, b.H))


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 50), st.sampled_from([360.0, 90.0, 30.0]))
def test_geometry(seed: int, n: int, fov: float) -> None:
    """Predicted measurements, Jacobians and the field of regard."""
    rng = np.random.default_rng(seed)
    g = geometry(rng, fov)
    _, xm, _ = tracks(rng, n, 1)
    x = xm[:, 0]
    for model in models(g)[:4]:
        close(*both(lambda model=model: model.predict(x)))
    a, b = both(lambda: g.covers(x[:, :3]))
    assert a.tolist() == b.tolist()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 70), st.booleans())
def test_radar_prediction_to_the_bit(seed: int, n: int, with_range_rate: bool) -> None:
    """The compiled radar prediction equals, to the bit, the geometry's compiled pass with
    the range-rate row in numpy (its matrix products, einsum and broadcasts), for one track
    (numpy's matmul takes another path then) or many, a track on the sensor, or standing."""
    rng = np.random.default_rng(seed)
    model = RadarModel(geometry(rng), with_range_rate)
    _, xm, _ = tracks(rng, n, 1)
    x = xm[:, 0]
    if n:
        x[rng.integers(0, n), 3:] = 0.0
        x[rng.integers(0, n), :3] = model.geometry.frame.position
    enabled = kernels.ENABLED
    try:
        kernels.ENABLED = True
        compiled, reference = model.predict(x), model._predict(x)
    finally:
        kernels.ENABLED = enabled
    for a, b in zip(compiled, reference, strict=True):
        assert a.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 40), st.booleans())
def test_radar_initiation_to_the_bit(seed: int, k: int, with_range_rate: bool) -> None:
    """Positions, velocities and their covariances of tracks started from radar plots: the
    compiled passes equal the numpy reference to the bit (a plot at zero range, one with no
    range-rate among them)."""
    rng = np.random.default_rng(seed)
    model = RadarModel(geometry(rng), with_range_rate)
    z = np.c_[
        rng.uniform(0, 3000, k),
        rng.uniform(0, 2 * np.pi, k),
        rng.uniform(-0.2, 1.5, k),
        rng.normal(0, 20, k),
    ][:, : model.dim]
    z[rng.integers(0, k), 0] = 0.0
    if with_range_rate:
        z[rng.integers(0, k), 3] = 0.0
    var = rng.uniform(1e-6, 30, (k, model.dim))
    V = np.diag(rng.uniform(1, 500, 3))

    def started() -> list[np.ndarray]:
        pos, cov = model.initiate(z, var)
        return [pos, cov, *model.velocity_prior(z, var, pos, V)]

    for a, b in zip(*both(started), strict=True):
        assert a.tobytes() == b.tobytes()


def test_replay_is_the_same(tmp_path: Path) -> None:
    """A multi-sensor replay gives the same outputs, byte for byte (published values are
    rounded to centimetres, far above the kernels' rounding differences)."""
    config = load_config(SAMPLE_CONFIG)
    recording = SAMPLE_DIR / "camp-ingress.msgpack"
    outs = iter([tmp_path / "compiled.msgpack", tmp_path / "reference.msgpack"])
    a, b = both(lambda: replay(recording, config, next(outs), progress=False))
    assert a.detections == b.detections > 1000
    assert (tmp_path / "compiled.msgpack").read_bytes() == (
        tmp_path / "reference.msgpack"
    ).read_bytes()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 300), st.integers(1, 20), st.booleans())
def test_order_by_high(seed: int, n: int, buckets: int, ascending: bool) -> None:
    """The counting sort of the evidence's keys is argsort's order when each emitter's keys
    come ascending, and says so exactly then."""
    rng = np.random.default_rng(seed)
    high = rng.integers(0, buckets, n)
    low = rng.permutation(10 * n + 1)[:n]  # unique keys
    if ascending:
        for b in range(buckets):
            low[high == b] = np.sort(low[high == b])
    keys = high.astype(np.int64) * (1 << 40) + low
    order, ordered = kernels.order_by_high(keys, high.astype(np.intp), buckets)
    assert ordered == all((np.diff(low[high == b]) > 0).all() for b in range(buckets))
    if ordered:
        assert order.tolist() == np.argsort(keys).tolist()
    assert sorted(order.tolist()) == list(range(n))


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 12), st.integers(1, 3), st.booleans(), st.booleans())
def test_lines_of_sight(seed: int, k: int, sites: int, camera: bool, prior: bool) -> None:
    """The posterior of angle-only sightings (bearings, with or without a camera's, from one
    to three sites, a moving target) on its compiled grid is the reference's."""
    rng = np.random.default_rng(seed)
    sensors = [geometry(rng) for _ in range(sites)]
    velocity = rng.normal(0.0, 10.0, 2)
    target = np.r_[rng.uniform(-3000, 3000, 2), rng.uniform(20, 300), velocity, 0.0]
    seen = []
    for i in range(k):
        g = sensors[i % sites]
        model = CameraModel(g) if camera and i % 3 == 0 else BearingModel(g)
        t = rng.uniform(0.0, 10.0)
        x = target.copy()
        x[:2] += velocity * (t - 10.0)
        z, _ = model.predict(x[None])
        var = np.radians(rng.uniform(0.2, 5.0, model.dim)) ** 2
        seen.append(Sighting(t, z[0] + rng.normal(0.0, np.sqrt(var)), var, model))
    height = HeightPrior(rng.uniform(50, 150), rng.uniform(50, 200))
    without = (rng.uniform(0, 200), rng.uniform(100, 1e4)) if prior else None
    speed_sigma = rng.choice([0.0, rng.uniform(0.1, 20.0)])
    a, b = both(lambda: posterior(seen, 10.0, velocity, speed_sigma, height, without))
    assert (a is None) == (b is None)
    if a is not None:
        close(a, b, atol=1e-6)


finite = st.floats(-1e300, 1e300) | st.sampled_from([0.0, -0.0, 2.0**-520, 2.0**515, 3.0])


@settings(deadline=None)  # the first example compiles the kernel (0.4 s on a busy machine)
@given(finite, finite)
def test_hypot_lanes_to_the_bit(x: float, y: float) -> None:
    """`_hypot` as selects is `_hypot`, to the bit, wherever it does not call the library."""
    h, out = sight_kernels._hypot_lanes(x, y)
    lo, hi = sorted((abs(x), abs(y)))
    assert out == (not (lo >= 2.0**-511 and hi <= 2.0**511))
    if not out:
        assert np.float64(h).tobytes() == np.float64(sight_kernels._hypot(x, y)).tobytes()


@settings(max_examples=30, deadline=None)
@given(seeds, st.booleans(), st.booleans())
@example(23248, True, True)
def test_grid_geometry_distances_to_the_bit(seed: int, camera: bool, on_axis: bool) -> None:
    """The grid's distances (from the camp's centre; from the camera's site, and what the
    camera's height makes of them) are `_hypot`'s, point by point; with a point on an axis
    (a zero side: the library's case) too."""
    rng = np.random.default_rng(seed)
    nr, nphi = int(rng.integers(1, 6)), int(rng.integers(1, 9))
    centre = np.r_[0.0, 0.0, 10.0] if on_axis else rng.uniform(-500.0, 500.0, 3)
    phi = rng.uniform(-np.pi, np.pi, nphi)
    if on_axis:
        phi[0] = 0.0
    r = np.geomspace(50.0, rng.uniform(100.0, 5000.0), nr)
    site = rng.uniform(-300.0, 300.0, 3)
    tan_el, cos_el2, el_var = 0.1, 0.99, 1e-4
    h_mean, h_var = 100.0, 150.0**2
    one = np.ones(1)
    starts = np.array([0, 1], dtype=np.intp)
    points, z_var, _, logs, _, height_chi = sight_kernels.grid_geometry(
        centre,
        np.sin(phi),
        np.cos(phi),
        r,
        100.0,
        1.0,
        np.zeros(2),
        1.0,
        one,
        one,
        starts,
        np.zeros((1, 3)),
        np.eye(3)[None].copy(),
        np.full(1, 1e4),
        camera,
        site,
        tan_el,
        cos_el2,
        el_var,
        h_mean,
        h_var,
        50.0,
    )
    for k in range(nr * nphi):
        x0 = centre[0] + r[k // nphi] * np.sin(phi)[k % nphi]
        x1 = centre[1] + r[k // nphi] * np.cos(phi)[k % nphi]
        assert points[k, :2].tolist() == [x0, x1]
        assert logs[1, k] == max(sight_kernels._hypot(x0, x1), 50.0)
        if camera:
            rho = max(sight_kernels._hypot(x0 - site[0], x1 - site[1]), 1.0)
            seen = site[2] + rho * tan_el
            # Squares as products, as the kernel takes them: numpy's `** 2` on a scalar is
            # C's pow, which misrounds a last bit now and then (seed 23248: 0.0737...73
            # against the product's ...74), and the test failed on some fresh clones.
            slant = rho / cos_el2
            seen_var = slant * slant * el_var
            both = seen_var + h_var
            assert points[k, 2] == (seen * h_var + h_mean * seen_var) / both
            assert (z_var[k], logs[2, k]) == (seen_var * h_var / both, both)
            miss = seen - h_mean
            assert height_chi[k] == miss * miss / both
        else:
            assert (points[k, 2], z_var[k]) == (h_mean, h_var)


@settings(max_examples=60, deadline=None)
@given(seeds, st.lists(st.integers(1, 4), min_size=1, max_size=4), st.booleans(), st.booleans())
def test_grid_log_weights_to_the_bit(seed: int, groups: list[int], camera: bool, odd: bool) -> None:
    """The grid's log weights, vectorised a sighting at a time, are those of the point-by-point
    kernel to the bit: angles as arctan2 gives them, azimuths in [0, 2pi) (or, `odd`, some
    that `_wrap` takes in several steps, and a NaN: then the point-by-point pass itself)."""
    rng = np.random.default_rng(seed)
    nr, nphi = int(rng.integers(1, 9)), int(rng.integers(1, 30))
    n, s = nr * nphi, sum(groups)
    starts = np.r_[0, np.cumsum(groups)].astype(np.intp)
    angles = rng.uniform(-np.pi, np.pi, (s, n))
    angles[:, : min(n, 3)] = [np.pi, -np.pi, 0.0][: min(n, 3)]
    args = rng.uniform(1e-6, 1e6, (s + 2, n))
    logs = np.log(args)
    far = rng.random((s, n)) < 0.1
    height_chi = rng.uniform(0.0, 50.0, n) if camera else np.zeros(n)
    z = rng.uniform(0.0, 2 * np.pi, s)
    z[0] = 0.0
    if odd:
        z[-1] = rng.choice([7.5 * np.pi, -9.0, np.nan])
    log_r = np.log(np.geomspace(50.0, 5000.0, nr))
    a = sight_kernels.grid_log_weights(
        angles, args, logs, far, height_chi, z, starts, log_r, nphi, camera
    )
    b = sight_kernels._grid_log_weights_scalar(
        angles, args, logs, far, height_chi, z, starts, log_r, nphi, camera
    )
    assert a[0].tobytes() == b[0].tobytes()
    assert np.float64(a[1]).tobytes() == np.float64(b[1]).tobytes()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 300), st.integers(1, 120), st.integers(1, 120))
def test_association(seed: int, p: int, n: int, k: int) -> None:
    """Global nearest neighbour chooses the same pairs with union-find components."""
    rng = np.random.default_rng(seed)
    pairs = np.unique(np.c_[rng.integers(0, n, p), rng.integers(0, k, p)], axis=0)
    cost = rng.uniform(0, 12, len(pairs))
    a, b = both(lambda: global_nearest_neighbour(pairs[:, 0], pairs[:, 1], cost, 11.0))
    assert a.tolist() == b.tolist()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 30), st.integers(1, 12))
def test_emitter_evidence(seed: int, scans: int, tracks_per: int) -> None:
    """The evidence's entries, scores and bound emitters, scan after scan: the kernel merges,
    prunes and decides as the numpy reference does, to the bit (both add and multiply in the
    same order)."""
    rng = np.random.default_rng(seed)
    emitters = [f"E{i}" for i in range(int(rng.integers(1, 8)))]
    calls = []
    for scan in range(scans):
        names = list(
            rng.choice(emitters, size=int(rng.integers(1, len(emitters) + 1)), replace=False)
        )
        per = rng.integers(1, tracks_per + 1, len(names))
        bearing = np.repeat(np.arange(len(names)), per)
        # The tracker's pairs come track by track (ascending ids per bearing); either way here.
        track_ids = np.concatenate(
            [np.sort(rng.choice(3 * tracks_per, c, replace=False)) for c in per]
            if scan % 2
            else [rng.choice(3 * tracks_per, c, replace=False) for c in per]
        )
        d2 = rng.uniform(0.0, 16.0, bearing.size) * rng.integers(0, 2, bearing.size)
        calls.append((scan * 0.5, int(rng.integers(0, 3)), names, bearing, track_ids, d2))

    def run() -> tuple[list[dict[str, int]], np.ndarray, np.ndarray]:
        evidence = EmitterEvidence(margin=1.0, min_bearings=2.0, hopeless=6.0)
        won = [
            evidence.observe(t, sensor, names, b, ids, d2, np.full(b.size, -2.0), 16.0)
            for t, sensor, names, b, ids, d2 in calls
        ]
        return won, evidence._key, evidence._score

    (wa, ka, sa), (wb, kb, sb) = both(run)
    assert wa == wb
    np.testing.assert_array_equal(ka, kb)
    np.testing.assert_array_equal(sa, sb)


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(1, 40), st.sampled_from([1, 2, 3]))
def test_imm_predict_with_shared_steps(seed: int, n: int, modes: int) -> None:
    """Tracks in runs of the same time step (the kernel takes a step's terms once a run),
    zero steps of either sign among them."""
    rng = np.random.default_rng(seed)
    mu, xm, Pm = tracks(rng, n, modes)
    imm = imm_of(modes)
    times = np.repeat(rng.choice([0.0, -0.0, 0.2, 0.35, 1.0], n), rng.integers(1, 4, n))[:n]
    close(*both(lambda: imm.predict_combined(mu, xm, Pm, times)))


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 40), st.sampled_from([1, 2]))
def test_vague_heights(seed: int, n: int, modes: int) -> None:
    """The tracks whose height the tracker resets to its prior: a mode's height variance over
    the limit (exactly at it: not; a NaN among the modes: not, as numpy's maximum)."""
    rng = np.random.default_rng(seed)
    Pm = np.zeros((n, modes, 6, 6))
    Pm[:, :, 2, 2] = rng.choice([1.0, 4.0, 9.0, np.nan, np.inf], (n, modes))
    reference = np.flatnonzero(Pm[:, :, 2, 2].max(axis=1) > 4.0)
    assert kernels.vague_heights(Pm, 4.0).tolist() == reference.tolist()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 60), st.integers(1, 6), st.booleans())
def test_updated_by(seed: int, n: int, sensors: int, ever: bool) -> None:
    """Which tracks some sensors updated (ever, or within the sensor memory)."""
    rng = np.random.default_rng(seed)
    hits = np.where(rng.random((n, sensors)) < 0.4, -np.inf, rng.integers(0, 40, (n, sensors)))
    which = rng.random(sensors) < 0.5
    tracker = SimpleNamespace(rules=SimpleNamespace(memory_s=5.0))
    t = None if ever else 20.0  # integer times: some exactly at the memory's edge
    a, b = both(lambda: Tracker._updated_by(tracker, hits, which, t))  # type: ignore[arg-type]
    assert a.tolist() == b.tolist()


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(0, 60), st.integers(1, 6), st.integers(0, 7))
def test_lifecycle(seed: int, n: int, sensors: int, given_: int) -> None:
    """Confirmation, coasting and deletion decided track by track as the numpy rules decide
    them, with and without the optional masks (localising, hearing, observable sensors and
    tracks) and with silent sensors orphaning tracks."""
    rng = np.random.default_rng(seed)
    table = TrackTable(n_sensors=sensors)
    x = np.c_[rng.uniform(-4000, 4000, (n, 3)), rng.normal(0, 40, (n, 3))]
    A = rng.normal(0, 1, (n, 6, 6)) * rng.uniform(1, 300, (n, 1, 1))
    table.add(x, A @ A.transpose(0, 2, 1), 0.0, 0)
    t = 20.0
    table.status[:n] = rng.integers(0, 3, n)
    table.history[:n] = rng.integers(0, 1 << 12, n)
    table.t_birth[:n] = rng.uniform(0, t, n)
    table.t_update[:n] = rng.uniform(0, t, n)
    table.last_hit[:n] = np.where(
        rng.random((n, sensors)) < 0.4, -np.inf, rng.uniform(0, t, (n, sensors))
    )
    table.unseen[:n] = rng.integers(0, 6, n)
    table.emitter_id[:n] = np.where(rng.random(n) < 0.5, None, "E")
    table.shadowed[:n] = rng.random(n) < 0.3
    rules = LifecycleRules(
        confirm_m=3,
        confirm_n=5,
        coast_after_s=3.0,
        delete_after_s=8.0,
        max_pos_sigma_m=float(rng.uniform(100, 800)),
        orphan_max_pos_sigma_m=float(rng.uniform(200, 2000)),
        max_pos_sigma_fraction=float(rng.choice([0.0, 0.2])),
    )
    masks = [rng.random(sensors) < 0.5 for _ in range(3)]
    silent = masks[2] if seed % 3 == 0 else None
    localising = masks[0] if given_ & 1 else None
    hearing = masks[1] if given_ & 2 else None
    observable = rng.random(n) < 0.5 if given_ & 4 else None

    def run() -> tuple[np.ndarray, ...]:
        copy = TrackTable(n_sensors=sensors)
        copy.add(table.x[:n], table.P[:n], 0.0, 0)
        for name in (
            "status",
            "history",
            "t_birth",
            "t_update",
            "last_hit",
            "unseen",
            "emitter_id",
            "shadowed",
        ):
            getattr(copy, name)[:n] = getattr(table, name)[:n]
        confirm, doomed = rules.apply(copy, t, silent, localising, hearing, observable)
        return confirm, doomed, copy.status[:n].copy()

    for a, b in zip(*both(run), strict=True):
        assert a.tolist() == b.tolist()


@given(st.floats(-1e3, 1e3) | st.sampled_from([np.pi, -np.pi, 2 * np.pi, -2 * np.pi, 3 * np.pi]))
def test_wrap_is_the_reference_to_the_bit(a: float) -> None:
    assert kernels._wrap(a) == float(wrap_rad(np.array([a]))[0])


@settings(max_examples=60, deadline=None)
@given(seeds, st.integers(3, 12), st.integers(0, 60))
def test_zone_polygons(seed: int, v: int, n: int) -> None:
    """Inside, time to the boundary and distance to it, for a random (maybe self-crossing)
    polygon and points on, near and far from its vertices."""
    rng = np.random.default_rng(seed)
    polygon = rng.uniform(-1000, 1000, (v, 2))
    points = np.concatenate([rng.uniform(-1500, 1500, (n, 2)), polygon[: n % v]])
    velocities = rng.normal(0, 20, points.shape)
    velocities[::5] = 0.0
    a, b = both(lambda: zones.point_in_polygon(points, polygon))
    assert a.tolist() == b.tolist()
    close(*both(lambda: [zones.time_to_boundary(points, velocities, polygon)]), 1e-12, 0.0)
    close(*both(lambda: [zones.distance_to_polygon(points, polygon)]), 1e-12, 0.0)


@settings(max_examples=40, deadline=None)
@given(seeds, st.integers(0, 80), st.sampled_from([None, 0, 1, 2]))
def test_threat_levels(seed: int, n: int, camp: int | None) -> None:
    """The compiled first threat pass gives every track the level the evaluator gives it:
    tracks inside, near and far from the zones, inbound and not, vague and well placed,
    tentative, friendly, benign (by their own looks too), underground and unvouched ones, at the
    sample camp and random camps
    (irregular zones, some with altitude bands)."""
    config = load_config(SAMPLE_CONFIG) if camp is None else random_camp(camp, 30.0).config
    frame = LocalFrame(config.origin.lat, config.origin.lon, config.origin.alt_m)
    zone_set = zones.ZoneSet(config.zones, frame)
    evaluator = ThreatEvaluator(config.threat, zone_set)
    rng = np.random.default_rng(seed)
    table = TrackTable(1)
    _, xm, Pm = tracks(rng, n, 1)
    x, P = xm[:, 0], Pm[:, 0] * rng.choice([1e-3, 1.0, 1e3], (n, 1, 1))
    x[:, :2] *= rng.choice([0.1, 0.5, 1.0], (n, 1))
    x[:, 2] = rng.uniform(-300, 2000, n)
    x[:, 3:5] = -x[:, :2] / np.linalg.norm(x[:, :2], axis=1, keepdims=True) * rng.uniform(
        -5, 40, (n, 1)
    ) + rng.normal(0, 3, (n, 2))
    table.add(x, P, 0.0, 0)
    rows = np.arange(n)
    table.status[rows] = rng.choice([0, 1, 1, 1, 2], n)
    table.friendly[rows] = rng.uniform(size=n) < 0.1
    table.class_logp[rows] = np.log(rng.dirichlet(np.full(5, 0.3), n))
    lent = rng.uniform(size=n) < 0.3  # an emitter's bearings lent some of them their class
    table.class_bare[rows[lent]] = np.log(rng.dirichlet(np.full(5, 0.3), int(lent.sum())))
    table.t_vouched[rows] = np.where(rng.uniform(size=n) < 0.2, np.nan, 0.0)
    live = table.rows(rows)
    snap = TrackSnapshot(0.0, live, table.none, np.zeros(n, dtype=bool))

    def reference() -> np.ndarray:
        pos, vel, nan = live.x[:, :3], live.x[:, 3:], np.full(n, np.nan)
        geo = TrackGeometry(
            zone_set.contains(pos), zone_set.time_to_perimeter(pos, vel), nan, nan, nan
        )
        classes = published_classes(live.class_logp, 0.6)
        return evaluator.evaluate(snap, geo, classes).level

    expected, _ = both(reference)  # the zone kernels are held to the reference above
    kernels.ENABLED, enabled = False, kernels.ENABLED
    try:
        assert reference().tolist() == expected.tolist()
    finally:
        kernels.ENABLED = enabled
    levels = ThreatLevels(evaluator)(
        live.x, live.P, live.status, live.friendly, live.class_logp, live.class_bare, live.t_vouched
    )
    assert levels.tolist() == expected.tolist()


def pairs(rng: np.random.Generator, n: int, k: int, p: int) -> Hypotheses:
    """`p` random distinct (track, detection) pairs of n tracks and k bearings, track by
    track as gating lists them."""
    tk = np.unique(np.c_[rng.integers(0, n, p), rng.integers(0, k, p)], axis=0)
    d2 = rng.uniform(0.0, 6.6, len(tk))
    y = rng.normal(size=(len(tk), 1))
    S = rng.uniform(0.1, 1.0, (len(tk), 1, 1))
    return Hypotheses(tk[:, 0], tk[:, 1], d2, y, S, np.zeros((len(tk), 1, 6)))


def same_pairs(a: Hypotheses, b: Hypotheses) -> None:
    assert a.track.tolist() == b.track.tolist() and a.det.tolist() == b.det.tolist()
    assert a.d2.tolist() == b.d2.tolist() and a.S.tolist() == b.S.tolist()


@settings(max_examples=80, deadline=None)
@given(seeds, st.integers(1, 60), st.integers(1, 40), st.integers(0, 600))
def testscreen_bearings(seed: int, n: int, k: int, p: int) -> None:
    """A direction finder's pairs, screened (exclusions, routing by emitter id, ambiguity,
    the tighter gate) in compiled passes: the reference's pairs and ambiguous bearings."""
    rng = np.random.default_rng(seed)
    raw = pairs(rng, n, k, p)
    if rng.random() < 0.5:  # a subset, as after the emitter check
        raw = raw.subset(rng.random(len(raw)) < 0.9)
    names = [None if rng.random() < 0.2 else f"E{e}" for e in rng.integers(0, k, k)]
    emitters = EmitterCodes.of(names)
    held = np.array([None if rng.random() < 0.4 else f"E{e}" for e in rng.integers(0, k + 5, n)])
    firm = rng.random(n) < 0.7
    excluded, shadowed, near = (rng.random((3, n)) < [[0.2], [0.2], [0.3]]).tolist()

    def run() -> tuple[Hypotheses, Hypotheses, np.ndarray]:
        return screen_bearings(
            raw,
            np.array(excluded),
            firm,
            firm & ~np.array(shadowed),
            emitters,
            emitters.held(held),
            np.array(near),
            2.7,
            k,
        )

    (ga, ha, aa), (gb, hb, ab) = both(run)
    same_pairs(ga, gb)
    same_pairs(ha, hb)
    assert aa.tolist() == ab.tolist()


@settings(max_examples=80, deadline=None)
@given(seeds, st.integers(1, 60), st.integers(1, 40), st.integers(0, 600), st.floats(0.0, 12.0))
def testcontested_pairs(seed: int, n: int, k: int, p: int, margin: float) -> None:
    """Assigned angle pairs with a rival within the margin: the reference's."""
    rng = np.random.default_rng(seed)
    gated = pairs(rng, n, k, p)
    chosen = global_nearest_neighbour(gated.track, gated.det, gated.d2, 6.6)
    assigned = gated.subset(chosen)
    firm = rng.random(n) < 0.7
    a, b = both(lambda: contested_pairs(assigned, gated, firm, margin, k))
    assert a.tolist() == b.tolist()


@settings(max_examples=80, deadline=None)
@given(seeds, st.integers(1, 60), st.integers(1, 40), st.integers(0, 600))
def test_emitter_check_passes(seed: int, n: int, k: int, p: int) -> None:
    """The emitter check's passes over the pairs (`EmitterIds.check`: the pairs of
    each bearing's holder, the pairs no barred track may take), the ambiguous bearings and
    the emitter evidence's pairs (`EmitterIds.bind`), as their numpy selects."""
    rng = np.random.default_rng(seed)
    gated = pairs(rng, n, k, p)
    holder = np.where(rng.random(k) < 0.5, rng.integers(0, n, k), -1)
    bar = rng.integers(-1, 4, (n, 3))  # per track, slot: 0 none, -1 one the scan never names
    named = rng.integers(0, 4, k)  # per bearing: 0 names none
    a = pair_kernels.with_holder(gated.track, gated.det, holder)
    assert a.tolist() == np.flatnonzero(holder[gated.det] == gated.track).tolist()
    b = pair_kernels.unbarred(gated.track, gated.det, bar, named)
    t = bar[gated.track]
    barred = ((t > 0) & (t == named[gated.det][:, None])).any(axis=1)
    assert b.tolist() == np.flatnonzero(~barred).tolist()
    firm, chosen = rng.random(n) < 0.7, rng.random(k) < 0.5
    a, b = both(lambda: ambiguous_angles(gated, firm, k))
    assert a.tolist() == b.tolist()
    c = pair_kernels.firm_pairs(gated.track, gated.det, firm, chosen)
    assert c.tolist() == np.flatnonzero(firm[gated.track] & chosen[gated.det]).tolist()
