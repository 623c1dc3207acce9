"""The `cuas` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cuas.config import ConfigError, load_config
from cuas.journal import JournalError
from cuas.logs import configure_logging
from cuas.recording import RecordingError


def _replay(args: argparse.Namespace) -> int:
    from cuas.replay import replay

    config = load_config(args.config)
    if not Path(args.recording).is_file():
        print(f"cuas replay: {args.recording}: no such recording", file=sys.stderr)
        return 2
    progress = False if args.quiet else None
    summary = replay(args.recording, config, args.out, progress=progress, journal=args.journal)
    if not args.quiet:
        print(summary.render())
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.to_dict(), indent=2) + "\n")
    return 0


def _run(args: argparse.Namespace) -> int:
    from cuas.service import run_service

    run_service(load_config(args.config), record=args.record, journal=args.journal)
    return 0


def _record(args: argparse.Namespace) -> int:
    from cuas.capture import capture

    config = load_config(args.config)
    count = capture(
        config.zmq.ingest if args.ingest is None else args.ingest,
        args.out,
        duration_s=args.duration,
        max_messages=args.count,
    )
    print(f"recorded {count} messages to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cuas", description="Counter-drone sensor fusion for camp protection."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-json", action="store_true", help="log one JSON object per line")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "replay",
        help="run the fusion pipeline over a recording, as fast as possible",
        description="Run the full fusion pipeline over RECORDING (ordered by measurement "
        "time, no network) and write every track cycle, alert transition and sensor health "
        "message to OUT. Identical inputs give byte-identical outputs.",
    )
    p.add_argument("recording", help="recording file (MessagePack [t_received, topic, payload])")
    p.add_argument("--config", required=True, help="camp configuration (TOML)")
    p.add_argument("--out", required=True, help="output recording of tracks, alerts, health")
    p.add_argument("--summary-json", help="also write the summary as JSON to this file")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--journal", help="also append the alert transitions to this SQLite journal")
    p.set_defaults(func=_replay)

    p = sub.add_parser(
        "run",
        help="run the live fusion service",
        description="Bind the ZeroMQ ingest socket, fuse sensor reports as they arrive, and "
        "publish tracks, alerts and sensor health on MQTT and the ZeroMQ track stream. "
        "Stops cleanly on SIGINT/SIGTERM, announcing `offline`.",
    )
    p.add_argument("--config", required=True, help="camp configuration (TOML)")
    p.add_argument("--record", help="also record every received message to this file")
    p.add_argument(
        "--journal", help="alert journal (SQLite) instead of the config's alerts.journal"
    )
    p.set_defaults(func=_run)

    p = sub.add_parser(
        "record",
        help="capture live sensor traffic into a recording",
        description="Bind the camp's ingest endpoint (the core must not be running on it; "
        "use `cuas run --record` to record alongside the core) and write every message to "
        "OUT in the recording format that `cuas replay` reads.",
    )
    p.add_argument("--config", required=True, help="camp configuration (TOML)")
    p.add_argument("--out", required=True, help="recording file to write")
    p.add_argument("--ingest", help="endpoint to bind instead of the config's zmq.ingest")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--count", type=int, help="stop after this many messages")
    p.set_defaults(func=_record)

    from cuas.demo import add_command as add_demo
    from cuas.drill import add_command as add_drill
    from cuas.review import add_command as add_alerts
    from cuas.tail import add_command as add_tail
    from sensors.radar_jsonl import add_command as add_radar_jsonl
    from simulators.run import add_command as add_simulate

    add_demo(sub)
    add_drill(sub)
    add_alerts(sub)
    add_tail(sub)
    add_simulate(sub)
    add_radar_jsonl(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose, json_lines=args.log_json)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"cuas: bad configuration: {exc}", file=sys.stderr)
        return 2
    except JournalError as exc:
        print(f"cuas: {exc}", file=sys.stderr)
        return 2
    except RecordingError as exc:
        print(f"cuas: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
