"""Command line: run seeds in one mode, printing JSON lines: the run, then one report per seed.

    cd tests && python -m differential --mode c --seed 7
    cd tests && python -m differential --mode pure --seeds 0-99

``--mode pure`` sets GZMQ_PURE_PYTHON=1 before gzmq is imported; ``--mode
c`` requires the accelerator (exit status 2 if gzmq is not accelerated).
The exit status is 0 when every seed's verdicts held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def seed_list(text: str) -> list[int]:
    """The seeds ``text`` names: ``3``, ``0-99`` or ``1,5,9-12``."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def main(argv: list[str] | None = None) -> int:
    """Run the seeds; print the JSON lines on stdout."""
    parser = argparse.ArgumentParser(prog="python -m differential", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("c", "pure"), required=True)
    parser.add_argument("--seed", type=int, action="append", default=[], help="a seed (repeatable)")
    parser.add_argument("--seeds", type=seed_list, default=[], help="seeds: 3, 0-99 or 1,5,9-12")
    parser.add_argument("--plan", action="store_true", help="print the plans only, run nothing")
    args = parser.parse_args(argv)
    seeds = args.seed + args.seeds
    if not seeds:
        parser.error("give --seed or --seeds")
    if args.mode == "pure":
        os.environ["GZMQ_PURE_PYTHON"] = "1"
    from .plan import describe, generate

    if args.plan:
        json.dump([describe(generate(seed)) for seed in seeds], sys.stdout, indent=1)
        return 0
    from .runner import accelerated, run_seed

    if accelerated() != (args.mode == "c"):
        import gzmq

        why = getattr(gzmq, "accelerator_reason", None)
        parser.exit(2, f"mode {args.mode}, but gzmq.accelerated is {accelerated()} ({why})\n")
    _line({"mode": args.mode, "accelerated": accelerated(), "seeds": seeds})
    ok = True
    for seed in seeds:
        report = run_seed(seed)
        ok = ok and report["ok"]
        _line(report)  # at once: if a seed crashes the interpreter, the others are known
    return 0 if ok else 1


def _line(data: object) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
