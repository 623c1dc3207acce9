"""`cuas alerts`: the alert journal listed for after-action review.

Every transition the core journaled, oldest first, filtered by time, level, state or alert;
one line each (or one JSON object per line with `--json`). Reading is safe while the core
runs: the journal is SQLite in WAL mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TextIO

from cuas.config import load_config
from cuas.io.journal import Journal, Row
from cuas.wire import ALERT_LEVELS, ALERT_TRANSITIONS, to_builtins


def parse_time(text: str) -> float:
    """UNIX seconds, or an ISO 8601 date/time (UTC unless it names its offset)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def format_row(row: Row) -> str:
    a = row.alert
    when = datetime.fromtimestamp(row.t, UTC).strftime("%Y-%m-%d %H:%M:%S")
    track = "-" if a.track_id is None else str(a.track_id)
    eta = "-" if a.eta_s is None else f"{a.eta_s:.0f}s"
    flags = "" if row.published_at is not None else "  [not yet published]"
    ack = f" ack={a.acknowledged_by}" if a.acknowledged_by else ""
    return (
        f"{when}Z {a.state:<12} {a.level:<8} {a.alert_id}  track={track} "
        f"zone={a.zone or '-'} eta={eta}{ack}  {a.reason}{flags}"
    )


def list_alerts(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    path = args.journal
    if path is None:
        path = load_config(args.config).journal_path  # the camp's state dir, or alerts.journal
    with Journal(path, create=False) as journal:
        rows = journal.query(
            since=args.since,
            until=args.until,
            level=args.level,
            state=args.state,
            alert_id=args.alert,
        )
    for row in rows:
        if args.json:
            record = to_builtins(row.alert) | {
                "seq": row.seq,
                "subject": row.subject,
                "written_at": row.written_at,
                "published_at": row.published_at,
            }
            out.write(json.dumps(record) + "\n")
        else:
            out.write(format_row(row) + "\n")
    if not args.json:
        alerts = len({r.alert_id for r in rows})
        out.write(f"{len(rows)} transitions of {alerts} alerts in {path}\n")
    return 0


def add_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "alerts",
        help="list the alert journal for after-action review",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--journal", help="journal file (instead of the camp's)")
    where.add_argument(
        "--config", help="camp configuration: its journal (state_dir, or alerts.journal)"
    )
    p.add_argument("--since", type=parse_time, help="from this time (UNIX s or ISO 8601, UTC)")
    p.add_argument("--until", type=parse_time, help="up to this time")
    p.add_argument("--level", choices=ALERT_LEVELS)
    p.add_argument("--state", choices=ALERT_TRANSITIONS)
    p.add_argument("--alert", help="one alert id")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=list_alerts)
    return p
