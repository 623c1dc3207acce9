"""Drill scenario files (TOML): the camp, its sensors' real performance, targets and events.

A scenario file is parsed with `tomllib` and converted by `msgspec` into the structs below,
which refuse unknown keys; cross-field rules are checked afterwards. Every failure is a
`ScenarioError` naming the file, the key path (`targets[2].speed_mps`) and the reason. The
result is a `simulators.scenario_library.Scenario`, built from the same behaviours
(`simulators.targets`) and simulators as the Python library, so a drill file and a library
entry fly identically. Coordinates are camp ENU metres (east, north, up from the camp origin)
or a true-north bearing and horizontal distance from the camp centre; heights are above the
camp origin. The README's "Drills" section is the user's guide, with an annotated example.

    scenario = load_scenario("simulators/scenarios/single-intruder.toml")
    camp = scenario_camp("single-intruder")   # the camp config the scenario names
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import numpy as np
from msgspec import Meta, Struct

from cuas.config import CampConfig, ConfigError, SensorConfig, load_config, parse_config
from cuas.errors import ScenarioError
from cuas.tomlfile import read_toml, validation_error
from simulators.events import ClockSkew, ClutterBurst, Event, SensorOutage
from simulators.passive import PROTOCOLS, ConfusionMatrix, GilbertLink, Latency, RangePd
from simulators.radar import ConstantPd, PdModel, RadarEquationPd
from simulators.scenario_library import Scenario
from simulators.sensor_model import SensorModel
from simulators.targets.behaviours import (
    DRONE_RCS_DBSM,
    Orbit,
    Racetrack,
    Straight,
    Target,
    Waypoints,
    Weave,
    from_bearing,
)
from simulators.targets.birds import BirdParams, bird_flock
from simulators.targets.target_set import TargetSet

__all__ = [
    "ScenarioError",
    "ScenarioFile",
    "build",
    "library",
    "load_scenario",
    "parse_scenario",
    "resolve",
    "scenario_camp",
]

SCENARIO_STREAM = 4  # random stream of a seed for what a scenario file leaves random

Positive = Annotated[float, Meta(gt=0.0, le=1.0e7)]
NonNegative = Annotated[float, Meta(ge=0.0, le=1.0e7)]
Seconds = Annotated[float, Meta(ge=0.0, le=1.0e6)]
Bearing = Annotated[float, Meta(ge=0.0, le=360.0)]
Height = Annotated[float, Meta(ge=-1000.0, le=100_000.0)]
Prob = Annotated[float, Meta(ge=0.0, le=1.0)]
Ident = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
EN = tuple[float, float]
ENU = tuple[float, float, float]
Side = Literal["hostile", "friendly", "neutral"]

LIBRARY_DIR = Path(__file__).resolve().parent / "scenarios"  # the drill library, a file a drill


class _Table(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A scenario table: unknown keys are refused."""


# --- sensors ------------------------------------------------------------------------------


class SensorSpec(_Table, kw_only=True):
    """One camp sensor flown in the drill, with its real performance where it differs.

    Geometry and accuracy keys override the camp's values for the simulator only (the core
    keeps believing the camp file). `p_detection`: radar, Pd of a `ref_rcs_dbsm` target at
    `max_range_m` on the radar-equation curve (or everywhere with `pd_model = "constant"`);
    camera, Pd at `max_range_m` (rising to `p_near` close in); RF, per scan; Remote ID, the
    fraction of broadcasts received (losses in runs of `mean_gap_msgs`).
    """

    id: Ident
    p_detection: Annotated[float, Meta(gt=0.0, le=1.0)] | None = None
    pd_model: Literal["radar-equation", "constant"] = "radar-equation"
    ref_rcs_dbsm: Annotated[float, Meta(ge=-60.0, le=60.0)] = -10.0
    p_near: Annotated[float, Meta(gt=0.0, le=1.0)] | None = None
    mean_gap_msgs: Annotated[float, Meta(ge=1.0, le=1000.0)] = 3.0
    clutter_per_scan: Annotated[float, Meta(ge=0.0, le=10_000.0)] | None = None
    latency_s: Annotated[float, Meta(ge=0.0, le=60.0)] | None = None
    latency_jitter_s: Annotated[float, Meta(ge=0.0, le=60.0)] = 0.0
    confusion: dict[str, dict[str, Prob]] | None = None
    hears: list[Annotated[str, Meta(min_length=1)]] | None = None
    # Overrides of the camp's SensorConfig (what the sensor really does).
    update_period_s: Positive | None = None
    max_range_m: Positive | None = None
    min_range_m: NonNegative | None = None
    boresight_az_deg: Bearing | None = None
    fov_az_deg: Annotated[float, Meta(gt=0.0, le=360.0)] | None = None
    fov_el_min_deg: Annotated[float, Meta(ge=-90.0, le=90.0)] | None = None
    fov_el_max_deg: Annotated[float, Meta(ge=-90.0, le=90.0)] | None = None
    sigma_range_m: Positive | None = None
    sigma_az_deg: Annotated[float, Meta(gt=0.0, le=90.0)] | None = None
    sigma_el_deg: Annotated[float, Meta(gt=0.0, le=90.0)] | None = None
    sigma_range_rate_mps: Positive | None = None
    sigma_pos_m: Positive | None = None
    sigma_alt_m: Positive | None = None
    sigma_vel_mps: Positive | None = None


