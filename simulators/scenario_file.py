"""Drill scenario files (TOML): the schema of the camp, its sensors' real performance, targets
and events.

A scenario file is parsed with `tomllib` and converted by `msgspec` into the structs below,
which refuse unknown keys (`read_scenario_file`, `parse_scenario`); cross-field rules are
checked when the file is built into a scenario (`simulators.scenario_builder`). Every failure
is a `ScenarioError` naming the file, the key path (`targets[2].speed_mps`) and the reason.
Coordinates are camp ENU metres (east, north, up from the camp origin) or a true-north bearing
and horizontal distance from the camp centre; heights are above the camp origin. The README's
"Drills" section is the user's guide, with an annotated example.

    spec = read_scenario_file("simulators/scenarios/single-intruder.toml")
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from cuas.errors import ScenarioError
from cuas.tomlfile import read_toml, validation_error
from simulators.targets.behaviours import from_bearing

__all__ = [
    "KIND_KEYS",
    "KIND_KEY_DEFAULTS",
    "SENSOR_OVERRIDES",
    "ScenarioFile",
    "parse_scenario",
    "read_scenario_file",
]

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


SENSOR_OVERRIDES = (  # keys of the camp's SensorConfig a drill may override
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
KIND_KEYS = {
    "pd_model": ("radar",),
    "ref_rcs_dbsm": ("radar",),
    "p_near": ("camera",),
    "mean_gap_msgs": ("remote_id",),
    "clutter_per_scan": ("radar", "camera", "rf"),
    "confusion": ("camera",),
    "hears": ("rf",),
}
KIND_KEY_DEFAULTS = {"pd_model": "radar-equation", "ref_rcs_dbsm": -10.0, "mean_gap_msgs": 3.0}


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
