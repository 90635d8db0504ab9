"""The result table of a run, as aligned text or Markdown, with footnotes."""

from __future__ import annotations

from gzmq.bench._harness import Report, Row
from gzmq.bench._model import IMPLS, Outcome

__all__ = ["Notes", "number", "render"]

_FAILURE_WORDS = {"unsupported": "n/a", "hung": "hung", "crashed": "crashed", "error": "error"}


def number(value: float, unit: str) -> str:
    """A figure with 3 significant digits and its unit (k/M for rates)."""
    if unit in ("msg/s", "req/s"):
        if value >= 1e6:
            return f"{value / 1e6:.3g}M"
        if value >= 1e3:
            return f"{value / 1e3:.3g}k"
        return f"{value:.3g}"
    if unit == "us":
        return f"{value:.3g} µs"
    return f"{value:.3g} {unit}"


class Notes:
    """Numbered footnotes, one per distinct text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"


def _cell(outcome: Outcome, row: Row, notes: Notes) -> str:
    value = outcome.median(row.metric.key)
    if not outcome.failures:
        return "-" if value is None else number(value, row.metric.unit)
    kind, reason = outcome.failures[0]
    if value is None:
        return f"{_FAILURE_WORDS.get(kind, kind)} {notes.mark(reason)}"
    failed = len(outcome.failures)
    text = f"{kind} in {failed} of {outcome.attempts} runs: {reason}"
    return f"{number(value, row.metric.unit)} {notes.mark(text)}"


def _targets(report: Report, row: Row) -> str:
    parts = []
    for target in row.case.targets:
        if target.row != (row.variant.key, row.metric.key):
            continue
        ratio = report.target_ratio(row.case, target)
        if ratio is None:
            parts.append(f"{target.describe()}: not measured")
            continue
        met = ratio >= target.bound if target.at_least else ratio <= target.bound
        parts.append(f"{target.describe()}: {ratio:.2f}x {'met' if met else 'MISSED'}")
    return "; ".join(parts)


def render(report: Report, markdown: bool = False) -> str:
    """The table of medians and ratios, footnotes, and what it was measured on."""
    notes = Notes()
    others = [impl for impl in IMPLS if impl != "gzmq"][:2]
    header = ["case", *IMPLS, *(f"gzmq/{impl}" for impl in others), "target"]
    lines = [header]
    for row in report.rows():
        cells = [row.label]
        for impl in IMPLS:
            if impl in row.variant.impls:
                outcome = report.outcome(row.case.name, row.variant.key, impl)
                cells.append(_cell(outcome, row, notes))
            else:
                cells.append("-")
        for impl in others:
            ratio = report.ratio(row, impl)
            cells.append("-" if ratio is None else f"{ratio:.2f}x")
        cells.append(_targets(report, row))
        lines.append(cells)
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines[1:]]
    else:
        widths = [max(len(cells[i]) for cells in lines) for i in range(len(header))]
        out = [
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            .rstrip()
            for cells in lines
        ]
        out.insert(1, "  ".join("-" * w for w in widths))
    for index, text in enumerate(notes.texts, 1):
        out.append(f"[{index}] {text}")
    machine = report.machine
    rounds = "1 round" if report.repeat == 1 else f"medians of {report.repeat} rounds"
    out.append("")
    out.append(
        f"{rounds}{' (--quick)' if report.quick else ''}, {report.seconds:.0f} s; "
        f"{machine.get('cpu')} ({machine.get('cores')} cores), Python {machine.get('python')}, "
        f"pyzmq {machine.get('pyzmq')} / libzmq {machine.get('libzmq')}, "
        f"gevent {machine.get('gevent')}; load average before {machine.get('load_before')}, "
        f"after {machine.get('load_after')}"
    )
    if machine.get("accelerated"):
        out.append("gzmq's C accelerator: on")
    else:
        out.append(f"gzmq's C accelerator: off ({machine.get('accelerator_reason')})")
    out.append(f"command: {report.command}")
    verdicts = report.verdicts()
    met = sum(1 for verdict in verdicts if verdict["met"])
    out.append(f"targets met: {met} of {len(verdicts)}")
    return "\n".join(out)
