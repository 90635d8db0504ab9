"""REQ/REP round-trip latency: tcp across two processes, inproc in one.

The measuring process holds the REQ and times every round trip of a 64-byte
request (after a warm-up); the REP echoes it.  tcp: the REP is a peer
process of the same contender.  inproc: the REP runs in a greenlet (gzmq,
zmq.green), a thread (raw pyzmq) or a task (zmq.asyncio) of the same process.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from gzmq.bench import _impls
from gzmq.bench._model import Case, Metric, Target, Variant
from gzmq.bench._process import Peer

__all__ = ["CASE", "measure", "peer"]

PAYLOAD = b"x" * 64


def _figures(samples: list[int]) -> dict[str, float]:
    """mean, p50 and p99 in microseconds from nanosecond samples."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "mean": statistics.fmean(ordered) / 1000.0,
        "p50": statistics.median(ordered) / 1000.0,
        "p99": p99 / 1000.0,
    }


def measure(impl: str, params: dict[str, Any]) -> dict[str, float]:
    """Round-trip mean, p50 and p99 (microseconds)."""
    count, warmup = int(params["count"]), int(params["warmup"])
    tcp = params["transport"] == "tcp"
    if impl == "zmq.asyncio":
        return _figures(asyncio.run(_client_async(tcp, warmup, count)))
    return _figures(_client_sync(impl, tcp, warmup, count))


def _client_sync(impl: str, tcp: bool, warmup: int, count: int) -> list[int]:
    ctx = _impls.context(impl)
    peer_process: Peer | None = None
    try:
        req = _impls.socket(impl, ctx, "REQ")
        req.bind(_impls.tcp_or_inproc("tcp" if tcp else "inproc"))
        address = _impls.endpoint(req)
        total = warmup + count
        if tcp:
            peer_process = Peer("latency", "echo", impl, {"endpoint": address, "count": total})
            server = None
        else:
            rep = _impls.socket(impl, ctx, "REP")
            rep.connect(address)

            def echo() -> None:
                recv, send = rep.recv, rep.send
                for _ in range(total):
                    send(recv())

            server = _impls.spawn(impl, echo)
        send, recv = req.send, req.recv
        for _ in range(warmup):
            send(PAYLOAD)
            recv()
        clock = time.perf_counter_ns
        samples: list[int] = []
        append = samples.append
        for _ in range(count):
            started = clock()
            send(PAYLOAD)
            recv()
            append(clock() - started)
        if server is not None:
            _impls.join(impl, [server])
        return samples
    finally:
        if peer_process is not None:
            peer_process.__exit__(None, None, None)
        _impls.close_context(impl, ctx)


async def _client_async(tcp: bool, warmup: int, count: int) -> list[int]:
    ctx = _impls.context("zmq.asyncio")
    peer_process: Peer | None = None
    try:
        req = _impls.socket("zmq.asyncio", ctx, "REQ")
        req.bind(_impls.tcp_or_inproc("tcp" if tcp else "inproc"))
        address = _impls.endpoint(req)
        total = warmup + count
        server: asyncio.Task[None] | None = None
        if tcp:
            peer_process = Peer(
                "latency", "echo", "zmq.asyncio", {"endpoint": address, "count": total}
            )
        else:
            rep = _impls.socket("zmq.asyncio", ctx, "REP")
            rep.connect(address)

            async def echo() -> None:
                recv, send = rep.recv, rep.send
                for _ in range(total):
                    await send(await recv())

            server = asyncio.ensure_future(echo())
        send, recv = req.send, req.recv
        for _ in range(warmup):
            await send(PAYLOAD)
            await recv()
        clock = time.perf_counter_ns
        samples: list[int] = []
        append = samples.append
        for _ in range(count):
            started = clock()
            await send(PAYLOAD)
            await recv()
            append(clock() - started)
        if server is not None:
            await server
        return samples
    finally:
        if peer_process is not None:
            peer_process.__exit__(None, None, None)
        _impls.close_context("zmq.asyncio", ctx)


def peer(role: str, impl: str, params: dict[str, Any]) -> Any:
    """The REP process of the tcp variant: echo ``count`` requests."""
    if role != "echo":
        raise ValueError(f"unknown role {role!r}")
    count = int(params["count"])
    ctx = _impls.context(impl)
    rep = _impls.socket(impl, ctx, "REP")
    rep.connect(params["endpoint"])
    if impl == "zmq.asyncio":

        async def echo() -> None:
            recv, send = rep.recv, rep.send
            for _ in range(count):
                await send(await recv())

        asyncio.run(echo())
    else:
        recv, send = rep.recv, rep.send
        for _ in range(count):
            send(recv())
    return ctx, rep  # alive until the worker lets go: the last reply may be in flight


_METRICS = (
    Metric("mean", "mean", "us", False),
    Metric("p50", "p50", "us", False),
    Metric("p99", "p99", "us", False),
)

CASE = Case(
    name="latency",
    title="REQ/REP round trip",
    variants=(
        Variant(
            "tcp", "tcp REQ/REP round trip, two processes",
            {"transport": "tcp", "count": 20_000, "warmup": 500},
            {"count": 500, "warmup": 50},
            metrics=_METRICS,
        ),
        Variant(
            "inproc", "inproc REQ/REP round trip, one process",
            {"transport": "inproc", "count": 20_000, "warmup": 500},
            {"count": 500, "warmup": 50},
            metrics=_METRICS,
        ),
    ),
    measure=measure,
    targets=(
        Target(("tcp", "p50"), "pyzmq", 1.15, False),
        Target(("inproc", "p50"), "pyzmq", 1.5, False, note="pyzmq (2 threads)"),
    ),
)
