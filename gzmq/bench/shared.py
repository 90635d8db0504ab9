"""Shared socket: 50 receivers in recv() on one PULL, against one receiver.

A PUSH in the same process (a greenlet, a thread or a task) sends 64-byte
messages over inproc, then one empty "stop" message per receiver; each
receiver loops on recv() until it gets a stop.  The clock runs from the
start to the last receiver's end.  Raw pyzmq sockets are not thread-safe and
zmq.green allows one waiting greenlet per socket, so they can only take part
with one receiver; that is reported as their result.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gzmq.bench import _impls
from gzmq.bench._model import Case, Target, Unsupported, Variant

__all__ = ["CASE", "measure"]

PAYLOAD = b"x" * 64


def measure(impl: str, params: dict[str, Any]) -> dict[str, float]:
    """Messages per second received over all receivers."""
    count = max(10, int(params["count"] * params.get("scale", {}).get(impl, 1.0)))
    receivers = int(params["receivers"])
    if impl == "pyzmq" and receivers > 1:
        raise Unsupported(
            "pyzmq sockets are not thread-safe: threads cannot share one socket"
        )
    if impl == "zmq.asyncio":
        return {"rate": asyncio.run(_run_async(count, receivers))}
    return {"rate": _run_sync(impl, count, receivers)}


def _run_sync(impl: str, count: int, receivers: int) -> float:
    ctx = _impls.context(impl)
    tasks: list[Any] = []
    try:
        pull = _impls.socket(impl, ctx, "PULL")
        pull.bind(_impls.tcp_or_inproc("inproc"))
        push = _impls.socket(impl, ctx, "PUSH")
        push.connect(_impls.endpoint(pull))
        stop = [b""] if impl == "gzmq" else b""

        def receive() -> None:
            recv = pull.recv
            while recv() != stop:
                pass

        def produce() -> None:
            send = push.send
            for _ in range(count):
                send(PAYLOAD)
            for _ in range(receivers):
                send(b"")

        started = time.perf_counter()
        tasks += [_impls.spawn(impl, receive) for _ in range(receivers)]
        tasks.append(_impls.spawn(impl, produce))
        try:
            _impls.join(impl, tasks)
        except AssertionError as error:
            # zmq.green: "Only one greenlet can be waiting on this event".
            raise Unsupported(f"{impl} fails with {receivers} waiters: {error}") from None
        return count / (time.perf_counter() - started)
    finally:
        if impl != "pyzmq":
            import gevent

            gevent.killall(tasks)  # the waiters left behind by a failure
        _impls.close_context(impl, ctx)


async def _run_async(count: int, receivers: int) -> float:
    ctx = _impls.context("zmq.asyncio")
    try:
        pull = _impls.socket("zmq.asyncio", ctx, "PULL")
        pull.bind(_impls.tcp_or_inproc("inproc"))
        push = _impls.socket("zmq.asyncio", ctx, "PUSH")
        push.connect(_impls.endpoint(pull))

        async def receive() -> None:
            recv = pull.recv
            while await recv() != b"":
                pass

        async def produce() -> None:
            send = push.send
            for _ in range(count):
                await send(PAYLOAD)
            for _ in range(receivers):
                await send(b"")

        started = time.perf_counter()
        await asyncio.gather(*[receive() for _ in range(receivers)], produce())
        return count / (time.perf_counter() - started)
    finally:
        _impls.close_context("zmq.asyncio", ctx)


_SLOW = {"zmq.green": 0.25, "zmq.asyncio": 0.25}

CASE = Case(
    name="shared",
    title="Shared socket: many receivers on one PULL",
    variants=(
        Variant(
            "one", "one PULL, 1 receiver, inproc",
            {"count": 200_000, "receivers": 1, "scale": _SLOW},
            {"count": 4_000},
        ),
        Variant(
            "fifty", "one PULL, 50 receivers, inproc",
            {"count": 200_000, "receivers": 50, "scale": _SLOW},
            {"count": 4_000},
        ),
    ),
    measure=measure,
    targets=(
        Target(
            ("fifty", "rate"), "gzmq", 0.8, True, versus=("one", "rate"),
            note="gzmq with 1 receiver",
        ),
    ),
)
