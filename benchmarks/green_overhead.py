"""Per-operation overhead of the pyzmq drop-in: raw pyzmq vs zmq.green vs gzmq.green.

One PAIR pair over inproc in one process; each operation is a 64-byte
``send`` followed by the ``recv`` of that message, so nothing ever waits:
what is measured is the cost each layer adds to libzmq's own calls.  Each
case is run in rounds, all in the same process and interleaved, and the
median round is reported, with the ratio to raw pyzmq.

    python benchmarks/green_overhead.py [--count N] [--rounds R] [--size B]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import gevent  # noqa: F401 - the green modules run on gevent's hub
import zmq
import zmq.green

import gzmq.green

__all__ = ["main", "run"]

_ids = itertools.count()

IMPLEMENTATIONS: dict[str, Any] = {
    "pyzmq": zmq,
    "zmq.green": zmq.green,
    "gzmq.green": gzmq.green,
}


def _pair(module: Any) -> tuple[Any, Any, Any]:
    ctx = module.Context()
    address = f"inproc://green-overhead-{next(_ids)}"
    left = ctx.socket(module.PAIR)
    right = ctx.socket(module.PAIR)
    for sock in (left, right):
        sock.linger = 0
    left.bind(address)
    right.connect(address)
    return ctx, left, right


def _single(left: Any, right: Any, payload: bytes, count: int) -> float:
    send = left.send
    recv = right.recv
    start = time.perf_counter()
    for _ in range(count):
        send(payload)
        recv()
    return time.perf_counter() - start


def _multipart(left: Any, right: Any, payload: bytes, count: int) -> float:
    send = left.send_multipart
    recv = right.recv_multipart
    message = [payload, payload]
    start = time.perf_counter()
    for _ in range(count):
        send(message)
        recv()
    return time.perf_counter() - start


CASES: dict[str, Callable[[Any, Any, bytes, int], float]] = {
    "send+recv": _single,
    "send_multipart+recv_multipart (2 frames)": _multipart,
}


def run(count: int = 100_000, rounds: int = 7, size: int = 64) -> dict[str, dict[str, float]]:
    """Median microseconds per operation, per case and implementation."""
    payload = b"x" * size
    pairs = {name: _pair(module) for name, module in IMPLEMENTATIONS.items()}
    results: dict[str, dict[str, float]] = {}
    try:
        for case, function in CASES.items():
            samples: dict[str, list[float]] = {name: [] for name in pairs}
            for _, left, right in pairs.values():
                function(left, right, payload, min(count, 2000))  # warm up
            for _ in range(rounds):
                for name, (_, left, right) in pairs.items():
                    seconds = function(left, right, payload, count)
                    samples[name].append(seconds / count * 1e6)
            results[case] = {name: statistics.median(values) for name, values in samples.items()}
    finally:
        for ctx, left, right in pairs.values():
            left.close()
            right.close()
            ctx.term()
    return results


def main(argv: list[str] | None = None) -> int:
    """Print the figures (or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="operations per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per case (median reported)")
    parser.add_argument("--size", type=int, default=64, help="message size in bytes")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.count, args.rounds, args.size)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"pyzmq {zmq.pyzmq_version()} / libzmq {zmq.zmq_version()}, "
        f"{args.size}-byte messages, inproc PAIR, median of {args.rounds} rounds"
    )
    for case, figures in results.items():
        raw = figures["pyzmq"]
        print(f"\n{case}:")
        for name, micros in figures.items():
            print(f"  {name:<11} {micros:7.3f} us   {micros / raw:5.2f}x raw")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