_OVERRIDES = (
    "update_period_s",
    "max_range_m",
    "min_range_m",
    "boresight_az_deg",
    "fov_az_deg",
    "fov_el_min_deg",
    "fov_el_max_deg",
    "sigma_range_m",
    "sigma_az_deg",
    "sigma_el_deg",
    "sigma_range_rate_mps",
    "sigma_pos_m",
    "sigma_alt_m",
    "sigma_vel_mps",
)
# Keys that only make sense for some kinds of sensor.
_KIND_KEYS = {
    "pd_model": ("radar",),
    "ref_rcs_dbsm": ("radar",),
    "p_near": ("camera",),
    "mean_gap_msgs": ("remote_id",),
    "clutter_per_scan": ("radar", "camera", "rf"),
    "confusion": ("camera",),
    "hears": ("rf",),
}
_KIND_KEY_DEFAULTS = {"pd_model": "radar-equation", "ref_rcs_dbsm": -10.0, "mean_gap_msgs": 3.0}


# --- targets ------------------------------------------------------------------------------


class _Target(_Table, tag_field="type", kw_only=True):
    """Keys common to every target: identity, when it flies, what it transmits, whose it is.

    `rcs_dbsm` defaults to a small drone's, drawn from the seed; `side` to `hostile`
    (`neutral` for birds). Leave `rf_emitter` out for an RF-silent (autonomous) drone; give
    `remote_id` for a cooperative one (a friendly patrol: `side = "friendly"` and a `uas_id`
    on the camp's friendly list).
    """

    id: Ident
    t_start_s: Seconds = 0.0
    lifetime_s: Positive | None = None
    rcs_dbsm: Annotated[float, Meta(ge=-60.0, le=60.0)] | None = None
    side: Side | None = None
    rf_emitter: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    protocol: str | None = None
    remote_id: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    operator: EN | None = None  # where its pilot stands (e, n)


class _Course(_Target, kw_only=True):
    """A course toward an aim point: from `distance_m` out on `bearing_deg` (seen from the
    aim point, default the camp centre) at `alt_m`, ending over the aim or `overfly_m` past."""

    bearing_deg: Bearing
    distance_m: Positive
    alt_m: Height = 100.0
    speed_mps: Positive
    aim: EN = (0.0, 0.0)
    overfly_m: NonNegative = 0.0


class StraightSpec(_Course, tag="straight", kw_only=True):
    """Straight ingress (or a pass, with `overfly_m`)."""


class PopupSpec(_Course, tag="popup", kw_only=True):
    """A pop-up: appears late (`t_start_s`), close in and low, and runs straight in."""

    distance_m: Positive = 1500.0
    alt_m: Height = 25.0


class WeaveSpec(_Course, tag="weave", kw_only=True):
    """A weaving ingress: sinusoidal lateral offset `amplitude_m` with `period_s`."""

    amplitude_m: Positive
    period_s: Positive
    phase_deg: float = 0.0


