"""Runs the cases in worker processes, round by round, and tabulates medians and ratios."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from gzmq.bench._model import IMPLS, Case, Metric, Outcome, Target, Variant
from gzmq.bench._process import read_line

__all__ = ["Report", "run"]

Key = tuple[str, str, str]  # case, variant, impl


class _Worker:
    """A worker process (``python -m gzmq.bench._process``) in its own process group.

    The group holds the worker and the peers it starts, so a hung run is
    ended by killing the group of this one process.
    """

    def __init__(self, once: bool = False, env: Mapping[str, str] | None = None) -> None:
        self.log: IO[bytes] = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gzmq.bench._process", *(["--once"] if once else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,
            env={**os.environ, **env} if env else None,
        )

    def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one job; its answer, or TimeoutError / EOFError."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(job).encode() + b"\n")
            stdin.flush()
        except BrokenPipeError:
            raise EOFError("the worker exited") from None
        answer: dict[str, Any] = json.loads(read_line(stdout, timeout, "worker"))
        return answer

    def log_tail(self, lines: int = 3) -> str:
        """The last lines the worker wrote to stderr."""
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def kill(self) -> None:
        """End the worker and every peer it started."""
        process = self.process
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        process.wait()
        self._close_streams()

    def close(self) -> None:
        """Let the worker finish (close its stdin); kill it if it does not."""
        if self.process.stdin is not None:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_streams()

    def _close_streams(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
        self.log.close()


@dataclass
class Row:
    """One line of the table: a variant's metric, for every contender."""

    case: Case
    variant: Variant
    metric: Metric

    @property
    def label(self) -> str:
        """What the row measures, with its unit."""
        extra = f" {self.metric.label}" if self.metric.label else ""
        return f"{self.variant.label}{extra} ({self.metric.unit})"


@dataclass
class Report:
    """Everything one ``gzmq bench`` run measured."""

    cases: list[Case]
    quick: bool
    repeat: int
    command: str
    outcomes: dict[Key, Outcome] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def outcome(self, case: str, variant: str, impl: str) -> Outcome:
        """The outcome of one (case, variant, contender), empty if never run."""
        return self.outcomes.setdefault((case, variant, impl), Outcome())

    def rows(self) -> Iterator[Row]:
        """Every row, in table order."""
        for case in self.cases:
            for variant in case.variants:
                for metric in variant.metrics:
                    yield Row(case, variant, metric)

    def median(self, case: str, variant: str, metric: str, impl: str) -> float | None:
        """A median, or None when nothing was measured."""
        return self.outcome(case, variant, impl).median(metric)

    def ratio(self, row: Row, against: str) -> float | None:
        """gzmq's median over ``against``'s on one row (on the row's ``versus`` variant)."""
        ours = self.median(row.case.name, row.variant.key, row.metric.key, "gzmq")
        theirs_variant = row.variant.versus or row.variant.key
        theirs = self.median(row.case.name, theirs_variant, row.metric.key, against)
        if ours is None or not theirs:
            return None
        return ours / theirs

    def target_ratio(self, case: Case, target: Target) -> float | None:
        """The ratio a target is judged on, or None when a side is missing."""
        variant, metric = target.row
        versus_variant, versus_metric = target.versus or target.row
        ours = self.median(case.name, variant, metric, "gzmq")
        theirs = self.median(case.name, versus_variant, versus_metric, target.against)
        if ours is None or not theirs:
            return None
        return ours / theirs

    def verdicts(self) -> list[dict[str, Any]]:
        """Every target with its measured ratio and whether it is met."""
        verdicts = []
        for case in self.cases:
            for target in case.targets:
                ratio = self.target_ratio(case, target)
                met = None
                if ratio is not None:
                    met = ratio >= target.bound if target.at_least else ratio <= target.bound
                row = Row(case, case.variant(target.row[0]), _metric(case, target.row))
                verdicts.append({
                    "case": case.name,
                    "row": row.label,
                    "target": target.describe(),
                    "ratio": ratio,
                    "met": met,
                })
        return verdicts

    def to_json(self) -> dict[str, Any]:
        """The machine-readable results."""
        rows = []
        for row in self.rows():
            values = {}
            for impl in row.variant.impls:
                outcome = self.outcome(row.case.name, row.variant.key, impl)
                values[impl] = {
                    "median": outcome.median(row.metric.key),
                    "runs": [run.get(row.metric.key) for run in outcome.runs],
                    "failures": [
                        {"kind": kind, "reason": reason} for kind, reason in outcome.failures
                    ],
                }
            rows.append({
                "case": row.case.name,
                "variant": row.variant.key,
                "metric": row.metric.key,
                "label": row.label,
                "unit": row.metric.unit,
                "higher_is_better": row.metric.higher_is_better,
                "values": values,
                "ratios": {
                    f"gzmq/{impl}": self.ratio(row, impl) for impl in IMPLS if impl != "gzmq"
                },
            })
        return {
            "command": self.command,
            "quick": self.quick,
            "repeat": self.repeat,
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "rows": rows,
            "targets": self.verdicts(),
        }


