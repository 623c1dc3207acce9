"""The JSON-lines radar adapter (`adapter`), about to be split by job; same names meanwhile."""

from sensors.radar_jsonl.adapter import (
    COMMAND,
    FieldMap,
    LineBuffer,
    Plot,
    PlotError,
    PlotParser,
    RadarJsonlAdapter,
    RadarJsonlOptions,
    ScanGrouper,
    add_command,
    detections_of,
    main,
    parse_field_override,
    parse_hostport,
    true_azimuth,
)

__all__ = [
    "COMMAND",
    "FieldMap",
    "LineBuffer",
    "Plot",
    "PlotError",
    "PlotParser",
    "RadarJsonlAdapter",
    "RadarJsonlOptions",
    "ScanGrouper",
    "add_command",
    "detections_of",
    "main",
    "parse_field_override",
    "parse_hostport",
    "true_azimuth",
]
