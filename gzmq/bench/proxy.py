"""Proxy forwarding: PUSH -> [PULL | proxy | PUSH] -> PULL over tcp, three processes.

The proxy process is the contender: ``gzmq.Proxy`` (libzmq's steerable
proxy, run off the hub), ``zmq.proxy`` in a thread (raw pyzmq),
``zmq.green.device`` (a Python loop on zmq.green's poller) and, for
zmq.asyncio, which has no proxy, the usual ``recv_multipart`` /
``send_multipart`` coroutine loop.  The producer and the consumer are the
same raw pyzmq processes for every contender; the consumer (the measuring
process) starts the clock at the first message it receives.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import zmq

from gzmq.bench import _impls
from gzmq.bench._model import Case, Target, Variant
from gzmq.bench._process import Peer, announce

__all__ = ["CASE", "measure", "peer"]


def measure(impl: str, params: dict[str, Any]) -> dict[str, float]:
    """Messages per second through the proxy."""
    scale = params.get("scale", {}).get(impl, 1.0)
    count = max(10, int(params["count"] * scale))
    ctx = zmq.Context()
    forwarder = Peer("proxy", "forward", impl, {})
    try:
        ends = forwarder.read()
        pull = ctx.socket(zmq.PULL)
        pull.linger = 0
        pull.connect(ends["back"])
        producer_params = {"endpoint": ends["front"], "count": count + 1, "size": params["size"]}
        with Peer("proxy", "produce", "pyzmq", producer_params):
            pull.rcvtimeo = 30_000  # the first message: the peers are starting
            recv = pull.recv
            recv()
            pull.rcvtimeo = -1
            started = time.perf_counter()
            for _ in range(count):
                recv()
            return {"rate": count / (time.perf_counter() - started)}
    finally:
        forwarder.kill()
        ctx.destroy(linger=0)


def peer(role: str, impl: str, params: dict[str, Any]) -> Any:
    """``forward``: run the contender's proxy; ``produce``: send ``count`` messages."""
    if role == "produce":
        ctx = zmq.Context()
        push = ctx.socket(zmq.PUSH)
        push.connect(params["endpoint"])
        payload = b"x" * int(params["size"])
        send = push.send
        for _ in range(int(params["count"])):
            send(payload)
        return ctx, push  # alive until the worker lets go: libzmq is still sending
    if role != "forward":
        raise ValueError(f"unknown role {role!r}")
    ctx = _impls.context(impl)
    front = _impls.socket(impl, ctx, "PULL")
    back = _impls.socket(impl, ctx, "PUSH")
    for sock in (front, back):
        sock.bind("tcp://127.0.0.1:*")
    announce({"front": _impls.endpoint(front), "back": _impls.endpoint(back)})
    if impl == "gzmq":
        import gzmq

        gzmq.Proxy(front, back).run()  # blocks this greenlet; libzmq forwards in a thread
    elif impl == "pyzmq":
        thread = threading.Thread(target=zmq.proxy, args=(front, back), daemon=True)
        thread.start()
        thread.join()
    elif impl == "zmq.green":
        import zmq.green as green

        green.device(zmq.QUEUE, front, back)
    else:

        async def forward() -> None:
            recv, send = front.recv_multipart, back.send_multipart
            while True:
                await send(await recv())

        asyncio.run(forward())
    return ctx, front, back  # not reached: the worker kills the forwarder


CASE = Case(
    name="proxy",
    title="Proxy forwarding",
    variants=(
        Variant(
            "tcp-64B", "proxy PUSH->PULL 64 B, tcp, three processes",
            # A million messages (a second or two): shorter runs of three
            # processes on two cores are at the mercy of the scheduler.
            {"size": 64, "count": 1_000_000, "scale": {"zmq.green": 0.05, "zmq.asyncio": 0.05}},
            {"count": 4_000},
        ),
    ),
    measure=measure,
    targets=(Target(("tcp-64B", "rate"), "pyzmq", 0.9, True, note="zmq.proxy in a thread"),),
)
