"""Per-operation overhead: a 64-byte send then the recv of it, nothing ever waits.

One PAIR pair over inproc in one process and one thread; what is measured is
what each layer adds to libzmq's own calls (microseconds per send+recv).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gzmq.bench import _impls
from gzmq.bench._model import Case, Metric, Target, Variant

__all__ = ["CASE", "measure"]

PAYLOAD = b"x" * 64


def measure(impl: str, params: dict[str, Any]) -> dict[str, float]:
    """Microseconds per send+recv pair."""
    count = max(10, int(params["count"] * params.get("scale", {}).get(impl, 1.0)))
    ctx = _impls.context(impl)
    try:
        left = _impls.socket(impl, ctx, "PAIR")
        left.bind(_impls.tcp_or_inproc("inproc"))
        right = _impls.socket(impl, ctx, "PAIR")
        right.connect(_impls.endpoint(left))
        if impl == "zmq.asyncio":
            elapsed = asyncio.run(_pairs_async(left, right, count))
        else:
            elapsed = _pairs(left, right, count)
        return {"time": elapsed / count * 1e6}
    finally:
        _impls.close_context(impl, ctx)


def _pairs(left: Any, right: Any, count: int) -> float:
    send, recv = left.send, right.recv
    for _ in range(min(count, 1000)):  # warm-up
        send(PAYLOAD)
        recv()
    started = time.perf_counter()
    for _ in range(count):
        send(PAYLOAD)
        recv()
    return time.perf_counter() - started


async def _pairs_async(left: Any, right: Any, count: int) -> float:
    send, recv = left.send, right.recv
    for _ in range(min(count, 1000)):
        await send(PAYLOAD)
        await recv()
    started = time.perf_counter()
    for _ in range(count):
        await send(PAYLOAD)
        await recv()
    return time.perf_counter() - started


CASE = Case(
    name="overhead",
    title="Per-operation overhead",
    variants=(
        Variant(
            "pair", "send+recv 64 B, no waiting",
            {"count": 200_000, "scale": {"zmq.green": 0.1, "zmq.asyncio": 0.1}},
            {"count": 5_000},
            metrics=(Metric("time", "", "us", False),),
        ),
    ),
    measure=measure,
    targets=(Target(("pair", "time"), "pyzmq", 1.5, False),),
)
