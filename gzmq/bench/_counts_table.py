"""The table and the JSON of ``gzmq bench --instructions``, with issue 18's targets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gzmq.bench._counting import CASES, CONTENDERS
from gzmq.bench._instructions import Measurement

__all__ = ["TARGETS", "CountTarget", "CountsReport", "render_table", "selected_pairs"]

#: The contender every ratio is taken against.
RAW = "pyzmq"

#: Each metric: its label, and how a cell compares with raw pyzmq's.
METRICS: dict[str, str] = {"instructions": "instructions/op", "syscalls": "syscalls/op"}


@dataclass(frozen=True)
class CountTarget:
    """A goal: ``contender``'s ``metric`` on ``case`` <= ``bound`` x (or +) ``against``'s."""

    case: str
    metric: str
    contender: str
    against: str
    bound: float
    additive: bool = False

    def describe(self) -> str:
        """The target as text, e.g. ``req instructions/op: gzmq <= 2x pyzmq``."""
        limit = f"{self.against} + {self.bound:g}" if self.additive else (
            f"{self.bound:g}x {self.against}"
        )
        return f"{self.case} {METRICS[self.metric]}: {self.contender} <= {limit}"


#: Issue 18's targets for the counts.
TARGETS: tuple[CountTarget, ...] = (
    CountTarget("req", "instructions", "gzmq", RAW, 2.0),
    CountTarget("req", "syscalls", "gzmq", RAW, 2.0, additive=True),
    CountTarget("req", "instructions", "gzmq.green", "gzmq", 1.2),
    CountTarget("sendrecv", "instructions", "gzmq.green", RAW, 1.0),
)


@dataclass
class CountsReport:
    """Everything one ``gzmq bench --instructions`` run measured."""

    measurements: list[Measurement]
    ops: int
    command: str
    machine: dict[str, Any]
    seconds: float = 0.0

    def value(self, case: str, contender: str, metric: str) -> float | None:
        """One figure, or None when it was not measured."""
        for measurement in self.measurements:
            if measurement.case == case and measurement.contender == contender:
                value: float | None = getattr(measurement, metric)
                return value
        return None

    def verdicts(self) -> list[dict[str, Any]]:
        """Each target whose two sides were measured, with its figure and whether it is met."""
        verdicts = []
        for target in TARGETS:
            ours = self.value(target.case, target.contender, target.metric)
            theirs = self.value(target.case, target.against, target.metric)
            if ours is None or theirs is None:
                continue
            if target.additive:
                figure = ours - theirs
                met = figure <= target.bound
                shown = f"{figure:+.2f}"
            else:
                figure = ours / theirs if theirs else float("inf")
                met = figure <= target.bound
                shown = f"{figure:.2f}x"
            verdicts.append(
                {"target": target.describe(), "figure": figure, "shown": shown, "met": met}
            )
        return verdicts

    @property
    def failed(self) -> bool:
        """Whether any measurement is missing a figure."""
        return any(measurement.errors for measurement in self.measurements)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable results."""
        return {
            "command": self.command,
            "ops": self.ops,
            "method": "(count with 6N ops - count with N ops) / 5N, one process per run",
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "results": [measurement.to_json() for measurement in self.measurements],
            "targets": [
                {key: value for key, value in verdict.items() if key != "shown"}
                for verdict in self.verdicts()
            ],
        }


def _figure(value: float, metric: str) -> str:
    return f"{value:,.0f}" if metric == "instructions" else f"{value:.2f}"


def _cell(report: CountsReport, case: str, contender: str, metric: str) -> str:
    value = report.value(case, contender, metric)
    if value is None:
        return "-"
    text = _figure(value, metric)
    raw = report.value(case, RAW, metric)
    if contender == RAW or raw is None:
        return text
    if metric == "instructions":
        return f"{text} ({value / raw:.2f}x)" if raw else text
    return f"{text} ({value - raw:+.2f})"


def _grid(lines: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(lines[0]) + " |", "|" + "---|" * len(lines[0])]
        return out + ["| " + " | ".join(cells) + " |" for cells in lines[1:]]
    widths = [max(len(cells[i]) for cells in lines) for i in range(len(lines[0]))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
           for cells in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return out


def render_table(report: CountsReport, markdown: bool = False) -> str:
    """Per-operation counts, ratios against raw pyzmq, targets, errors and the machine."""
    present = {m.contender for m in report.measurements}
    contenders = [name for name in CONTENDERS if name in present]
    cases = [name for name in CASES if any(m.case == name for m in report.measurements)]
    lines = [["case", "per op", *contenders]]
    for case in cases:
        for index, metric in enumerate(METRICS):
            label = case if index == 0 else ""
            cells = [_cell(report, case, contender, metric) for contender in contenders]
            lines.append([label, METRICS[metric].split("/")[0], *cells])
    out = _grid(lines, markdown)
    out.append("")
    out += [f"{case}: {CASES[case]}" for case in cases]
    if RAW in contenders and len(contenders) > 1:
        out.append(
            "In brackets: instructions as a ratio to raw pyzmq's, syscalls as a difference "
            "from raw pyzmq's."
        )
    if "gzmq-pure" in contenders:
        out.append("gzmq-pure is gzmq with GZMQ_PURE_PYTHON=1 (its pure-Python core).")
    for measurement in report.measurements:
        for error in measurement.errors:
            out.append(f"error: {measurement.key}: {error}")
    verdicts = report.verdicts()
    if verdicts:
        out.append("")
        out.append("targets (issue 18):")
        for verdict in verdicts:
            out.append(
                f"  {verdict['target']}: {verdict['shown']} {'met' if verdict['met'] else 'MISSED'}"
            )
    machine = report.machine
    out.append("")
    out.append(
        f"N = {report.ops} and 6N operations per run, (6N count - N count) / 5N; "
        f"{report.seconds:.0f} s; {machine.get('valgrind')}, {machine.get('strace')}; "
        f"Python {machine.get('python')}, pyzmq {machine.get('pyzmq')} / libzmq "
        f"{machine.get('libzmq')}, gevent {machine.get('gevent')}; {machine.get('cpu')}"
    )
    out.append(f"command: {report.command}")
    return "\n".join(out)


def selected_pairs(cases: Sequence[str], contenders: Sequence[str]) -> list[tuple[str, str]]:
    """Every (case, contender) to count; the pure-Python core only on sendrecv."""
    return [
        (case, contender)
        for case in cases
        for contender in contenders
        if contender != "gzmq-pure" or case == "sendrecv"
    ]