class WaypointsSpec(_Target, tag="waypoints", kw_only=True):
    """Constant speed through ENU `points` [[e, n, u], ...]; `loop` for a patrol round."""

    points: Annotated[list[ENU], Meta(min_length=2)]
    speed_mps: Positive
    loop: bool = False


class _Centred(_Target, kw_only=True):
    """A pattern about a centre: `center` [e, n], or `center_bearing_deg` and
    `center_distance_m` from the camp centre (default: the camp centre)."""

    center: EN | None = None
    center_bearing_deg: Bearing | None = None
    center_distance_m: NonNegative | None = None

    def centre(self) -> EN:
        if self.center is not None:
            return self.center
        p = from_bearing(self.center_bearing_deg or 0.0, self.center_distance_m or 0.0)
        return (float(p[0]), float(p[1]))


class OrbitSpec(_Centred, tag="orbit", kw_only=True):
    """Orbit / loiter on a circle of `radius_m` at `alt_m`."""

    radius_m: Positive
    alt_m: Height = 150.0
    speed_mps: Positive
    start_bearing_deg: Bearing = 0.0
    clockwise: bool = True


class RacetrackSpec(_Centred, tag="racetrack", kw_only=True):
    """A racetrack patrol: two `straight_m` legs along `axis_deg`, turns of `radius_m`."""

    straight_m: Positive
    radius_m: Positive
    axis_deg: Bearing = 0.0
    alt_m: Height = 120.0
    speed_mps: Positive
    clockwise: bool = True


class SwarmSpec(_Course, tag="swarm", kw_only=True):
    """`n` drones flying in together on parallel courses: in rows `spacing_m` apart
    (`formation = "rows"`), or at random over a disc of radius `spread_m` (`"spread"`).
    Members are `<id>-01`, `<id>-02`, ...; `rf_emitter`, when given, is suffixed the same way."""

    n: Annotated[int, Meta(ge=1, le=1000)]
    formation: Literal["rows", "spread"] = "rows"
    spacing_m: Positive = 60.0
    spread_m: Positive = 400.0
    wander_m: NonNegative = 10.0  # each drone weaves up to this much about its slot


class BirdsSpec(_Centred, tag="birds", kw_only=True):
    """A flock of `n` birds loitering about the centre at about `alt_m` (slow, erratic,
    small: 5-15 m/s, RCS -25..-20 dBsm), within `roam_radius_m` of it."""

    n: Annotated[int, Meta(ge=1, le=500)]
    alt_m: Height = 50.0
    roam_radius_m: Positive = 250.0


TargetSpec = (
    StraightSpec
    | PopupSpec
    | WeaveSpec
    | WaypointsSpec
    | OrbitSpec
    | RacetrackSpec
    | SwarmSpec
    | BirdsSpec
)


# --- events -------------------------------------------------------------------------------


class _Event(_Table, tag_field="type", kw_only=True):
    sensor: Ident
    t_s: Seconds = 0.0


class SensorFailSpec(_Event, tag="sensor_fail", kw_only=True):
    """The sensor goes silent (no reports, no heartbeats) at `t_s`, back at `until_s`."""

    until_s: Seconds | None = None


class ClockSkewSpec(_Event, tag="clock_skew", kw_only=True):
    """From `t_s` on, the sensor stamps its messages `skew_s` seconds off."""

    skew_s: Annotated[float, Meta(ge=-3600.0, le=3600.0)]


class ClutterBurstSpec(_Event, tag="clutter_burst", kw_only=True):
    """`per_scan` extra false detections per scan for `duration_s` in a sector."""

    duration_s: Positive
    per_scan: Annotated[float, Meta(gt=0.0, le=10_000.0)]
    az_min_deg: Bearing = 0.0
    az_max_deg: Bearing = 360.0
    range_min_m: NonNegative | None = None
    range_max_m: Positive | None = None


EventSpec = SensorFailSpec | ClockSkewSpec | ClutterBurstSpec


# --- the file -----------------------------------------------------------------------------


