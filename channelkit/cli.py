"""The `channelkit` command line: one sub-command per module in ``channelkit.commands``.

Each command module defines ``HELP`` (its description), ``add_arguments(parser)`` and
``run(args) -> int``. Only the command being run is imported, so `channelkit validate` does not
pay for importing Prophet, papermill or dask; the listing in `channelkit --help` comes from the
short summaries below. A :class:`~channelkit.errors.ChannelkitError` becomes a plain message
on stderr and its exit code; an ``OSError`` (a file the system refused) a message naming the file
and exit code 1; Ctrl-C exits 130 and SIGTERM (a scheduler stopping the job) 143, the shell's
128 + signal, each with one line and no traceback. Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from channelkit import __version__
from channelkit.errors import ChannelkitError

# The order in which `channelkit --help` lists them, with a short summary each.
COMMANDS = {
    "sample": "generate the sample retailer with its ground truth",
    "validate": "check a dataset folder against the data contract",
    "report": "run every notebook and write the HTML report",
    "notebooks": "copy the default report notebooks into a folder to customise",
    "forecast": "forecast units per SKU x channel, with intervals",
    "attribution": "attribute conversions to marketing channels",
    "elasticity": "price elasticity per SKU x channel",
    "promotions": "incremental effect and ROI of promotions and festivals",
    "mmm": "marketing mix model: ROAS per channel and budget allocation",
    "experiment": "evaluate a two-variant A/B test",
    "customers": "customer lifetime value and RFM segments",
}


def _available_commands() -> list[str]:
    return [name for name in COMMANDS if importlib.util.find_spec(f"channelkit.commands.{name}") is not None]


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The first argument that names a command (the one to import), if any."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The CLI parser; only the command named in ``argv`` gets its full arguments (and import)."""
    parser = argparse.ArgumentParser(
        prog="channelkit",
        description="Research and forecasting workbench for multi-channel sellers.",
    )
    parser.add_argument("--version", action="version", version=f"channelkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    chosen = _chosen_command(argv)
    for name in _available_commands():
        if name != chosen:
            sub.add_parser(name, help=COMMANDS[name])
            continue
        module = importlib.import_module(f"channelkit.commands.{name}")
        cmd = sub.add_parser(name, help=COMMANDS[name], description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. A KeyboardInterrupt, so every ``finally`` and interrupt handler (the report
    runner's: no `latest` switch, work folder kept as ``.failed``) runs as for Ctrl-C."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        with _sigterm_as_interrupt():
            return int(args._run(args) or 0)
    except ChannelkitError as exc:
        print(f"channelkit {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the system refused a file: say which, without a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"channelkit {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"channelkit {args.command}: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"channelkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
