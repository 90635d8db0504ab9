"""Proxy forwarding: PUSH -> [PULL | proxy | PUSH] -> PULL, over tcp and inproc.

tcp, three processes: the proxy process is the contender: ``gzmq.Proxy``
(libzmq's steerable proxy, run off the hub), ``zmq.proxy`` in a thread (raw
pyzmq), ``zmq.green.device`` (a Python loop on zmq.green's poller) and, for
zmq.asyncio, which has no proxy, the usual ``recv_multipart`` /
``send_multipart`` coroutine loop.  The producer and the consumer are the
same raw pyzmq processes for every contender; the consumer (the measuring
process) starts the clock at the first message it receives.

inproc, the proxy alone: the front end's queue is filled first (no high
water mark), then the proxy is started and timed until libzmq's STATISTICS
say the back end has sent every message.  Only gzmq and raw pyzmq take part:
``gzmq.Proxy`` against ``zmq.proxy_steerable`` in a thread (``zmq.proxy`` is
libzmq's steerable proxy without a control socket, and the control socket is
what STATISTICS need).
"""

from __future__ import annotations

import asyncio
import sys
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
    if params.get("transport") == "inproc":
        return {"rate": _alone(impl, count, int(params["size"]))}
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


def _alone(impl: str, count: int, size: int) -> float:
    """The inproc variant: forward a prefilled queue of ``count`` messages; messages/s."""
    ctx = _impls.context(impl)
    try:
        front = _impls.socket(impl, ctx, "PULL", **_NO_LIMIT["PULL"][impl])
        back = _impls.socket(impl, ctx, "PUSH", **_NO_LIMIT["PUSH"][impl])
        front.bind(_impls.tcp_or_inproc("inproc"))
        back.bind(_impls.tcp_or_inproc("inproc"))
        # The producer and the consumer, on the same context; the consumer is never read.
        producer = _impls.socket(impl, ctx, "PUSH", **_NO_LIMIT["PUSH"][impl])
        consumer = _impls.socket(impl, ctx, "PULL", **_NO_LIMIT["PULL"][impl])
        producer.connect(_impls.endpoint(front))
        consumer.connect(_impls.endpoint(back))
        payload = b"x" * size
        send = producer.send
        for _ in range(count):
            send(payload)
        if impl == "gzmq":
            return _alone_gzmq(front, back, count)
        return _alone_pyzmq(ctx, front, back, count)
    finally:
        _impls.close_context(impl, ctx)


#: No high water mark on either side, in each contender's spelling.
_NO_LIMIT: dict[str, dict[str, dict[str, int]]] = {
    "PULL": {"gzmq": {"receive_high_water_mark": 0}, "pyzmq": {"rcvhwm": 0}},
    "PUSH": {"gzmq": {"send_high_water_mark": 0}, "pyzmq": {"sndhwm": 0}},
}


def _alone_gzmq(front: Any, back: Any, count: int) -> float:
    import gevent

    import gzmq

    proxy = gzmq.Proxy(front, back)
    started = time.perf_counter()
    runner = gevent.spawn(proxy.run)
    gevent.sleep(0)  # run() starts the proxy thread
    while proxy.statistics().back_end.sent_messages < count:
        gevent.sleep(0.001)
    elapsed = time.perf_counter() - started
    proxy.terminate()
    runner.get(timeout=10)
    return count / elapsed


def _alone_pyzmq(ctx: Any, front: Any, back: Any, count: int) -> float:
    control = _impls.socket("pyzmq", ctx, "PAIR")
    steer = _impls.socket("pyzmq", ctx, "PAIR")
    control.bind(_impls.tcp_or_inproc("inproc"))
    steer.connect(_impls.endpoint(control))
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
        if int.from_bytes(frames[6], sys.byteorder) >= count:  # back end: messages sent
            break
        time.sleep(0.001)
    elapsed = time.perf_counter() - started
    steer.send(b"TERMINATE")
    thread.join(10)
    return count / elapsed


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
        Variant(
            "inproc-alone", "proxy alone, prefilled queue of 64 B, inproc, one process",
            {"transport": "inproc", "size": 64, "count": 200_000}, {"count": 4_000},
            impls=("gzmq", "pyzmq"),
        ),
    ),
    measure=measure,
    targets=(
        Target(("tcp-64B", "rate"), "pyzmq", 0.9, True, note="zmq.proxy in a thread"),
        Target(
            ("inproc-alone", "rate"), "pyzmq", 0.9, True, note="zmq.proxy_steerable in a thread"
        ),
    ),
)
