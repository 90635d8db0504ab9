"""What a benchmark case declares: variants, metrics, targets; and what a run yields."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "IMPLS",
    "Case",
    "Metric",
    "Outcome",
    "Target",
    "Unsupported",
    "Variant",
]

#: The contenders, in table order.  ``pyzmq`` is raw blocking pyzmq (threads
#: in one process, or one process per side).
IMPLS: tuple[str, ...] = ("gzmq", "pyzmq", "zmq.green", "zmq.asyncio")


class Unsupported(Exception):  # noqa: N818 - a result, not a failure of the harness
    """This contender cannot do this case; the message says why (it is the result)."""


@dataclass(frozen=True)
class Metric:
    """One measured figure of a variant (one row of the table)."""

    key: str
    label: str
    unit: str
    higher_is_better: bool


RATE = Metric("rate", "", "msg/s", True)


@dataclass(frozen=True)
class Variant:
    """One configuration of a case, run for every contender.

    ``params`` go to the case's measure function; ``quick`` overrides them
    for ``--quick``.  ``fresh`` runs every measurement in a new process (for
    peak RSS).  ``env`` adds environment variables to the worker process,
    which is then a fresh one for every measurement (for settings read at
    import, such as GZMQ_PURE_PYTHON).  ``versus`` names the variant whose
    other contenders the row's ratios are taken against (for rows that only
    gzmq runs, e.g. its pure-Python core).  ``timeout`` bounds one
    measurement in seconds.
    """

    key: str
    label: str
    params: Mapping[str, Any]
    quick: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple[Metric, ...] = (RATE,)
    impls: tuple[str, ...] = IMPLS
    fresh: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    versus: str | None = None
    timeout: float = 60.0
    quick_timeout: float = 10.0

    def settings(self, quick: bool) -> dict[str, Any]:
        """The parameters for a full or a quick run."""
        merged = dict(self.params)
        if quick:
            merged.update(self.quick)
        return merged


@dataclass(frozen=True)
class Target:
    """A goal for gzmq: ``gzmq`` on ``row`` divided by ``against`` on ``versus`` row.

    Rows are ``(variant key, metric key)`` within the case; ``versus`` defaults
    to ``row``.  ``at_least`` is True for ">= bound", False for "<= bound".
    """

    row: tuple[str, str]
    against: str
    bound: float
    at_least: bool
    versus: tuple[str, str] | None = None
    note: str = ""

    def describe(self) -> str:
        """The target as text, e.g. ``>= 2.5x pyzmq``."""
        sign = ">=" if self.at_least else "<="
        return f"{sign} {self.bound:g}x {self.note or self.against}"


#: measure(impl, params) -> {metric key: value}; raise Unsupported to report
#: that the contender cannot do it.
Measure = Callable[[str, dict[str, Any]], dict[str, float]]


@dataclass(frozen=True)
class Case:
    """A benchmark case: a name, its variants, the function that measures one, targets."""

    name: str
    title: str
    variants: tuple[Variant, ...]
    measure: Measure
    targets: tuple[Target, ...] = ()

    def variant(self, key: str) -> Variant:
        """The variant called ``key``."""
        for variant in self.variants:
            if variant.key == key:
                return variant
        raise KeyError(f"{self.name} has no variant {key!r}")


@dataclass
class Outcome:
    """Every run of one (case, variant, contender): figures or failures."""

    runs: list[dict[str, float]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (kind, reason)

    @property
    def attempts(self) -> int:
        """How many runs were attempted."""
        return len(self.runs) + len(self.failures)

    def median(self, metric: str) -> float | None:
        """The median of the successful runs, or None if there are none."""
        values = [run[metric] for run in self.runs if metric in run]
        return statistics.median(values) if values else None

    @property
    def unsupported(self) -> bool:
        """Whether the contender reported that it cannot do this at all."""
        return any(kind == "unsupported" for kind, _ in self.failures)
