"""The ``gzmq`` command (also ``python -m gzmq``).

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its
arguments and sets ``handler`` to a ``_run_<name>(args) -> int`` function;
:func:`build_parser` calls them in order.  To add a subcommand, write the
pair and list the ``_add_`` function in :data:`_SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["build_parser", "main"]

Subparsers = Any  # argparse._SubParsersAction, private in typeshed


# -- bench ---------------------------------------------------------------------


def _add_bench(subparsers: Subparsers) -> None:
    from gzmq.bench import CASE_NAMES, add_arguments

    parser = subparsers.add_parser(
        "bench",
        help="benchmark gzmq against pyzmq, zmq.green and zmq.asyncio",
        description=(
            "Run the benchmarks side by side (gzmq, raw blocking pyzmq, zmq.green, "
            "zmq.asyncio) and print a table of medians and ratios. "
            f"Cases: {', '.join(CASE_NAMES)} (default: all)."
        ),
    )
    add_arguments(parser)
    parser.set_defaults(handler=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from gzmq.bench import run_from_args

    return run_from_args(args)


# -- the parser ----------------------------------------------------------------

_SUBCOMMANDS: list[Callable[[Subparsers], None]] = [_add_bench]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gzmq`` command, with every subcommand."""
    from gzmq import __version__

    parser = argparse.ArgumentParser(
        prog="gzmq", description="ZeroMQ for gevent: command-line tools."
    )
    parser.add_argument("--version", action="version", version=f"gzmq {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gzmq`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except KeyboardInterrupt:
        print("gzmq: interrupted", file=sys.stderr)
        return 130
    return status