class ScenarioFile(_Table, kw_only=True):
    """A drill scenario file (see the module docstring and the README)."""

    description: Annotated[str, Meta(min_length=1)]
    duration_s: Annotated[float, Meta(gt=0.0, le=86_400.0)]
    camp: str | dict[str, Any]
    name: Ident | None = None
    seed: Annotated[int, Meta(ge=0)] = 0
    clutter_per_scan: Annotated[float, Meta(ge=0.0, le=10_000.0)] = 3.0
    sensors: list[SensorSpec] = []
    targets: Annotated[list[TargetSpec], Meta(min_length=1)]
    events: list[EventSpec] = []


def _from_validation(file: str, exc: msgspec.ValidationError) -> ScenarioError:
    error = validation_error(file, exc, ScenarioError)
    if error.reason.startswith("Invalid value") and error.key.endswith(".type"):
        return ScenarioError(
            file,
            error.key,
            f"{error.reason}; targets are {', '.join(_tags(TargetSpec))}; "
            f"events are {', '.join(_tags(EventSpec))}",
        )
    return error


def _tags(union: Any) -> list[str]:
    return [t.__struct_config__.tag for t in union.__args__]


def parse_scenario(data: dict[str, Any], file: str = "<scenario>") -> ScenarioFile:
    """Validate an already-parsed TOML document (structure, types, ranges)."""
    try:
        return msgspec.convert(data, ScenarioFile)
    except msgspec.ValidationError as exc:
        raise _from_validation(file, exc) from None


def read_scenario_file(path: str | Path) -> ScenarioFile:
    """Read and validate the structure of a scenario file, or raise `ScenarioError`."""
    return parse_scenario(read_toml(path, ScenarioError), str(path))


