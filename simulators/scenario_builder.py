"""From a drill scenario file to a flyable `Scenario`, and the drill library.

A validated `ScenarioFile` (`simulators.scenario_file`) is checked across fields and built
into a `simulators.scenario_library.Scenario`, from the same behaviours (`simulators.targets`)
and simulators as the Python library, so a drill file and a library entry fly identically.
Every failure is a `ScenarioError` naming the file, the key path and the reason. The library
is the files of `simulators/scenarios/`, by name.

    scenario = load_scenario("simulators/scenarios/single-intruder.toml")
    camp = scenario_camp("single-intruder")   # the camp config the scenario names
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from cuas.config import CampConfig, ConfigError, SensorConfig, load_config, parse_config
from cuas.errors import ScenarioError
from simulators.events import ClockSkew, ClutterBurst, Event, SensorOutage
from simulators.passive import PROTOCOLS, ConfusionMatrix, GilbertLink, Latency, RangePd
from simulators.radar import ConstantPd, PdModel, RadarEquationPd
from simulators.scenario_file import (
    ENU,
    KIND_KEY_DEFAULTS,
    KIND_KEYS,
    SENSOR_OVERRIDES,
    BirdsSpec,
    ClockSkewSpec,
    OrbitSpec,
    PopupSpec,
    RacetrackSpec,
    ScenarioFile,
    SensorFailSpec,
    SensorSpec,
    StraightSpec,
    SwarmSpec,
    TargetSpec,
    WaypointsSpec,
    WeaveSpec,
    read_scenario_file,
)
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
    "LIBRARY_DIR",
    "LoadedScenario",
    "build",
    "library",
    "load_scenario",
    "resolve",
    "scenario_camp",
]

SCENARIO_STREAM = 4  # random stream of a seed for what a scenario file leaves random

LIBRARY_DIR = Path(__file__).resolve().parent / "scenarios"  # the drill library, a file a drill


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
        for field_name, kinds in KIND_KEYS.items():
            value = getattr(s, field_name)
            if value != KIND_KEY_DEFAULTS.get(field_name) and base.kind not in kinds:
                raise ScenarioError(
                    file, f"{key}.{field_name}", f"not a setting of a {base.kind} sensor"
                )
        overrides = {f: getattr(s, f) for f in SENSOR_OVERRIDES if getattr(s, f) is not None}
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


def _common(t: TargetSpec, rcs: float) -> dict[str, Any]:
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


def _course(t: StraightSpec | PopupSpec | WeaveSpec | SwarmSpec) -> tuple[ENU, ENU]:
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
