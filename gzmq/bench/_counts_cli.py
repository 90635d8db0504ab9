"""``gzmq bench --instructions`` from parsed arguments: count, tabulate, gate, record."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from gzmq.bench import _baseline
from gzmq.bench._counting import CASES, CONTENDERS
from gzmq.bench._counts_table import CountsReport, render_table, selected_pairs
from gzmq.bench._instructions import MissingToolError, check_tools, measure_all, tool_versions

__all__ = ["BASELINE_OPS", "DEFAULT_OPS", "EXIT_MISSING_TOOL", "GZMQ_CONTENDERS", "run_counts"]

#: N: operations in the smaller counted run (the larger has 6N).
DEFAULT_OPS = 500

#: N for a new baseline, which the gate then uses: small, for a short CI lane (the counts
#: are as stable at 200 as at 500: start-up, which dominates the time, cancels out).
BASELINE_OPS = 200

#: The exit status when valgrind or strace is not installed.
EXIT_MISSING_TOOL = 3

#: The contenders that are gzmq's own code: what the baseline holds by default.
GZMQ_CONTENDERS: tuple[str, ...] = ("gzmq", "gzmq-pure", "gzmq.green")


def _fail(text: str, status: int) -> int:
    print(f"gzmq bench: {text}", file=sys.stderr)
    return status


def _selection(args: argparse.Namespace) -> tuple[list[tuple[str, str]], int, Any]:
    """The (case, contender) pairs to count, N, and the baseline to check (or None)."""
    if args.check_baseline:
        baseline = _baseline.load(Path(args.check_baseline))
        return baseline.pairs(), args.ops or baseline.ops, baseline
    cases = args.cases or list(CASES)
    if args.write_baseline:
        contenders, ops = args.contenders or list(GZMQ_CONTENDERS), args.ops or BASELINE_OPS
    else:
        contenders, ops = args.contenders or list(CONTENDERS), args.ops or DEFAULT_OPS
    return selected_pairs(cases, contenders), ops, None


def run_counts(args: argparse.Namespace, command: str) -> int:
    """Count, print the table (and JSON), then check or write the baseline; the exit status."""
    from tqdm import tqdm

    from gzmq.bench._harness import machine

    try:
        pairs, ops, baseline = _selection(args)
    except _baseline.BaselineError as error:
        return _fail(str(error), 2)
    if not pairs:
        return _fail("nothing to count: gzmq-pure runs the sendrecv case only", 2)
    try:
        check_tools()
    except MissingToolError as error:
        return _fail(str(error), EXIT_MISSING_TOOL)
    facts = {**machine(), **tool_versions()}
    progress = not args.no_progress and sys.stderr.isatty()
    bar = tqdm(total=len(pairs) * 4, unit="run", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)

    def advance(text: str) -> None:
        bar.set_description(text)
        bar.update(1)

    started = time.perf_counter()
    try:
        measurements = measure_all(pairs, ops, jobs=args.jobs, progress=advance)
    finally:
        bar.close()
    report = CountsReport(measurements, ops, command, facts, time.perf_counter() - started)
    to_stdout = args.json == "-"
    print(
        render_table(report, markdown=args.markdown),
        file=sys.stderr if to_stdout else sys.stdout, flush=True,
    )
    if args.json:
        text = json.dumps(report.to_json(), indent=2) + "\n"
        if to_stdout:
            sys.stdout.write(text)
        else:
            try:
                Path(args.json).write_text(text, encoding="utf-8")
            except OSError as error:
                return _fail(f"cannot write {args.json}: {error.strerror}", 1)
    status = 1 if report.failed else 0
    if baseline is not None:
        rows = _baseline.compare(baseline, measurements)
        print(
            _baseline.render_gate(baseline, rows, facts),
            file=sys.stderr if to_stdout else sys.stdout, flush=True,
        )
        if any(row.verdict in ("GREW", "FAILED") for row in rows):
            status = 1
    if args.write_baseline:
        if report.failed:
            return _fail(f"not writing {args.write_baseline}: some counts are missing", 1)
        path = Path(args.write_baseline)
        try:
            _baseline.write(path, measurements, ops, facts)
        except OSError as error:
            return _fail(f"cannot write {path}: {error.strerror}", 1)
        print(
            f"wrote {path} ({len(measurements)} cases, N = {ops}); commit it alone, with the "
            "reason in the message: git commit -m 'perf baseline: <why>' -- " + str(path),
            file=sys.stderr,
        )
    return status
