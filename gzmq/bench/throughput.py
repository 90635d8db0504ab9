"""Throughput PUSH->PULL, 64 B and 64 KiB: inproc in one process, tcp across two.

inproc: a sender and a receiver in one process (two greenlets for gzmq and
zmq.green, two threads for raw pyzmq, two tasks for zmq.asyncio); the clock
runs from the start of both to the last message received.  tcp: the
receiver is in the measuring process, the sender in a peer process of the
same contender.  Every measurement starts with an untimed warm-up of a tenth
as many messages (for tcp: the first messages received, so process start-up
is not counted either).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gzmq.bench import _impls
from gzmq.bench._model import Case, Target, Variant
from gzmq.bench._process import Peer

__all__ = ["CASE", "measure", "peer"]

KIB64 = 64 * 1024


def _count(impl: str, params: dict[str, Any]) -> int:
    scale = params.get("scale", {}).get(impl, 1.0)
    return max(10, int(params["count"] * scale))


def measure(impl: str, params: dict[str, Any]) -> dict[str, float]:
    """Messages per second received (after an untimed warm-up of a tenth as many)."""
    count = _count(impl, params)
    warmup = max(1, count // 10)
    size = int(params["size"])
    if params["transport"] == "inproc":
        if impl == "zmq.asyncio":
            return {"rate": asyncio.run(_inproc_async(warmup, count, size))}
        return {"rate": _inproc_sync(impl, warmup, count, size)}
    if impl == "zmq.asyncio":
        return {"rate": asyncio.run(_tcp_async(warmup, count, size))}
    return {"rate": _tcp_sync(impl, warmup, count, size)}


def _inproc_sync(impl: str, warmup: int, count: int, size: int) -> float:
    payload = b"x" * size
    ctx = _impls.context(impl)
    try:
        pull = _impls.socket(impl, ctx, "PULL")
        pull.bind(_impls.tcp_or_inproc("inproc"))
        push = _impls.socket(impl, ctx, "PUSH")
        push.connect(_impls.endpoint(pull))

        def run(messages: int) -> float:
            def consume() -> None:
                recv = pull.recv
                for _ in range(messages):
                    recv()

            def produce() -> None:
                send = push.send
                for _ in range(messages):
                    send(payload)

            started = time.perf_counter()
            tasks = [_impls.spawn(impl, consume), _impls.spawn(impl, produce)]
            _impls.join(impl, tasks)
            return time.perf_counter() - started

        run(warmup)
        return count / run(count)
    finally:
        _impls.close_context(impl, ctx)


async def _inproc_async(warmup: int, count: int, size: int) -> float:
    payload = b"x" * size
    ctx = _impls.context("zmq.asyncio")
    try:
        pull = _impls.socket("zmq.asyncio", ctx, "PULL")
        pull.bind(_impls.tcp_or_inproc("inproc"))
        push = _impls.socket("zmq.asyncio", ctx, "PUSH")
        push.connect(_impls.endpoint(pull))

        async def consume(messages: int) -> None:
            recv = pull.recv
            for _ in range(messages):
                await recv()

        async def produce(messages: int) -> None:
            send = push.send
            for _ in range(messages):
                await send(payload)

        await asyncio.gather(consume(warmup), produce(warmup))
        started = time.perf_counter()
        await asyncio.gather(consume(count), produce(count))
        return count / (time.perf_counter() - started)
    finally:
        _impls.close_context("zmq.asyncio", ctx)


def _tcp_sync(impl: str, warmup: int, count: int, size: int) -> float:
    ctx = _impls.context(impl)
    try:
        pull = _impls.socket(impl, ctx, "PULL")
        pull.bind(_impls.tcp_or_inproc("tcp"))
        params = {"endpoint": _impls.endpoint(pull), "count": warmup + count, "size": size}
        with Peer("throughput", "send", impl, params):
            recv = pull.recv
            for _ in range(warmup):
                recv()
            started = time.perf_counter()
            for _ in range(count):
                recv()
            return count / (time.perf_counter() - started)
    finally:
        _impls.close_context(impl, ctx)


async def _tcp_async(warmup: int, count: int, size: int) -> float:
    ctx = _impls.context("zmq.asyncio")
    try:
        pull = _impls.socket("zmq.asyncio", ctx, "PULL")
        pull.bind(_impls.tcp_or_inproc("tcp"))
        params = {"endpoint": _impls.endpoint(pull), "count": warmup + count, "size": size}
        with Peer("throughput", "send", "zmq.asyncio", params):
            recv = pull.recv
            for _ in range(warmup):
                await recv()
            started = time.perf_counter()
            for _ in range(count):
                await recv()
            return count / (time.perf_counter() - started)
    finally:
        _impls.close_context("zmq.asyncio", ctx)


def peer(role: str, impl: str, params: dict[str, Any]) -> Any:
    """The sending process of the tcp variants: send ``count`` messages."""
    if role != "send":
        raise ValueError(f"unknown role {role!r}")
    payload = b"x" * int(params["size"])
    count = int(params["count"])
    ctx = _impls.context(impl)
    push = _impls.socket(impl, ctx, "PUSH")
    push.connect(params["endpoint"])
    if impl == "zmq.asyncio":

        async def produce() -> None:
            send = push.send
            for _ in range(count):
                await send(payload)

        asyncio.run(produce())
    else:
        send = push.send
        for _ in range(count):
            send(payload)
    return ctx, push  # alive until the worker lets go: libzmq is still sending


_SLOW = {"zmq.green": 0.25, "zmq.asyncio": 0.25}

CASE = Case(
    name="throughput",
    title="Throughput PUSH->PULL",
    variants=(
        Variant(
            "inproc-64B", "inproc PUSH->PULL 64 B, one process",
            {"transport": "inproc", "size": 64, "count": 200_000, "scale": _SLOW},
            {"count": 4_000},
        ),
        Variant(
            "inproc-64KiB", "inproc PUSH->PULL 64 KiB, one process",
            {"transport": "inproc", "size": KIB64, "count": 20_000, "scale": _SLOW},
            {"count": 500},
        ),
        Variant(
            "tcp-64B", "tcp PUSH->PULL 64 B, two processes",
            {"transport": "tcp", "size": 64, "count": 200_000, "scale": _SLOW},
            {"count": 4_000},
        ),
        Variant(
            "tcp-64KiB", "tcp PUSH->PULL 64 KiB, two processes",
            {"transport": "tcp", "size": KIB64, "count": 20_000, "scale": _SLOW},
            {"count": 500},
        ),
    ),
    measure=measure,
    targets=(
        Target(("inproc-64B", "rate"), "pyzmq", 2.5, True, note="pyzmq (2 threads)"),
        Target(("inproc-64B", "rate"), "zmq.green", 15.0, True),
        Target(("tcp-64B", "rate"), "pyzmq", 0.9, True),
        Target(("tcp-64KiB", "rate"), "pyzmq", 0.9, True),
        Target(("inproc-64KiB", "rate"), "pyzmq", 0.9, True),
    ),
)
