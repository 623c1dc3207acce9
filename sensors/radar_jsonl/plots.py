"""A radar's JSON line → a validated `Plot` in the wire's frame, and plots → wire detections.

The accepted field names, units and bounds are those of the package docstring
(`sensors.radar_jsonl`); a vendor's own names are configured per field with a `FieldMap`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cuas.errors import RejectError
from cuas.wire import RadarDetection

DEFAULT_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "time": ("time", "t", "timestamp"),
        "range": ("range", "range_m", "rng"),
        "azimuth": ("azimuth", "az", "bearing"),
        "elevation": ("elevation", "el", "elev"),
        "radial_velocity": ("radial_velocity", "vr", "doppler", "range_rate"),
        "rcs": ("rcs", "rcs_dbsm"),
        "snr": ("snr", "snr_db"),
        "scan": ("scan", "scan_id", "frame"),
    }
)

# Inclusive bounds, the wire schema's where the field maps onto one (so a plot that passes
# here is never rejected by the core). The lowest range is the smallest positive float.
_BOUNDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "time": (0.0, 1.0e11),
        "range": (math.nextafter(0.0, 1.0), 1.0e6),
        "azimuth": (-360.0, 360.0),
        "elevation": (-90.0, 90.0),
        "radial_velocity": (-3000.0, 3000.0),
        "rcs": (-300.0, 300.0),
        "snr": (-300.0, 300.0),
    }
)
MAX_SCAN_ID_CHARS = 128
EXCERPT_CHARS = 80


@dataclass(frozen=True)
class FieldMap:
    """For each plot field, the names a vendor may use for it, in order of preference."""

    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: DEFAULT_ALIASES)

    def with_overrides(self, overrides: Mapping[str, Sequence[str]]) -> FieldMap:
        """A copy where each overridden field accepts exactly the given names."""
        unknown = set(overrides) - set(DEFAULT_ALIASES)
        if unknown:
            raise ValueError(
                f"unknown plot field(s) {sorted(unknown)}; known: {', '.join(DEFAULT_ALIASES)}"
            )
        merged = dict(self.aliases)
        for name, aliases in overrides.items():
            if not aliases or not all(aliases):
                raise ValueError(f"field {name!r} needs at least one non-empty name")
            merged[name] = tuple(aliases)
        return FieldMap(MappingProxyType(merged))

    def lookup(self, obj: Mapping[str, Any], name: str) -> tuple[str, Any] | None:
        """The first (vendor name, value) present and not null for field `name`."""
        for alias in self.aliases[name]:
            value = obj.get(alias)
            if value is not None:
                return alias, value
        return None


def parse_field_override(text: str) -> tuple[str, tuple[str, ...]]:
    """`"azimuth=brg,bearing"` → `("azimuth", ("brg", "bearing"))` (the `--field` syntax)."""
    name, sep, names = text.partition("=")
    aliases = tuple(a.strip() for a in names.split(","))
    if not sep or not name.strip() or not all(aliases):
        raise ValueError(f"expected FIELD=NAME[,NAME...], not {text!r}")
    if name.strip() not in DEFAULT_ALIASES:
        raise ValueError(
            f"unknown plot field {name.strip()!r}; known: {', '.join(DEFAULT_ALIASES)}"
        )
    return name.strip(), aliases


def true_azimuth(boresight_az_deg: float, relative_az_deg: float) -> float:
    """A boresight-relative azimuth (clockwise) as a true-north azimuth in [0, 360)."""
    az = (boresight_az_deg + relative_az_deg) % 360.0
    return 0.0 if az >= 360.0 else az  # -1e-17 % 360 rounds to 360.0


class PlotError(RejectError):
    """A line that is not a usable plot; `reason` is a short key for the reject counter."""


@dataclass(frozen=True, slots=True)
class Plot:
    """One validated plot, angles already in the wire's frame (true north)."""

    t: float
    range_m: float
    az_deg: float
    el_deg: float
    range_rate_mps: float | None = None
    rcs_dbsm: float | None = None
    snr_db: float | None = None
    scan: int | str | None = None


