"""Proxy speed: gzmq.Proxy against libzmq's proxy in a plain thread, side by side.

Two measurements, each in rounds that alternate the contenders (medians
reported, with the ratio gzmq / pyzmq, target >= 0.9):

``tcp``
    PUSH -> [PULL | proxy | PUSH] -> PULL over tcp, 64-byte messages: the
    producer and the consumer are raw pyzmq processes; the proxy runs in
    this process, as ``gzmq.Proxy(front, back).run()`` in a greenlet or as
    ``zmq.proxy(front, back)`` in a ``threading.Thread``.  The consumer
    times from its first message to its last.

``inproc``
    The proxy alone: the front end's queue is filled first (inproc, no
    high water mark), then the proxy is started and timed until libzmq's
    STATISTICS say the back end has sent every message.  The pyzmq
    contender is ``zmq.proxy_steerable`` in a thread (``zmq.proxy`` is
    libzmq's steerable proxy without a control socket, and the control
    socket is what STATISTICS need).

    python benchmarks/proxy.py [--mode tcp|inproc|both] [--count N] [--rounds R] [--size B]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from typing import Any

import gevent
import zmq

import gzmq


def _produce(endpoint: str, count: int, size: int) -> None:
    """(Producer process.) Send ``count`` messages, then wait until libzmq has sent them."""
    ctx = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 0
    push.connect(endpoint)
    payload = b"x" * size
    send = push.send
    for _ in range(count):
        send(payload)
    push.close(linger=-1)
    ctx.term()


def _consume(endpoint: str, count: int, results: Any) -> None:
    """(Consumer process.) Receive ``count`` messages; report messages/s after the first."""
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.rcvhwm = 0
    pull.connect(endpoint)
    recv = pull.recv
    recv()
    started = time.perf_counter()
    for _ in range(count - 1):
        recv()
    results.send((count - 1) / (time.perf_counter() - started))
    pull.close(0)
    ctx.term()


def _tcp_round(kind: str, count: int, size: int) -> float:
    """One tcp round through the ``kind`` proxy ("gzmq" or "pyzmq"); messages/s."""
    spawn = multiprocessing.get_context("spawn")
    receiver, sender = spawn.Pipe(duplex=False)
    if kind == "gzmq":
        ctx: Any = gzmq.Context()
        front: Any = gzmq.Pull(context=ctx, linger=0, receive_high_water_mark=0)
        back: Any = gzmq.Push(context=ctx, linger=0, send_high_water_mark=0)
    else:
        ctx = zmq.Context()
        front = ctx.socket(zmq.PULL)
        back = ctx.socket(zmq.PUSH)
        front.rcvhwm = back.sndhwm = 0
        front.linger = back.linger = 0
    front.bind("tcp://127.0.0.1:*")
    back.bind("tcp://127.0.0.1:*")
    front_address, back_address = front.last_endpoint, back.last_endpoint
    if isinstance(front_address, bytes):
        front_address, back_address = front_address.decode(), back_address.decode()
    consumer = spawn.Process(target=_consume, args=(back_address, count, sender))
    producer = spawn.Process(target=_produce, args=(front_address, count, size))
    if kind == "gzmq":
        proxy = gzmq.Proxy(front, back)
        runner: Any = gevent.spawn(proxy.run)
        gevent.sleep(0)
    else:

        def forward() -> None:
            try:
                zmq.proxy(front, back)
            except zmq.ContextTerminated:
                pass
            front.close(0)
            back.close(0)

        runner = threading.Thread(target=forward, daemon=True)
        runner.start()
    consumer.start()
    producer.start()
    try:
        # Waiting off the hub: the proxy greenlet's hub stays free meanwhile.
        rate: float = gevent.get_hub().threadpool.apply(receiver.recv)
    finally:
        producer.join(60)
        consumer.join(60)
        if kind == "gzmq":
            proxy.terminate()
            runner.get(timeout=10)
            ctx.close()
        else:
            ctx.term()  # ends zmq.proxy with ETERM; the thread closes the sockets
            runner.join(10)
    return rate


def _inproc_round(kind: str, count: int, size: int) -> float:
    """One proxy-only round: forward a prefilled queue of ``count`` messages; messages/s."""
    payload = b"x" * size
    if kind == "gzmq":
        ctx: Any = gzmq.Context()
        raw: Any = ctx._zmq  # the producer and consumer: raw sockets on the same context
        front: Any = gzmq.Pull(context=ctx, linger=0, receive_high_water_mark=0)
        back: Any = gzmq.Push(context=ctx, linger=0, send_high_water_mark=0)
    else:
        raw = ctx = zmq.Context()
        front = ctx.socket(zmq.PULL)
        back = ctx.socket(zmq.PUSH)
        front.rcvhwm = back.sndhwm = 0
        front.linger = back.linger = 0
    suffix = f"{kind}-{time.monotonic_ns()}"
    front.bind(f"inproc://front-{suffix}")
    back.bind(f"inproc://back-{suffix}")
    producer = raw.socket(zmq.PUSH)
    consumer = raw.socket(zmq.PULL)
    producer.sndhwm = consumer.rcvhwm = 0
    producer.linger = consumer.linger = 0
    producer.connect(f"inproc://front-{suffix}")
    consumer.connect(f"inproc://back-{suffix}")
    send = producer.send
    for _ in range(count):
        send(payload)
    try:
        if kind == "gzmq":
            proxy = gzmq.Proxy(front, back)
            started = time.perf_counter()
            runner = gevent.spawn(proxy.run)
            gevent.sleep(0)  # run() starts the proxy thread
            while proxy.statistics().back_end.sent_messages < count:
                gevent.sleep(0.001)
            elapsed = time.perf_counter() - started
            proxy.terminate()
            runner.get(timeout=10)
        else:
            control = ctx.socket(zmq.PAIR)
            steer = ctx.socket(zmq.PAIR)
            control.bind(f"inproc://control-{suffix}")
            steer.connect(f"inproc://control-{suffix}")
            thread = threading.Thread(
                target=zmq.proxy_steerable, args=(front, back, None, control), daemon=True
            )
            started = time.perf_counter()
            thread.start()
            while True:
                steer.send(b"STATISTICS")
                frames = steer.recv_multipart()
                while len(frames) != 8:  # libzmq 4.3.5 also answers other commands
                    frames = steer.recv_multipart()
                if int.from_bytes(frames[6], sys.byteorder) >= count:
                    break
                time.sleep(0.001)
            elapsed = time.perf_counter() - started
            steer.send(b"TERMINATE")
            thread.join(10)
            for sock in (front, back, control, steer):
                sock.close(0)
    finally:
        producer.close(0)
        consumer.close(0)
        if kind == "gzmq":
            ctx.close()
        else:
            ctx.term()
    return count / elapsed


def _measure(mode: str, rounds: int, count: int, size: int) -> dict[str, list[float]]:
    measure = _tcp_round if mode == "tcp" else _inproc_round
    rates: dict[str, list[float]] = {"gzmq": [], "pyzmq": []}
    for kind in rates:  # warm-up, not counted: first threads, first connections
        measure(kind, max(1000, count // 10), size)
    for index in range(rounds):
        order = ("gzmq", "pyzmq") if index % 2 == 0 else ("pyzmq", "gzmq")
        for kind in order:
            rates[kind].append(measure(kind, count, size))
    return rates


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print the medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("tcp", "inproc", "both"), default="both")
    parser.add_argument("--count", type=int, default=200_000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per contender")
    parser.add_argument("--size", type=int, default=64, help="message size in bytes")
    args = parser.parse_args(argv)
    modes = ("tcp", "inproc") if args.mode == "both" else (args.mode,)
    print(f"libzmq {zmq.zmq_version()}, pyzmq {zmq.pyzmq_version()}, gevent {gevent.__version__}")
    print(f"{args.count} messages of {args.size} B, {args.rounds} rounds per contender")
    worst = float("inf")
    for mode in modes:
        rates = _measure(mode, args.rounds, args.count, args.size)
        gzmq_rate = statistics.median(rates["gzmq"])
        pyzmq_rate = statistics.median(rates["pyzmq"])
        ratio = gzmq_rate / pyzmq_rate
        worst = min(worst, ratio)
        label = "zmq.proxy thread" if mode == "tcp" else "zmq.proxy_steerable thread"
        print(f"{mode:>6}: gzmq.Proxy {gzmq_rate:12,.0f} msg/s   {label} "
              f"{pyzmq_rate:12,.0f} msg/s   ratio {ratio:.2f}")
        print(f"        rounds gzmq  {[round(rate) for rate in rates['gzmq']]}")
        print(f"        rounds pyzmq {[round(rate) for rate in rates['pyzmq']]}")
    print(f"target ratio >= 0.90: {'met' if worst >= 0.9 else 'NOT met'} (worst {worst:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
