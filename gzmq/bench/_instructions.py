"""``gzmq bench --instructions``: user-space instructions and syscalls per operation.

Costs measured without timing noise: each (case, contender) program of
:mod:`gzmq.bench._counting` runs under ``valgrind --tool=callgrind`` (every
instruction the process executes in user space, all its threads) and under
``strace -f -c`` (every syscall of every thread), once with N operations and
once with 6N; the difference divided by 5N is the cost of one operation, with
start-up, imports and teardown cancelled out.  Each run is a fresh process
with ``PYTHONHASHSEED=0``; for the ``req`` case the echo server is a separate
raw pyzmq process started before, and not counted in, the measurement.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gzmq.bench._counting import CASES, CONTENDERS
from gzmq.bench._process import read_line

__all__ = [
    "TOOLS",
    "Measurement",
    "MissingToolError",
    "check_tools",
    "measure_all",
    "parse_callgrind",
    "parse_strace",
    "tool_versions",
]

#: The tools, each with the Debian package that provides it.
TOOLS: dict[str, str] = {"valgrind": "valgrind", "strace": "strace"}

#: What the measured programs run as (a script: see gzmq.bench._counting).
PROGRAM = Path(__file__).with_name("_counting.py")

#: The longest one counted run may take, in seconds (valgrind is ~50x slower).
RUN_TIMEOUT = 900.0


class MissingToolError(Exception):
    """valgrind or strace is not installed; the message names the command to install them."""


def check_tools() -> None:
    """Raise :class:`MissingToolError` naming every tool missing from PATH."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(TOOLS.values())
        raise MissingToolError(
            f"--instructions needs valgrind and strace; not found on PATH: "
            f"{', '.join(missing)}. Install them, e.g. `apt-get install {packages}` "
            f"(Debian, Ubuntu) or your system's packages of the same names."
        )


