"""The `channelkit` command line: one sub-command per module in ``channelkit.commands``.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Commands are imported only when used, so `channelkit validate` does not
pay for importing Prophet. A :class:`~channelkit.errors.ChannelkitError` becomes a plain message
on stderr and its exit code; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from channelkit import __version__
from channelkit.errors import ChannelkitError

# The order in which `channelkit --help` lists them.
COMMANDS = (
    "sample",
    "validate",
    "report",
    "forecast",
    "attribution",
    "elasticity",
    "promotions",
    "experiment",
    "customers",
)


def _available_commands() -> list[str]:
    return [name for name in COMMANDS if importlib.util.find_spec(f"channelkit.commands.{name}") is not None]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="channelkit",
        description="Research and forecasting workbench for multi-channel sellers.",
    )
    parser.add_argument("--version", action="version", version=f"channelkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _available_commands():
        module = importlib.import_module(f"channelkit.commands.{name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except ChannelkitError as exc:
        print(f"channelkit {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"channelkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
