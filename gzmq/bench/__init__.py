"""``gzmq bench``: gzmq side by side with raw pyzmq, zmq.green and zmq.asyncio.

This package is the one home of the benchmarks: the harness and every case
live here, so ``gzmq bench`` works from a regular install as well as from a
checkout (``python -m gzmq bench`` there).

Each case is a module here with a ``CASE`` (:class:`~gzmq.bench._model.Case`)
and, for two-process cases, a ``peer()`` function.  Every measurement runs in
a worker process (:mod:`gzmq.bench._process`), contenders interleaved round
by round, with a timeout: a contender that cannot do a case, fails or hangs
is reported as such in the table, never crashing the run.

``gzmq bench --instructions`` counts instead of timing: user-space
instructions (valgrind) and syscalls (strace) per operation
(:mod:`gzmq.bench._instructions`), and with ``--check-baseline`` it is the
perf regression gate CI runs (:mod:`gzmq.bench._baseline`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from gzmq._cli_support import count
from gzmq.bench._counting import CASES as COUNT_CASES
from gzmq.bench._counting import CONTENDERS
from gzmq.bench._model import Case

__all__ = ["CASE_NAMES", "add_arguments", "load", "main", "run_from_args"]

_BASELINE = Path(__file__).with_name("baseline.json")

#: The cases, in table order.
CASE_NAMES: tuple[str, ...] = ("overhead", "throughput", "latency", "fanout", "shared", "proxy")


def load(name: str) -> Case:
    """The case called ``name``."""
    if name not in CASE_NAMES:
        raise ValueError(f"unknown case {name!r}; the cases are: {', '.join(CASE_NAMES)}")
    case: Case = importlib.import_module(f"gzmq.bench.{name}").CASE
    return case


def _case_name(text: str) -> str:
    if text not in CASE_NAMES and text not in COUNT_CASES:
        raise argparse.ArgumentTypeError(
            f"unknown case {text!r} (choose from {', '.join(CASE_NAMES)}; "
            f"with --instructions: {', '.join(COUNT_CASES)})"
        )
    return text


def _contenders(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown contender {', '.join(unknown) or repr(text)} "
            f"(a comma-separated list of {', '.join(CONTENDERS)})"
        )
    return list(dict.fromkeys(names))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the arguments of ``gzmq bench`` on ``parser``."""
    parser.add_argument(
        "cases", nargs="*", metavar="CASE", type=_case_name,
        help=f"cases to run (default: all): {', '.join(CASE_NAMES)}; "
        f"with --instructions: {', '.join(COUNT_CASES)}",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="a small version of every case, one round (a smoke test, not a measurement)",
    )
    parser.add_argument(
        "--repeat", type=count, default=None, metavar="N",
        help="rounds per figure; the table shows medians (default 5, 1 with --quick)",
    )
    parser.add_argument(
        "--json", metavar="FILE",
        help="also write the results as JSON (- for stdout, the table then goes to stderr)",
    )
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
    counts = parser.add_argument_group(
        "deterministic counts (--instructions; needs valgrind and strace)"
    )
    counts.add_argument(
        "--instructions", action="store_true",
        help="count user-space instructions (valgrind --tool=callgrind) and syscalls "
        "(strace -f -c) per operation instead of timing: runs of N and 6N operations, "
        "(difference) / 5N; exits 3 if valgrind or strace is missing",
    )
    counts.add_argument(
        "--ops", type=count, default=None, metavar="N",
        help="operations in the smaller run (default 500; the gate: the baseline's; "
        "--write-baseline: 200)",
    )
    counts.add_argument(
        "--contenders", type=_contenders, default=None, metavar="LIST",
        help=f"comma-separated, from {', '.join(CONTENDERS)} (default: all; "
        "gzmq-pure is gzmq with GZMQ_PURE_PYTHON=1, on sendrecv only)",
    )
    counts.add_argument(
        "--jobs", type=count, default=2, metavar="J",
        help="counted processes at once (default 2; the counts do not depend on it)",
    )
    gate = counts.add_mutually_exclusive_group()
    gate.add_argument(
        "--check-baseline", nargs="?", const=str(_BASELINE), default=None, metavar="FILE",
        help="the perf gate: count the baseline's cases and exit 1 if one grew more than "
        "its tolerance (10%%) (default FILE: the baseline.json in gzmq/bench)",
    )
    gate.add_argument(
        "--write-baseline", nargs="?", const=str(_BASELINE), default=None, metavar="FILE",
        help="count gzmq's contenders (or --contenders) and record them as the baseline; "
        "commit that alone, saying why",
    )


def run_from_args(args: argparse.Namespace, argv: Sequence[str] | None = None) -> int:
    """Run ``gzmq bench`` with parsed arguments; returns the exit status."""
    from gzmq.bench._harness import run
    from gzmq.bench._table import render

    words = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["gzmq", *words])
    if args.instructions:
        return _run_counts(args, command)
    counting_only = [
        option for option, value in (
            ("--ops", args.ops), ("--contenders", args.contenders),
            ("--check-baseline", args.check_baseline), ("--write-baseline", args.write_baseline),
        ) if value is not None
    ]
    if counting_only:
        return _usage(f"{', '.join(counting_only)}: only with --instructions")
    wrong = [name for name in args.cases if name not in CASE_NAMES]
    if wrong:
        return _usage(
            f"{', '.join(wrong)}: a case of --instructions; the timed cases are: "
            f"{', '.join(CASE_NAMES)}"
        )
    cases = [load(name) for name in dict.fromkeys(args.cases or CASE_NAMES)]
    if args.list:
        for case in cases:
            print(f"{case.name}: {case.title}")
            for variant in case.variants:
                print(f"    {variant.key}: {variant.label}")
        return 0
    repeat = args.repeat or (1 if args.quick else 5)
    report = run(
        cases, quick=args.quick, repeat=repeat, command=command,
        progress=not args.no_progress and sys.stderr.isatty(),
    )
    to_stdout = args.json == "-"
    print(render(report, markdown=args.markdown), file=sys.stderr if to_stdout else None)
    if to_stdout:
        print(json.dumps(report.to_json(), indent=2))
    elif args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as out:
                json.dump(report.to_json(), out, indent=2)
                out.write("\n")
        except OSError as error:
            print(f"gzmq bench: cannot write {args.json}: {error.strerror}", file=sys.stderr)
            return 1
    return 0


def _usage(text: str) -> int:
    print(f"gzmq bench: error: {text}", file=sys.stderr)
    return 2


def _run_counts(args: argparse.Namespace, command: str) -> int:
    from gzmq.bench._counts_cli import run_counts

    wrong = [name for name in args.cases if name not in COUNT_CASES]
    if wrong:
        return _usage(
            f"{', '.join(wrong)}: not a case of --instructions, whose cases are: "
            f"{', '.join(COUNT_CASES)}"
        )
    if args.quick or args.repeat or args.list:
        return _usage("--quick, --repeat and --list are for the timed cases, not --instructions")
    return run_counts(args, command)


def main(argv: Sequence[str] | None = None) -> int:
    """``gzmq bench [CASE...] [options]`` as a function."""
    parser = argparse.ArgumentParser(
        prog="gzmq bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    add_arguments(parser)
    words = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(parser.parse_args(words), ["bench", *words])
