"""The `cuas` command line: the core's own commands, and every command registered by others.

The core's commands (`run`, `replay`, `record`, `tail`, `alerts`, `secure`) live in `cuas/`.
Commands that fly simulated or real sensors (`demo`, `drill`, `simulate`, the adapters) live in
`simulators/` and `sensors/`, which `cuas/` never imports: they register themselves through
the `cuas.commands` entry-point group in `pyproject.toml`, each naming a function
`add_command(subparsers)` that adds its subparser and sets `func`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from cuas.errors import CuasError
from cuas.gateways import asterix, sapient, tak
from cuas.logs import configure_logging
from cuas.operator import alerts, tail
from cuas.operator.console import command as console
from cuas.service import record, replay, run, secure

COMMAND_GROUP = "cuas.commands"
BUILTIN: tuple[Callable[[Any], argparse.ArgumentParser], ...] = (
    replay.add_command,
    run.add_command,
    record.add_command,
    tail.add_command,
    alerts.add_command,
    tak.add_command,
    asterix.add_command,
    sapient.add_command,
    secure.add_command,
    console.add_command,
)

log = logging.getLogger(__name__)


def registered_commands() -> list[Callable[[Any], argparse.ArgumentParser]]:
    """`add_command` of every command in the entry-point group, by name; a broken one is
    skipped with a warning so that the other commands still work."""
    found = []
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        try:
            found.append(ep.load())
        except Exception as exc:  # an installed plug-in that cannot import
            log.warning("command %s (%s) not available: %s", ep.name, ep.value, exc)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cuas", description="Counter-drone sensor fusion for camp protection."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-json", action="store_true", help="log one JSON object per line")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_command in (*BUILTIN, *registered_commands()):
        add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose, json_lines=args.log_json)
    try:
        return int(args.func(args))
    except CuasError as exc:
        what = getattr(exc, "what", None)
        print(f"cuas: {what}: {exc}" if what else f"cuas: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