def tool_versions() -> dict[str, str]:
    """The first line of ``valgrind --version`` and ``strace --version``."""
    versions = {}
    for tool in TOOLS:
        try:
            done = subprocess.run(
                [tool, "--version"], capture_output=True, text=True, timeout=30, check=False
            )
            versions[tool] = (done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            versions[tool] = "unknown"
    return versions


def parse_callgrind(text: str) -> int:
    """The total instruction count (``totals:`` or ``summary:``) of a callgrind output file."""
    for key in ("totals:", "summary:"):
        for line in text.splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    raise ValueError("no 'totals:' or 'summary:' line in the callgrind output")


def parse_strace(text: str) -> tuple[int, dict[str, int]]:
    """The total syscall count and the count per syscall from ``strace -c`` output."""
    by_name: dict[str, int] = {}
    total: int | None = None
    for line in text.splitlines():
        fields = line.split()
        # "% time seconds usecs/call calls [errors] syscall": calls is always the 4th field.
        if len(fields) < 5 or not fields[3].isdigit():
            continue
        try:
            float(fields[0])
        except ValueError:
            continue
        if fields[-1] == "total":
            total = int(fields[3])
        else:
            by_name[fields[-1]] = int(fields[3])
    if total is None:
        raise ValueError("no 'total' line in the strace -c output")
    return total, by_name


@dataclass
class Measurement:
    """The per-operation costs of one (case, contender), or why they are missing."""

    case: str
    contender: str
    ops: int
    instructions: float | None = None
    syscalls: float | None = None
    syscalls_by_name: dict[str, float] = field(default_factory=dict)
    accelerated: bool | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """``case/contender``, as the baseline names it."""
        return f"{self.case}/{self.contender}"

    def to_json(self) -> dict[str, Any]:
        """The machine-readable form."""
        return {
            "case": self.case,
            "contender": self.contender,
            "ops": self.ops,
            "instructions_per_op": self.instructions,
            "syscalls_per_op": self.syscalls,
            "syscalls_per_op_by_name": self.syscalls_by_name,
            "accelerated": self.accelerated,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class _Run:
    """One counted process: a tool, a case, a contender, a number of operations."""

    tool: str
    case: str
    contender: str
    ops: int


@dataclass
class _Result:
    total: int = 0
    by_name: dict[str, int] = field(default_factory=dict)
    accelerated: bool | None = None
    error: str | None = None


def _environment(contender: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"  # the same dict layouts, hence the same instructions, every run
    env.pop("GZMQ_PURE_PYTHON", None)
    if contender == "gzmq-pure":
        env["GZMQ_PURE_PYTHON"] = "1"
    return env


class _Echo:
    """The echo server of the ``req`` case: its own process, not counted."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PROGRAM), "echo"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=_environment("pyzmq"),
        )
        started = False
        try:
            if self.process.stdout is None:
                raise RuntimeError("the echo process has no stdout")
            self.endpoint: str = json.loads(
                read_line(self.process.stdout, 30.0, "the echo process")
            )["endpoint"]
            started = True
        finally:
            if not started:
                self.close()

    def close(self) -> None:
        """Stop the echo process."""
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _command(run: _Run, out: Path, endpoint: str | None) -> list[str]:
    program = [sys.executable, str(PROGRAM), run.case, run.contender, str(run.ops)]
    if endpoint is not None:
        program.append(endpoint)
    if run.tool == "valgrind":
        return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--", *program]
    return ["strace", "-f", "-c", "-o", str(out), "--", *program]


def _tail(text: str, lines: int = 4) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def _count(run: _Run) -> _Result:
    """Run one counted process; its total, or why there is none."""
    with tempfile.TemporaryDirectory(prefix="gzmq-counts-") as scratch:
        out = Path(scratch) / "counts.out"
        echo = _Echo() if run.case == "req" else None
        try:
            process = subprocess.Popen(
                _command(run, out, echo.endpoint if echo else None),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=_environment(run.contender), text=True, start_new_session=True,
            )
            try:
                stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                return _Result(error=f"{run.tool}: no result in {RUN_TIMEOUT:g} s (killed)")
        finally:
            if echo is not None:
                echo.close()
        what = f"{run.tool} ({run.ops} ops)"
        if process.returncode != 0:
            return _Result(error=f"{what} exited with {process.returncode}: {_tail(stderr)}")
        try:
            report = json.loads(stdout.strip().splitlines()[-1])
            text = out.read_text(encoding="utf-8", errors="replace")
            if run.tool == "valgrind":
                return _Result(parse_callgrind(text), accelerated=report.get("accelerated"))
            total, by_name = parse_strace(text)
            return _Result(total, by_name, report.get("accelerated"))
        except (IndexError, ValueError, OSError) as error:
            return _Result(error=f"{what}: unreadable result ({error}): {_tail(stderr)}")


def _combine(measurement: Measurement, tool: str, small: _Result, large: _Result) -> None:
    """Fill ``measurement`` from the N and 6N runs of one tool."""
    for result in (small, large):
        if result.error:
            measurement.errors.append(result.error)
    if small.error or large.error:
        return
    span = 5 * measurement.ops
    if tool == "valgrind":
        measurement.instructions = (large.total - small.total) / span
    else:
        measurement.syscalls = (large.total - small.total) / span
        names = sorted(set(small.by_name) | set(large.by_name))
        per_name = {
            name: (large.by_name.get(name, 0) - small.by_name.get(name, 0)) / span
            for name in names
        }
        measurement.syscalls_by_name = {name: value for name, value in per_name.items() if value}
    accelerated = {result.accelerated for result in (small, large)}
    if len(accelerated) == 1:
        measurement.accelerated = accelerated.pop()
    expected = {"gzmq": True, "gzmq-pure": False}.get(measurement.contender)
    if expected is not None and measurement.accelerated is not expected:
        state = "on" if measurement.accelerated else "off"
        measurement.errors.append(f"gzmq's C accelerator was {state} in {tool}'s runs")


def measure_all(
    pairs: Sequence[tuple[str, str]],
    ops: int,
    jobs: int = 2,
    progress: Callable[[str], None] | None = None,
) -> list[Measurement]:
    """Count every (case, contender) in ``pairs`` with N = ``ops``; ``jobs`` processes at once."""
    for case, contender in pairs:
        if case not in CASES or contender not in CONTENDERS:
            raise ValueError(f"unknown case or contender: {case}/{contender}")
    runs = [
        _Run(tool, case, contender, n)
        for case, contender in pairs
        for tool in TOOLS
        for n in (ops, 6 * ops)
    ]

    def counted(run: _Run) -> _Result:
        result = _count(run)
        if progress is not None:
            progress(f"{run.case}/{run.contender} {run.tool}")
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = dict(zip(runs, pool.map(counted, runs), strict=True))
    measurements = []
    for case, contender in pairs:
        measurement = Measurement(case, contender, ops)
        for tool in TOOLS:
            small = results[_Run(tool, case, contender, ops)]
            large = results[_Run(tool, case, contender, 6 * ops)]
            _combine(measurement, tool, small, large)
        measurements.append(measurement)
    return measurements