# --- from the file to a Scenario ----------------------------------------------------------


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario file made flyable: the scenario and the camp config it names."""

    scenario: Scenario
    camp: CampConfig
    path: Path | None


def _camp(spec: ScenarioFile, file: str, base: Path | None) -> CampConfig:
    if isinstance(spec.camp, dict):
        try:
            return parse_config(spec.camp, f"{file} [camp]")
        except ConfigError as exc:
            raise ScenarioError(file, f"camp.{exc.key}", exc.reason) from None
    camp_path = Path(spec.camp)
    if not camp_path.is_absolute() and base is not None:
        camp_path = base / camp_path
    if not camp_path.is_file():
        raise ScenarioError(file, "camp", f"no camp configuration at {camp_path}")
    try:
        return load_config(camp_path)
    except ConfigError as exc:
        raise ScenarioError(file, "camp", f"bad camp configuration: {exc}") from None


def _flown_sensors(
    spec: ScenarioFile, camp: CampConfig, file: str
) -> tuple[list[SensorConfig], dict[str, SensorModel]]:
    """The sensors the drill flies (default: every camp sensor) and their models."""
    if not spec.sensors:
        return list(camp.sensors), {}
    flown: list[SensorConfig] = []
    models: dict[str, SensorModel] = {}
    known = ", ".join(s.id for s in camp.sensors)
    for i, s in enumerate(spec.sensors):
        key = f"sensors[{i}]"
        base = camp.sensor(s.id)
        if base is None:
            raise ScenarioError(file, f"{key}.id", f"no sensor {s.id!r} in camp (known: {known})")
        if any(x.id == s.id for x in flown):
            raise ScenarioError(file, f"{key}.id", f"sensor {s.id!r} listed twice")
        for field_name, kinds in _KIND_KEYS.items():
            value = getattr(s, field_name)
            if value != _KIND_KEY_DEFAULTS.get(field_name) and base.kind not in kinds:
                raise ScenarioError(
                    file, f"{key}.{field_name}", f"not a setting of a {base.kind} sensor"
                )
        overrides = {f: getattr(s, f) for f in _OVERRIDES if getattr(s, f) is not None}
        sensor = msgspec.structs.replace(base, **overrides) if overrides else base
        if sensor.min_range_m >= sensor.max_range_m:
            raise ScenarioError(file, f"{key}.min_range_m", "must be below max_range_m")
        if sensor.fov_el_min_deg >= sensor.fov_el_max_deg:
            raise ScenarioError(file, f"{key}.fov_el_min_deg", "must be below fov_el_max_deg")
        flown.append(sensor)
        models[s.id] = _model(s, sensor, file, key)
    if not any(x.kind == "radar" for x in flown):
        raise ScenarioError(file, "sensors", "a drill flies at least one radar (its truth clock)")
    return flown, models


def _model(s: SensorSpec, sensor: SensorConfig, file: str, key: str) -> SensorModel:
    pd: PdModel | RangePd | float | None = None
    link = None
    p = s.p_detection
    if sensor.kind == "radar":
        if s.pd_model == "constant":
            pd = ConstantPd(p if p is not None else sensor.p_detection)
        else:
            ref_pd = min(p if p is not None else sensor.p_detection, 0.999999)
            pd = RadarEquationPd(sensor.max_range_m, s.ref_rcs_dbsm, ref_pd)
    elif sensor.kind == "camera":
        if p is not None or s.p_near is not None:
            far = p if p is not None else sensor.p_detection
            pd = RangePd(max(s.p_near or 0.98, far), far, sensor.max_range_m)
    elif sensor.kind == "rf":
        pd = p
    elif p is not None or s.mean_gap_msgs != 3.0:
        try:
            link = GilbertLink(p if p is not None else sensor.p_detection, s.mean_gap_msgs)
        except ValueError as exc:
            raise ScenarioError(file, f"{key}.p_detection", str(exc)) from None
    confusion = None
    if s.confusion is not None:
        try:
            confusion = ConfusionMatrix(s.confusion)
        except ValueError as exc:
            raise ScenarioError(file, f"{key}.confusion", str(exc)) from None
    latency = None
    if s.latency_s is not None or s.latency_jitter_s:
        base = s.latency_s if s.latency_s is not None else 0.0
        latency = Latency(base, s.latency_jitter_s)
    return SensorModel(
        pd=pd,
        clutter_per_scan=s.clutter_per_scan,
        latency=latency,
        confusion=confusion,
        hears=None if s.hears is None else tuple(s.hears),
        link=link,
    )


def _common(t: _Target, rcs: float) -> dict[str, Any]:
    protocol = t.protocol
    if t.rf_emitter is not None and protocol is None:
        protocol = "elrs"
    return {
        "rcs_dbsm": rcs if t.rcs_dbsm is None else t.rcs_dbsm,
        "t_start": t.t_start_s,
        "lifetime_s": t.lifetime_s,
        "rf_emitter": t.rf_emitter,
        "protocol": protocol,
        "remote_id": t.remote_id,
        "operator_en": t.operator,
        "side": t.side,
    }


def _course(t: _Course) -> tuple[ENU, ENU]:
    start = from_bearing(t.bearing_deg, t.distance_m, t.alt_m, t.aim)
    end = from_bearing(t.bearing_deg + 180.0, t.overfly_m, t.alt_m, t.aim)
    return _t3(start), _t3(end)


def _t3(p: Any) -> ENU:
    return (float(p[0]), float(p[1]), float(p[2]))


def _targets(t: TargetSpec, rng: np.random.Generator, duration_s: float) -> list[Target]:
    """The behaviours of one target entry (several for swarms and flocks)."""
    rcs = float(rng.uniform(*DRONE_RCS_DBSM))
    common = _common(t, rcs)
    if isinstance(t, StraightSpec | PopupSpec):
        start, end = _course(t)
        return [Straight(target_id=t.id, start=start, end=end, speed_mps=t.speed_mps, **common)]
    if isinstance(t, WeaveSpec):
        start, end = _course(t)
        return [
            Weave(
                target_id=t.id,
                start=start,
                end=end,
                speed_mps=t.speed_mps,
                amplitude_m=t.amplitude_m,
                period_s=t.period_s,
                phase_deg=t.phase_deg,
                **common,
            )
        ]
    if isinstance(t, WaypointsSpec):
        return [
            Waypoints(
                target_id=t.id,
                points=tuple(t.points),
                speed_mps=t.speed_mps,
                loop=t.loop,
                **common,
            )
        ]
    if isinstance(t, OrbitSpec):
        return [
            Orbit(
                target_id=t.id,
                center=t.centre(),
                radius_m=t.radius_m,
                alt_m=t.alt_m,
                speed_mps=t.speed_mps,
                start_bearing_deg=t.start_bearing_deg,
                clockwise=t.clockwise,
                **common,
            )
        ]
    if isinstance(t, RacetrackSpec):
        return [
            Racetrack(
                target_id=t.id,
                center=t.centre(),
                straight_m=t.straight_m,
                radius_m=t.radius_m,
                axis_deg=t.axis_deg,
                alt_m=t.alt_m,
                speed_mps=t.speed_mps,
                clockwise=t.clockwise,
                **common,
            )
        ]
    if isinstance(t, SwarmSpec):
        return _swarm(t, rng, common)
    assert isinstance(t, BirdsSpec)
    flock = bird_flock(
        rng,
        t.n,
        t.centre(),
        t.alt_m,
        duration_s - t.t_start_s + 1.0,
        id_prefix=f"{t.id}-",
        t_start=t.t_start_s,
        params=BirdParams(roam_radius_m=t.roam_radius_m),
    )
    side = t.side or "neutral"
    return [replace(b, side=side, lifetime_s=t.lifetime_s) for b in flock]


def _swarm(t: SwarmSpec, rng: np.random.Generator, common: dict[str, Any]) -> list[Target]:
    """Members fly parallel courses offset from the lead's: in rows of up to ceil(sqrt(n))
    abreast, `spacing_m` apart (each row staggered back by `spacing_m`), or at random over a
    disc of radius `spread_m`; each weaves gently (up to `wander_m`) about its slot."""
    start, end = (np.asarray(p) for p in _course(t))
    u = (end - start) / np.linalg.norm(end - start)
    left = np.array([-u[1], u[0], 0.0]) / max(np.hypot(u[0], u[1]), 1e-9)
    per_row = max(1, math.ceil(math.sqrt(t.n)))
    members: list[Target] = []
    for k in range(t.n):
        if t.formation == "rows":
            row, col = divmod(k, per_row)
            abreast = (col - (per_row - 1) / 2.0) * t.spacing_m
            offset = abreast * left - row * t.spacing_m * u
        else:
            r = t.spread_m * math.sqrt(rng.uniform())
            a = rng.uniform(0.0, 2.0 * math.pi)
            offset = r * (math.cos(a) * left + math.sin(a) * u)
        offset = offset + np.array([0.0, 0.0, rng.uniform(-15.0, 15.0)])
        member = {**common, "rcs_dbsm": float(rng.uniform(*DRONE_RCS_DBSM))}
        if t.rcs_dbsm is not None:
            member["rcs_dbsm"] = t.rcs_dbsm
        if t.rf_emitter is not None:
            member["rf_emitter"] = f"{t.rf_emitter}-{k + 1:02d}"
        ident = f"{t.id}-{k + 1:02d}"
        if t.wander_m > 0.0:
            members.append(
                Weave(
                    target_id=ident,
                    start=_t3(start + offset),
                    end=_t3(end + offset),
                    speed_mps=t.speed_mps,
                    amplitude_m=float(rng.uniform(0.3, 1.0)) * t.wander_m,
                    period_s=float(rng.uniform(20.0, 40.0)),
                    phase_deg=float(rng.uniform(0.0, 360.0)),
                    **member,
                )
            )
        else:
            members.append(
                Straight(
                    target_id=ident,
                    start=_t3(start + offset),
                    end=_t3(end + offset),
                    speed_mps=t.speed_mps,
                    **member,
                )
            )
    return members


def _events(spec: ScenarioFile, flown: list[SensorConfig], file: str) -> tuple[Event, ...]:
    ids = {s.id: s for s in flown}
    out: list[Event] = []
    for i, e in enumerate(spec.events):
        key = f"events[{i}]"
        sensor = ids.get(e.sensor)
        if sensor is None:
            raise ScenarioError(
                file, f"{key}.sensor", f"{e.sensor!r} is not flown (flown: {', '.join(ids)})"
            )
        if isinstance(e, SensorFailSpec):
            if e.until_s is not None and e.until_s <= e.t_s:
                raise ScenarioError(file, f"{key}.until_s", "must be after t_s")
            out.append(SensorOutage(e.sensor, e.t_s, math.inf if e.until_s is None else e.until_s))
        elif isinstance(e, ClockSkewSpec):
            out.append(ClockSkew(e.sensor, e.skew_s, e.t_s))
        else:
            if sensor.kind == "remote_id":
                raise ScenarioError(file, f"{key}.sensor", "Remote ID receivers have no clutter")
            if (
                e.range_min_m is not None
                and e.range_max_m is not None
                and e.range_min_m >= e.range_max_m
            ):
                raise ScenarioError(file, f"{key}.range_min_m", "must be below range_max_m")
            out.append(
                ClutterBurst(
                    e.sensor,
                    e.t_s,
                    e.duration_s,
                    e.per_scan,
                    e.az_min_deg,
                    e.az_max_deg,
                    e.range_min_m,
                    e.range_max_m,
                )
            )
    return tuple(out)


def build(
    spec: ScenarioFile,
    camp: CampConfig,
    file: str = "<scenario>",
    name: str | None = None,
    seed: int | None = None,
) -> Scenario:
    """The `Scenario` a validated file describes, flown at `camp`. `seed` (default: the
    file's) draws what the file leaves random (RCS, swarm slots, birds)."""
    seed = spec.seed if seed is None else seed
    flown, models = _flown_sensors(spec, camp, file)
    rng = np.random.default_rng([SCENARIO_STREAM, seed])
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for i, t in enumerate(spec.targets):
        if t.protocol is not None and t.protocol not in PROTOCOLS and t.protocol != "unknown":
            raise ScenarioError(
                file,
                f"targets[{i}].protocol",
                f"unknown protocol {t.protocol!r} (known: {', '.join(PROTOCOLS)}, unknown)",
            )
        try:
            built = _targets(t, rng, spec.duration_s)
        except ValueError as exc:
            raise ScenarioError(file, f"targets[{i}]", str(exc)) from None
        for b in built:
            if b.target_id in seen:
                raise ScenarioError(
                    file,
                    f"targets[{i}].id",
                    f"target id {b.target_id!r} already used by targets[{seen[b.target_id]}]",
                )
            seen[b.target_id] = i
        targets.extend(built)
    radar = next(s for s in flown if s.kind == "radar")
    model = models.get(radar.id, SensorModel())
    pd = model.pd if model.pd is not None else RadarEquationPd.for_sensor(radar)
    clutter = model.clutter_per_scan
    return Scenario(
        name=name or spec.name or "scenario",
        description=spec.description,
        duration_s=spec.duration_s,
        targets=TargetSet(targets),
        radar=radar,
        pd=pd,  # type: ignore[arg-type]
        clutter_per_scan=spec.clutter_per_scan if clutter is None else clutter,
        sensors=tuple(s for s in flown if s.id != radar.id),
        models=models,
        events=_events(spec, flown, file),
        seed=seed,
    )


def load_scenario(
    path: str | Path, camp: CampConfig | None = None, seed: int | None = None
) -> LoadedScenario:
    """Load a scenario file and build it at its own camp (or at `camp`, to fly the same drill
    at another camp whose sensor ids match)."""
    path = Path(path)
    spec = read_scenario_file(path)
    file = str(path)
    config = camp if camp is not None else _camp(spec, file, path.parent)
    scenario = build(spec, config, file, name=spec.name or path.stem, seed=seed)
    return LoadedScenario(scenario, config, path)


def library() -> dict[str, Path]:
    """The drill library: name -> scenario file, in name order."""
    return {p.stem: p for p in sorted(LIBRARY_DIR.glob("*.toml"))}


def resolve(name_or_path: str) -> Path:
    """A library drill's file by name, or the path itself (ScenarioError if neither exists)."""
    drills = library()
    if name_or_path in drills:
        return drills[name_or_path]
    path = Path(name_or_path)
    if path.is_file():
        return path
    raise ScenarioError(
        name_or_path,
        "(file)",
        f"no such scenario file or library drill (library: {', '.join(drills)})",
    )


def scenario_camp(name_or_path: str) -> CampConfig:
    """The camp configuration a scenario file names."""
    path = resolve(name_or_path)
    return _camp(read_scenario_file(path), str(path), path.parent)
