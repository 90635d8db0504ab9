"""Core speed: per-operation overhead and inproc PUSH->PULL throughput.

Run: ``python benchmarks/core.py [--repeat N]``.  Each figure is the median
of N runs, measured in one process, side by side with raw blocking pyzmq and
pyzmq's ``zmq.green`` (64-byte messages).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable

import gevent
import zmq
import zmq.green as zgreen

import gzmq

PAYLOAD = b"x" * 64


def _pyzmq_pair(module: object, name: str) -> tuple[object, object, object]:
    ctx = module.Context()  # type: ignore[attr-defined]
    a = ctx.socket(zmq.PAIR)
    b = ctx.socket(zmq.PAIR)
    a.bind(f"inproc://{name}")
    b.connect(f"inproc://{name}")
    return ctx, a, b


def overhead_raw(count: int) -> float:
    """Seconds per send+recv pair, raw blocking pyzmq."""
    ctx, a, b = _pyzmq_pair(zmq, "raw-overhead")
    send, recv = a.send, b.recv  # type: ignore[attr-defined]
    started = time.perf_counter()
    for _ in range(count):
        send(PAYLOAD)
        recv()
    elapsed = time.perf_counter() - started
    ctx.destroy(linger=0)  # type: ignore[attr-defined]
    return elapsed / count


def overhead_zmq_green(count: int) -> float:
    """Seconds per send+recv pair, pyzmq's zmq.green."""
    ctx, a, b = _pyzmq_pair(zgreen, "green-overhead")
    send, recv = a.send, b.recv  # type: ignore[attr-defined]
    started = time.perf_counter()
    for _ in range(count):
        send(PAYLOAD)
        recv()
    elapsed = time.perf_counter() - started
    ctx.destroy(linger=0)  # type: ignore[attr-defined]
    return elapsed / count


def overhead_gzmq(count: int) -> float:
    """Seconds per send+recv pair, gzmq (recv returns a list of frames)."""
    ctx = gzmq.Context()
    a = gzmq.Pair(context=ctx, linger=0)
    b = gzmq.Pair(context=ctx, linger=0)
    a.bind("inproc://gzmq-overhead")
    b.connect("inproc://gzmq-overhead")
    send, recv = a.send, b.recv
    started = time.perf_counter()
    for _ in range(count):
        send(PAYLOAD)
        recv()
    elapsed = time.perf_counter() - started
    ctx.close()
    return elapsed / count


def throughput_raw_threads(count: int) -> float:
    """Messages per second PUSH->PULL over inproc, raw pyzmq in two threads."""
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://raw-throughput")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://raw-throughput")

    def consume() -> None:
        for _ in range(count):
            pull.recv()

    thread = threading.Thread(target=consume)
    started = time.perf_counter()
    thread.start()
    for _ in range(count):
        push.send(PAYLOAD)
    thread.join()
    elapsed = time.perf_counter() - started
    ctx.destroy(linger=0)
    return count / elapsed


def _greenlet_throughput(push: object, pull: object, count: int) -> float:
    def consume() -> None:
        recv = pull.recv  # type: ignore[attr-defined]
        for _ in range(count):
            recv()

    def produce() -> None:
        send = push.send  # type: ignore[attr-defined]
        for _ in range(count):
            send(PAYLOAD)

    started = time.perf_counter()
    gevent.joinall([gevent.spawn(consume), gevent.spawn(produce)], raise_error=True)
    return count / (time.perf_counter() - started)


def throughput_zmq_green(count: int) -> float:
    """Messages per second PUSH->PULL over inproc, two greenlets on zmq.green."""
    ctx = zgreen.Context()
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://green-throughput")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://green-throughput")
    rate = _greenlet_throughput(push, pull, count)
    ctx.destroy(linger=0)
    return rate


def throughput_gzmq(count: int) -> float:
    """Messages per second PUSH->PULL over inproc, two greenlets on gzmq."""
    ctx = gzmq.Context()
    pull = gzmq.Pull(context=ctx, linger=0)
    pull.bind("inproc://gzmq-throughput")
    push = gzmq.Push(context=ctx, linger=0)
    push.connect("inproc://gzmq-throughput")
    rate = _greenlet_throughput(push, pull, count)
    ctx.close()
    return rate


def _median(function: Callable[[int], float], count: int, repeat: int) -> float:
    return statistics.median(function(count) for _ in range(repeat))


def main() -> None:
    """Print the medians and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--count", type=int, default=200_000, help="operations per run")
    args = parser.parse_args()
    count, repeat = args.count, args.repeat

    # Interleave the contenders run by run so that drift in machine speed
    # hits them alike; report medians and the median of per-run ratios.
    raws, oursl, ratios = [], [], []
    for _ in range(repeat):
        raw_run = overhead_raw(count)
        our_run = overhead_gzmq(count)
        raws.append(raw_run)
        oursl.append(our_run)
        ratios.append(our_run / raw_run)
    raw, ours = statistics.median(raws), statistics.median(oursl)
    green = _median(overhead_zmq_green, count // 10, max(3, repeat // 2))
    print("per-operation overhead, send+recv of 64 B with no waiting (median us):")
    print(f"  raw pyzmq   {raw * 1e6:7.3f}")
    print(f"  zmq.green   {green * 1e6:7.3f}   ({green / raw:.1f}x raw)")
    print(f"  gzmq        {ours * 1e6:7.3f}   ({statistics.median(ratios):.2f}x raw, "
          "median of per-run ratios)")

    raw_rate = _median(throughput_raw_threads, count, repeat)
    green_rate = _median(throughput_zmq_green, count // 4, repeat)
    our_rate = _median(throughput_gzmq, count, repeat)
    print("inproc PUSH->PULL throughput, 64 B (median msg/s):")
    print(f"  raw pyzmq, 2 threads     {raw_rate:12,.0f}")
    print(f"  zmq.green, 2 greenlets   {green_rate:12,.0f}")
    print(
        f"  gzmq, 2 greenlets        {our_rate:12,.0f}   "
        f"({our_rate / green_rate:.1f}x zmq.green, {our_rate / raw_rate:.2f}x raw)"
    )


if __name__ == "__main__":
    main()
