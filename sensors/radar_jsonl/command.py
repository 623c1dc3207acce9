"""`cuas adapter-radar-jsonl` (and `python -m sensors.radar_jsonl`): the adapter's command line.

cuas adapter-radar-jsonl --config CAMP.toml --sensor radar-1 --tcp-connect 10.0.0.7:4001
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

import sensors.radar_jsonl
from cuas.config import ConfigError, load_config
from sensors.publisher import add_curve_argument, curve_options
from sensors.radar_jsonl.adapter import RadarJsonlOptions, run
from sensors.radar_jsonl.plots import DEFAULT_ALIASES, FieldMap, parse_field_override
from sensors.transport import Source, SourceMode, parse_hostport

COMMAND = "adapter-radar-jsonl"


def _hostport_arg(text: str) -> tuple[str, int]:
    try:
        return parse_hostport(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _field_arg(text: str) -> tuple[str, tuple[str, ...]]:
    try:
        return parse_field_override(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The adapter's options, shared by `python -m sensors.radar_jsonl` and `cuas`."""
    parser.add_argument("--config", required=True, help="camp configuration (TOML)")
    parser.add_argument("--sensor", required=True, help="id of this radar in the camp config")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--udp",
        metavar="HOST:PORT",
        type=_hostport_arg,
        help="receive plots as UDP datagrams on this address",
    )
    where.add_argument(
        "--tcp-listen",
        metavar="HOST:PORT",
        type=_hostport_arg,
        help="accept TCP connections from the radar on this address",
    )
    where.add_argument(
        "--tcp-connect",
        metavar="HOST:PORT",
        type=_hostport_arg,
        help="connect to the radar's TCP server (reconnects with backoff)",
    )
    parser.add_argument(
        "--ingest",
        metavar="ENDPOINT",
        help="the core's ZeroMQ ingest endpoint (default: zmq.ingest of the config)",
    )
    parser.add_argument(
        "--field",
        metavar="FIELD=NAME[,NAME]",
        type=_field_arg,
        action="append",
        default=[],
        help="the vendor's names for a plot field, e.g. azimuth=brg; "
        f"fields: {', '.join(DEFAULT_ALIASES)}",
    )
    parser.add_argument(
        "--invert-radial-velocity",
        action="store_true",
        help="the radar reports approaching targets with positive velocity",
    )
    parser.add_argument(
        "--min-snr", type=float, metavar="DB", help="leave out plots whose snr is below this"
    )
    parser.add_argument(
        "--scan-timeout",
        type=float,
        default=0.2,
        metavar="S",
        help="publish a scan after this long without plots (default 0.2)",
    )
    parser.add_argument(
        "--stale-after",
        type=float,
        default=10.0,
        metavar="S",
        help="heartbeat says degraded after this long without plots (default 10)",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=1.0,
        metavar="S",
        help="heartbeat period, at most 2 (default 1)",
    )
    add_curve_argument(parser)


def run_command(args: argparse.Namespace) -> int:
    """Run the adapter from parsed arguments; an exit status. Raises `ConfigError`."""
    config = load_config(args.config)
    sensor = config.sensor(args.sensor)
    prog = f"cuas {COMMAND}"
    if sensor is None:
        known = ", ".join(s.id for s in config.sensors if s.kind == "radar") or "none"
        print(
            f"{prog}: no sensor {args.sensor!r} in {args.config} (radars: {known})", file=sys.stderr
        )
        return 2
    if sensor.kind != "radar":
        print(f"{prog}: sensor {sensor.id!r} is a {sensor.kind}, not a radar", file=sys.stderr)
        return 2
    if not 0.0 < args.heartbeat <= 2.0 or args.scan_timeout <= 0 or args.stale_after <= 0:
        print(f"{prog}: --heartbeat must be in (0, 2]; timeouts must be positive", file=sys.stderr)
        return 2
    mode: SourceMode = "udp" if args.udp else "tcp-listen" if args.tcp_listen else "tcp-connect"
    host, port = args.udp or args.tcp_listen or args.tcp_connect
    options = RadarJsonlOptions(
        fields=FieldMap().with_overrides(dict(args.field)),
        invert_radial_velocity=args.invert_radial_velocity,
        min_snr_db=args.min_snr,
        scan_timeout_s=args.scan_timeout,
        stale_after_s=args.stale_after,
    )
    source = Source(mode, host, port)
    curve = curve_options(config, args.curve_key)  # before anything starts: a clear error
    try:
        asyncio.run(
            run(
                sensor,
                args.ingest or config.zmq.ingest,
                source,
                options,
                heartbeat_period_s=args.heartbeat,
                curve=curve,
            )
        )
    except OSError as exc:
        print(f"{prog}: cannot use {source}: {exc}", file=sys.stderr)
        return 1
    return 0


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `cuas adapter-radar-jsonl` on the `cuas` command line's subparsers."""
    parser = subparsers.add_parser(
        COMMAND,
        help="publish a radar's JSON-lines plot stream (UDP/TCP) to the core",
        description="Read a radar's plots, one JSON object per line, from UDP or TCP, and "
        "publish one report per scan to the core's ZeroMQ ingest endpoint. Azimuths are "
        "relative to the radar's boresight (boresight_az_deg in the camp configuration).",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sensors.radar_jsonl ...`: the same as `cuas adapter-radar-jsonl ...`."""
    parser = argparse.ArgumentParser(
        prog="python -m sensors.radar_jsonl",
        description=sensors.radar_jsonl.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return run_command(args)
    except ConfigError as exc:
        print(f"{parser.prog}: bad configuration: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
