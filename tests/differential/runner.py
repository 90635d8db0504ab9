"""Run a seed's scenario in this process and report what it observed.

The report has three parts:

* ``outcome``: per act, its verdicts (invariants, True when they held) and
  deterministic results (what scripted misuse raised), plus the scenario's
  own verdicts (fairness, heartbeat).  Nothing in it depends on timing:
  the C and the pure-Python runs of a seed must give equal outcomes, all
  verdicts True.
* ``info``: counts, gaps, durations; they vary from run to run (reported,
  never compared).
* ``plan``: the scenario itself (the same in every mode).
"""

from __future__ import annotations

import tempfile
import time
from typing import Any

import gevent

import gzmq

from .acts import ACTS
from .layers import Contexts
from .ledger import FAIRNESS_LIMIT, HEARTBEAT_BOUND, Fairness, Heartbeat
from .plan import Scenario, describe, generate
from .workers import END, Act

__all__ = ["accelerated", "run_scenario", "run_seed"]

#: A scenario's acts must all end within this long (they end in about a second).
LIMIT = 60.0


def accelerated() -> bool:
    """Whether this process's gzmq uses its C accelerator."""
    value = getattr(gzmq, "accelerated", None)
    if value is None:
        # gzmq before issue 15 had no gzmq.accelerated: its _native module held the
        # bound accelerator (kept so the generator runs on that core too).
        from gzmq import _native

        return getattr(_native, "_speedups", None) is not None
    return bool(value)


def run_seed(seed: int) -> dict[str, Any]:
    """Generate and run the scenario of ``seed``; its report."""
    return run_scenario(generate(seed))


def run_scenario(scenario: Scenario) -> dict[str, Any]:
    """Run ``scenario`` in a fresh pair of contexts; its report."""
    started = time.monotonic()
    contexts = Contexts()
    fairness = Fairness()
    heartbeat = Heartbeat()
    with tempfile.TemporaryDirectory(prefix="gzmq-differential-") as directory:
        acts: list[Act] = [
            ACTS[plan.kind](plan, contexts, directory, fairness) for plan in scenario.acts
        ]
        failures: dict[str, str] = {}
        heartbeat.start()
        fairness.start()
        try:
            bursts = [gevent.spawn_later(burst.at, time.sleep, burst.seconds)
                      for burst in scenario.bursts]
            mains = [gevent.spawn(act.run) for act in acts]
            gevent.joinall(mains, timeout=LIMIT)
            for act, main in zip(acts, mains, strict=True):
                if not main.dead:
                    main.kill(timeout=END)
                    act.stuck.append("the act did not end")
                elif main.exception is not None:
                    failures[act.plan.name] = f"{type(main.exception).__name__}: {main.exception}"
            gevent.killall(bursts)
        finally:
            fairness.stop()
            heartbeat.stop()
            contexts.close()
    outcome: dict[str, Any] = {}
    info: dict[str, Any] = {}
    for act in acts:
        name = act.plan.name
        if name in failures:
            outcome[name] = {"verdicts": {"act_ran": False}, "deterministic": {}}
            info[name] = {"failure": failures[name]}
            continue
        result = act.outcome()
        info[name] = result.pop("info")
        outcome[name] = result
    outcome["scenario"] = {
        "verdicts": {
            "fair": not fairness.violations,
            "heartbeat_gap_bounded": heartbeat.gap < HEARTBEAT_BOUND,
        },
        "deterministic": {},
    }
    info["scenario"] = {
        "heartbeat_max_gap_cpu": round(heartbeat.gap, 4),
        "heartbeat_max_gap_wall": round(heartbeat.wall_gap, 4),
        "fairness_limit": FAIRNESS_LIMIT,
        "most_units_before_a_completion": dict(sorted(fairness.worst.items())),
        "fairness_violations": fairness.violations,
        "seconds": round(time.monotonic() - started, 3),
    }
    failed = [
        f"{act}.{name}"
        for act, part in outcome.items()
        for name, ok in part["verdicts"].items()
        if not ok
    ]
    return {
        "seed": scenario.seed,
        "ok": not failed,
        "failed": failed,
        "outcome": outcome,
        "info": info,
        "plan": describe(scenario),
    }