def _metric(case: Case, row: tuple[str, str]) -> Metric:
    for metric in case.variant(row[0]).metrics:
        if metric.key == row[1]:
            return metric
    raise KeyError(f"{case.name}: no metric {row}")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import gevent
    import zmq

    import gzmq

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "pyzmq": zmq.__version__,
        "libzmq": zmq.zmq_version(),
        "gevent": gevent.__version__,
        "gzmq": gzmq.__version__,
        "accelerated": gzmq.accelerated,
        "accelerator_reason": gzmq.accelerator_reason,
        "load_before": [round(value, 2) for value in os.getloadavg()],
    }


def _jobs(report: Report) -> list[tuple[Case, Variant, str]]:
    """One round: every variant of every case, for every contender."""
    return [
        (case, variant, impl)
        for case in report.cases
        for variant in case.variants
        for impl in variant.impls
    ]


def run(
    cases: Sequence[Case],
    *,
    quick: bool = False,
    repeat: int = 5,
    command: str = "gzmq bench",
    progress: bool = True,
) -> Report:
    """Run every case ``repeat`` times, contenders interleaved round by round.

    Interleaving makes drift in the machine's speed (other processes on it)
    hit every contender alike; the table shows the median of the rounds.
    """
    from tqdm import tqdm

    report = Report(list(cases), quick, repeat, command, machine=machine())
    started = time.perf_counter()
    jobs = _jobs(report)
    worker: _Worker | None = None
    bar = tqdm(total=len(jobs) * repeat, unit="run", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    try:
        for _ in range(repeat):
            for case, variant, impl in jobs:
                outcome = report.outcome(case.name, variant.key, impl)
                bar.set_description(f"{case.name}/{variant.key} {impl}")
                if not outcome.unsupported:
                    worker = _attempt(worker, case, variant, impl, quick, outcome)
                bar.update(1)
    finally:
        bar.close()
        if worker is not None:
            worker.close()
    report.seconds = time.perf_counter() - started
    report.machine["load_after"] = [round(value, 2) for value in os.getloadavg()]
    return report


def _attempt(
    worker: _Worker | None, case: Case, variant: Variant, impl: str, quick: bool,
    outcome: Outcome,
) -> _Worker | None:
    """Run one measurement into ``outcome``; returns the worker to use next."""
    job = {"case": case.name, "variant": variant.key, "impl": impl,
           "params": variant.settings(quick)}
    timeout = variant.quick_timeout if quick else variant.timeout
    fresh = variant.fresh or bool(variant.env)
    runner = _Worker(once=True, env=variant.env) if fresh else (worker or _Worker())
    try:
        answer = runner.run(job, timeout)
    except (TimeoutError, EOFError) as error:
        if isinstance(error, TimeoutError):
            tail = runner.log_tail()
            detail = f"; its stderr: {tail}" if tail else ""
            outcome.failures.append(("hung", f"no result in {timeout:g} s (killed){detail}"))
        else:
            outcome.failures.append(("crashed", f"the process died: {runner.log_tail()}"))
        runner.kill()
        return worker if fresh else None
    if "ok" in answer:
        outcome.runs.append(answer["ok"])
    elif "unsupported" in answer:
        outcome.failures.append(("unsupported", answer["unsupported"]))
    else:
        outcome.failures.append(("error", answer.get("error", "no result")))
    if fresh:
        runner.close()
        return worker
    return runner
