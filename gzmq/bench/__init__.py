"""``gzmq bench``: gzmq side by side with raw pyzmq, zmq.green and zmq.asyncio.

The harness and the cases live in this package, so ``gzmq bench`` works from
a regular install as well as an editable one; ``benchmarks/*.py`` in the
source tree are thin scripts that call :func:`main` with one case each.

Each case is a module here with a ``CASE`` (:class:`~gzmq.bench._model.Case`)
and, for two-process cases, a ``peer()`` function.  Every measurement runs in
a worker process (:mod:`gzmq.bench._process`), contenders interleaved round
by round, with a timeout: a contender that cannot do a case, fails or hangs
is reported as such in the table, never crashing the run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
from collections.abc import Sequence

from gzmq._cli_support import count
from gzmq.bench._model import Case

__all__ = ["CASE_NAMES", "add_arguments", "load", "main", "run_from_args"]

#: The cases, in table order.
CASE_NAMES: tuple[str, ...] = ("overhead", "throughput", "latency", "fanout", "shared", "proxy")


def load(name: str) -> Case:
    """The case called ``name``."""
    if name not in CASE_NAMES:
        raise ValueError(f"unknown case {name!r}; the cases are: {', '.join(CASE_NAMES)}")
    case: Case = importlib.import_module(f"gzmq.bench.{name}").CASE
    return case


def _case_name(text: str) -> str:
    if text not in CASE_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown case {text!r} (choose from {', '.join(CASE_NAMES)})"
        )
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``gzmq bench`` on ``parser``."""
    parser.add_argument(
        "cases", nargs="*", metavar="CASE", type=_case_name,
        help=f"cases to run (default: all): {', '.join(CASE_NAMES)}",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="a small version of every case, one round (a smoke test, not a measurement)",
    )
    parser.add_argument(
        "--repeat", type=count, default=None, metavar="N",
        help="rounds per figure; the table shows medians (default 5, 1 with --quick)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as Markdown"
    )
    parser.add_argument(
        "--no-progress", action="store_true",
        help="no progress bar (there is one only when stderr is a terminal)",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the cases and their variants, then exit"
    )


def run_from_args(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Run ``gzmq bench`` with parsed arguments; returns the exit status."""
    from gzmq.bench._harness import run
    from gzmq.bench._table import render

    cases = [load(name) for name in dict.fromkeys(args.cases or CASE_NAMES)]
    if args.list:
        for case in cases:
            print(f"{case.name}: {case.title}")
            for variant in case.variants:
                print(f"    {variant.key}: {variant.label}")
        return 0
    repeat = args.repeat or (1 if args.quick else 5)
    words = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["gzmq", *words])
    report = run(
        cases, quick=args.quick, repeat=repeat, command=command,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    print(render(report, markdown=args.markdown))
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(report.to_json(), out, indent=2)
                out.write("\n")
        except OSError as error:
            print(f"gzmq bench: cannot write {args.json}: {error.strerror}", file=sys.stderr)
            return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``gzmq bench [CASE...] [options]`` as a function (used by benchmarks/*.py)."""
    parser = argparse.ArgumentParser(
        prog="gzmq bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    add_arguments(parser)
    words = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(parser.parse_args(words), ["bench", *words])
