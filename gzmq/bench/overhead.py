"""Per-operation overhead: a 64-byte send then the recv of it, nothing ever waits.

One PAIR pair over inproc in one process and one thread; what is measured is
what each layer adds to libzmq's own calls (microseconds per send+recv, or
per send_multipart+recv_multipart of two 64-byte frames).  Rows that only
gzmq runs put another of gzmq's faces in its column, with ratios against the
other contenders' figures of the plain row: its pure-Python core
(GZMQ_PURE_PYTHON=1, in a worker process of its own since the core is chosen
at import) and the drop-in gzmq.green.
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
    """Microseconds per send+recv (or multipart send+recv) pair."""
    count = max(10, int(params["count"] * params.get("scale", {}).get(impl, 1.0)))
    api = params.get("api", impl)  # "gzmq.green": the drop-in, in the gzmq column
    if "pure" in params:
        import gzmq

        if gzmq.accelerated == params["pure"]:
            raise RuntimeError(
                f"gzmq's C accelerator is {'on' if gzmq.accelerated else 'off'} "
                f"({gzmq.accelerator_reason}) in a row that measures it "
                f"{'off' if params['pure'] else 'on'}"
            )
    frames = int(params.get("frames", 1))
    ctx = _impls.context(api)
    try:
        left = _impls.socket(api, ctx, "PAIR")
        left.bind(_impls.tcp_or_inproc("inproc"))
        right = _impls.socket(api, ctx, "PAIR")
        right.connect(_impls.endpoint(left))
        if impl == "zmq.asyncio":
            elapsed = asyncio.run(_pairs_async(left, right, count, frames))
        else:
            elapsed = _pairs(api, left, right, count, frames)
        return {"time": elapsed / count * 1e6}
    finally:
        _impls.close_context(api, ctx)


def _methods(api: str, left: Any, right: Any, frames: int) -> tuple[Any, Any, Any]:
    """The bound send and recv methods and the message for ``frames`` frames."""
    if frames == 1:
        return left.send, right.recv, PAYLOAD
    message = [PAYLOAD] * frames
    if api == "gzmq":  # the typed API: send() takes a list of frames, recv() returns one
        return left.send, right.recv, message
    return left.send_multipart, right.recv_multipart, message


def _pairs(api: str, left: Any, right: Any, count: int, frames: int) -> float:
    send, recv, message = _methods(api, left, right, frames)
    for _ in range(min(count, 1000)):  # warm-up
        send(message)
        recv()
    started = time.perf_counter()
    for _ in range(count):
        send(message)
        recv()
    return time.perf_counter() - started


async def _pairs_async(left: Any, right: Any, count: int, frames: int) -> float:
    send, recv, message = _methods("zmq.asyncio", left, right, frames)
    for _ in range(min(count, 1000)):
        await send(message)
        await recv()
    started = time.perf_counter()
    for _ in range(count):
        await send(message)
        await recv()
    return time.perf_counter() - started


_TIME = (Metric("time", "", "us", False),)
_SLOW = {"zmq.green": 0.1, "zmq.asyncio": 0.1}

CASE = Case(
    name="overhead",
    title="Per-operation overhead",
    variants=(
        Variant(
            "pair", "send+recv 64 B, no waiting",
            {"count": 200_000, "scale": _SLOW}, {"count": 5_000}, metrics=_TIME,
        ),
        Variant(
            "pure", "send+recv 64 B, no waiting, gzmq's pure-Python core (GZMQ_PURE_PYTHON=1)",
            {"count": 200_000, "pure": True}, {"count": 5_000}, metrics=_TIME,
            impls=("gzmq",), env={"GZMQ_PURE_PYTHON": "1"}, versus="pair",
        ),
        Variant(
            "green", "send+recv 64 B, no waiting, the drop-in gzmq.green",
            {"count": 200_000, "api": "gzmq.green"}, {"count": 5_000}, metrics=_TIME,
            impls=("gzmq",), versus="pair",
        ),
        Variant(
            "multipart", "send+recv of 2 frames of 64 B, no waiting",
            {"count": 200_000, "frames": 2, "scale": _SLOW}, {"count": 5_000}, metrics=_TIME,
        ),
        Variant(
            "green-multipart", "send+recv of 2 frames of 64 B, no waiting, gzmq.green",
            {"count": 200_000, "frames": 2, "api": "gzmq.green"}, {"count": 5_000},
            metrics=_TIME, impls=("gzmq",), versus="multipart",
        ),
    ),
    measure=measure,
    targets=(
        Target(("pair", "time"), "pyzmq", 1.5, False),
        Target(
            ("pure", "time"), "pyzmq", 2.5, False, versus=("pair", "time"),
            note="pyzmq (issue 18)",
        ),
    ),
)
