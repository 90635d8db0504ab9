"""The perf regression gate: gzmq's instruction counts per case against a committed baseline.

The baseline (``gzmq/bench/baseline.json``) holds instructions per operation
for each ``case/contender`` of gzmq's own code, the N it was counted with,
the tolerance, and the versions it was recorded on.  ``gzmq bench
--instructions --check-baseline`` counts the same cases again and fails when
one grew more than the tolerance (10%) over its baseline; ``--write-baseline``
re-records it, which is meant to be a commit of its own whose message says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gzmq.bench._counting import CASES, CONTENDERS
from gzmq.bench._instructions import Measurement

__all__ = [
    "BASELINE",
    "TOLERANCE",
    "Baseline",
    "BaselineError",
    "GateRow",
    "compare",
    "load",
    "render_gate",
    "write",
]

#: The committed baseline, next to this module (so an installed gzmq finds it too).
BASELINE = Path(__file__).with_name("baseline.json")

#: How much a count may grow over its baseline before the gate fails.
TOLERANCE = 0.10

#: The versions that change the counts by themselves; a difference is reported.
_VERSIONS = ("python", "pyzmq", "libzmq", "gevent", "valgrind", "accelerated")

_ABOUT = (
    "gzmq's user-space instructions per operation (valgrind --tool=callgrind, N and 6N "
    "operations, difference / 5N), checked in CI by .ci/perf-gate (gzmq bench --instructions "
    "--check-baseline): a case that grows more than `tolerance` over its figure here fails. "
    "Re-record with `gzmq bench --instructions --write-baseline` and commit this file alone, "
    "with the reason in the commit message."
)


class BaselineError(Exception):
    """The baseline file is missing or not a baseline; the message names the file."""


@dataclass(frozen=True)
class Baseline:
    """A recorded baseline: instructions per operation by ``case/contender``."""

    path: Path
    ops: int
    tolerance: float
    instructions: dict[str, float]
    machine: dict[str, Any]

    def pairs(self) -> list[tuple[str, str]]:
        """The (case, contender) pairs it holds, in table order."""
        pairs = [(key.partition("/")[0], key.partition("/")[2]) for key in self.instructions]
        return sorted(
            pairs, key=lambda pair: (list(CASES).index(pair[0]), CONTENDERS.index(pair[1]))
        )


def load(path: Path) -> Baseline:
    """Read a baseline file; :class:`BaselineError` naming the file and what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"no baseline at {path}: record one with "
            f"`gzmq bench --instructions --write-baseline {path}`"
        ) from None
    except (OSError, ValueError) as error:
        raise BaselineError(f"cannot read the baseline {path}: {error}") from None
    try:
        instructions = {str(key): float(value) for key, value in data["instructions"].items()}
        ops, tolerance = int(data["ops"]), float(data["tolerance"])
        machine = dict(data.get("machine", {}))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise BaselineError(
            f"{path} is not a gzmq bench baseline (needs 'ops', 'tolerance' and "
            f"'instructions': {{'case/contender': count}}): {error!r}"
        ) from None
    for key in instructions:
        case, _, contender = key.partition("/")
        if case not in CASES or contender not in CONTENDERS:
            raise BaselineError(
                f"{path}: unknown entry {key!r}; entries are CASE/CONTENDER with CASE one of "
                f"{', '.join(CASES)} and CONTENDER one of {', '.join(CONTENDERS)}"
            )
    if ops < 1 or not 0 < tolerance < 10:
        raise BaselineError(f"{path}: 'ops' must be >= 1 and 'tolerance' in (0, 10)")
    return Baseline(path, ops, tolerance, instructions, machine)


def write(path: Path, measurements: list[Measurement], ops: int, machine: dict[str, Any]) -> None:
    """Write the baseline of ``measurements`` (each must have its instruction count)."""
    counts = {}
    for measurement in measurements:
        if measurement.instructions is None:
            raise ValueError(f"{measurement.key} has no instruction count")
        counts[measurement.key] = round(measurement.instructions, 1)
    data = {
        "about": _ABOUT,
        "ops": ops,
        "tolerance": TOLERANCE,
        "machine": {key: machine.get(key) for key in ("cpu", "cores", *_VERSIONS, "gzmq")},
        "instructions": counts,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class GateRow:
    """One case of the gate: its baseline, what was counted now, and the verdict."""

    key: str
    baseline: float
    now: float | None
    verdict: str  # "ok", "faster", "GREW" or "FAILED"

    @property
    def change(self) -> float | None:
        """The relative change from the baseline (0.05 is 5% more)."""
        return None if self.now is None else self.now / self.baseline - 1.0


def compare(baseline: Baseline, measurements: list[Measurement]) -> list[GateRow]:
    """Judge every baseline entry; a missing count fails, a growth over tolerance fails."""
    counted = {measurement.key: measurement.instructions for measurement in measurements}
    rows = []
    for case, contender in baseline.pairs():
        key = f"{case}/{contender}"
        before, now = baseline.instructions[key], counted.get(key)
        if now is None:
            verdict = "FAILED"
        elif now > before * (1.0 + baseline.tolerance):
            verdict = "GREW"
        elif now < before * (1.0 - baseline.tolerance):
            verdict = "faster"
        else:
            verdict = "ok"
        rows.append(GateRow(key, before, now, verdict))
    return rows


def version_notes(baseline: Baseline, machine: dict[str, Any]) -> list[str]:
    """One line per version that differs from the baseline's (counts may move with them)."""
    notes = []
    for key in _VERSIONS:
        recorded, now = baseline.machine.get(key), machine.get(key)
        if recorded is not None and now is not None and recorded != now:
            notes.append(f"note: the baseline was recorded with {key} {recorded}, this is {now}")
    return notes


def render_gate(baseline: Baseline, rows: list[GateRow], machine: dict[str, Any]) -> str:
    """The gate's table and its verdict."""
    lines = [["case/contender", "baseline", "now", "change", "verdict"]]
    for row in rows:
        change = row.change
        lines.append([
            row.key,
            f"{row.baseline:,.0f}",
            "-" if row.now is None else f"{row.now:,.0f}",
            "-" if change is None else f"{change:+.1%}",
            row.verdict,
        ])
    widths = [max(len(cells[i]) for cells in lines) for i in range(len(lines[0]))]
    out = [f"perf gate: instructions/op against {baseline.path} "
           f"(N = {baseline.ops}, fails above +{baseline.tolerance:.0%})"]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
            for cells in lines]
    out.insert(2, "  ".join("-" * w for w in widths))
    out += version_notes(baseline, machine)
    failed = [row.key for row in rows if row.verdict in ("GREW", "FAILED")]
    faster = [row.key for row in rows if row.verdict == "faster"]
    if faster:
        out.append(
            f"{', '.join(faster)} got more than {baseline.tolerance:.0%} cheaper: re-record the "
            "baseline (gzmq bench --instructions --write-baseline) in a commit saying why, so "
            "that the gate guards the new figure."
        )
    if failed:
        out.append(f"perf gate FAILED: {', '.join(failed)}")
    else:
        out.append(f"perf gate passed: {len(rows)} cases within +{baseline.tolerance:.0%}")
    return "\n".join(out)