class PlotParser:
    """Parses and validates one JSON line into a `Plot` for a radar with a given boresight."""

    def __init__(
        self,
        boresight_az_deg: float = 0.0,
        fields: FieldMap | None = None,
        *,
        invert_radial_velocity: bool = False,
    ) -> None:
        self.boresight_az_deg = boresight_az_deg
        self.fields = fields or FieldMap()
        self.velocity_sign = -1.0 if invert_radial_velocity else 1.0

    def parse(self, line: bytes | str) -> Plot:
        """The plot on `line`, or `PlotError` saying why not."""
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, nesting
            raise PlotError("not_json", f"{exc} in {_excerpt(line)}") from None
        if not isinstance(obj, dict):
            raise PlotError("not_object", f"a JSON {type(obj).__name__}, not an object")
        t = self._required(obj, "time")
        range_m = self._required(obj, "range")
        azimuth = self._required(obj, "azimuth")
        elevation = self._required(obj, "elevation")
        radial_velocity = self._optional(obj, "radial_velocity")
        return Plot(
            t=t,
            range_m=range_m,
            az_deg=true_azimuth(self.boresight_az_deg, azimuth),
            el_deg=elevation,
            range_rate_mps=None
            if radial_velocity is None
            else self.velocity_sign * radial_velocity,
            rcs_dbsm=self._optional(obj, "rcs"),
            snr_db=self._optional(obj, "snr"),
            scan=self._scan(obj),
        )

    def _required(self, obj: Mapping[str, Any], name: str) -> float:
        found = self.fields.lookup(obj, name)
        if found is None:
            raise PlotError("missing_field", f"no {name} ({'/'.join(self.fields.aliases[name])})")
        return self._number(name, *found)

    def _optional(self, obj: Mapping[str, Any], name: str) -> float | None:
        found = self.fields.lookup(obj, name)
        return None if found is None else self._number(name, *found)

    @staticmethod
    def _number(name: str, alias: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PlotError("wrong_type", f"{alias} is a {type(value).__name__}, not a number")
        try:
            number = float(value)
        except OverflowError:
            raise PlotError("out_of_range", f"{alias} = {value} is out of range") from None
        if not math.isfinite(number):
            raise PlotError("not_finite", f"{alias} = {number}")
        lo, hi = _BOUNDS[name]
        if not lo <= number <= hi:
            hint = " (milliseconds? expected seconds)" if name == "time" and number > hi else ""
            raise PlotError("out_of_range", f"{alias} = {number:g} not in [{lo:g}, {hi:g}]{hint}")
        return number

    def _scan(self, obj: Mapping[str, Any]) -> int | str | None:
        found = self.fields.lookup(obj, "scan")
        if found is None:
            return None
        alias, value = found
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise PlotError("wrong_type", f"{alias} is a {type(value).__name__}, not an integer")
        if isinstance(value, str) and not 0 < len(value) <= MAX_SCAN_ID_CHARS:
            raise PlotError("out_of_range", f"{alias} must have 1..{MAX_SCAN_ID_CHARS} characters")
        return value


def _excerpt(line: bytes | str) -> str:
    text = repr(line[:EXCERPT_CHARS])
    return text + ("..." if len(line) > EXCERPT_CHARS else "")


def detections_of(plots: Sequence[Plot], t: float) -> list[RadarDetection]:
    """Wire detections of a scan reported at `t`; a plot measured at another time keeps it."""
    return [
        RadarDetection(
            range_m=p.range_m,
            az_deg=p.az_deg,
            el_deg=p.el_deg,
            range_rate_mps=p.range_rate_mps,
            rcs_dbsm=p.rcs_dbsm,
            t=None if p.t == t else p.t,
        )
        for p in plots
    ]
