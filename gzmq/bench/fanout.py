"""Fan-out: many clients, each with its own DEALER, against one ROUTER.

1,000 clients (greenlets for gzmq and zmq.green, threads for raw pyzmq,
tasks for zmq.asyncio), each sending 20 requests one after the other to an
echoing ROUTER in the same process (inproc).  Sockets are made and connected
before the clock starts; every client then waits for one start signal.
Reports requests per second and the process's peak RSS (each run is a fresh
process, so the peak is this run's).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from typing import Any

from gzmq.bench import _impls
from gzmq.bench._model import Case, Metric, Target, Variant
from gzmq.bench._process import peak_rss_mib

__all__ = ["CASE", "measure"]

PAYLOAD = b"x" * 64


def measure(impl: str, params: dict[str, Any]) -> dict[str, float]:
    """Requests per second over all clients, and peak RSS in MiB."""
    clients, requests = int(params["clients"]), int(params["requests"])
    if impl == "zmq.asyncio":
        elapsed = asyncio.run(_run_async(clients, requests, params["transport"]))
    else:
        elapsed = _run_sync(impl, clients, requests, params["transport"])
    return {"rate": clients * requests / elapsed, "rss": peak_rss_mib()}


def _start_signal(impl: str) -> Any:
    if impl == "pyzmq":
        return threading.Event()
    import gevent.event

    return gevent.event.Event()


def _run_sync(impl: str, clients: int, requests: int, transport: str) -> float:
    ctx = _impls.context(impl)
    try:
        router = _impls.socket(impl, ctx, "ROUTER")
        router.bind(_impls.tcp_or_inproc(transport))
        address = _impls.endpoint(router)
        dealers = []
        for _ in range(clients):
            dealer = _impls.socket(impl, ctx, "DEALER")
            dealer.connect(address)
            dealers.append(dealer)
        go = _start_signal(impl)
        total = clients * requests

        if impl == "gzmq":

            def serve() -> None:
                recv, send = router.recv, router.send
                go.wait()
                for _ in range(total):
                    send(recv())
        else:

            def serve() -> None:
                recv, send = router.recv_multipart, router.send_multipart
                go.wait()
                for _ in range(total):
                    send(recv())

        def client(dealer: Any) -> None:
            send, recv = dealer.send, dealer.recv
            go.wait()
            for _ in range(requests):
                send(PAYLOAD)
                recv()

        tasks = [_impls.spawn(impl, serve)]
        tasks += [_impls.spawn(impl, functools.partial(client, dealer)) for dealer in dealers]
        if impl != "pyzmq":
            import gevent

            gevent.sleep(0)  # let every greenlet reach go.wait()
        started = time.perf_counter()
        go.set()
        _impls.join(impl, tasks)
        return time.perf_counter() - started
    finally:
        _impls.close_context(impl, ctx)


async def _run_async(clients: int, requests: int, transport: str) -> float:
    ctx = _impls.context("zmq.asyncio")
    try:
        router = _impls.socket("zmq.asyncio", ctx, "ROUTER")
        router.bind(_impls.tcp_or_inproc(transport))
        address = _impls.endpoint(router)
        dealers = []
        for _ in range(clients):
            dealer = _impls.socket("zmq.asyncio", ctx, "DEALER")
            dealer.connect(address)
            dealers.append(dealer)
        go = asyncio.Event()
        total = clients * requests

        async def serve() -> None:
            recv, send = router.recv_multipart, router.send_multipart
            await go.wait()
            for _ in range(total):
                await send(await recv())

        async def client(dealer: Any) -> None:
            send, recv = dealer.send, dealer.recv
            await go.wait()
            for _ in range(requests):
                await send(PAYLOAD)
                await recv()

        tasks = [asyncio.ensure_future(serve())]
        tasks += [asyncio.ensure_future(client(dealer)) for dealer in dealers]
        await asyncio.sleep(0)
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - started
    finally:
        _impls.close_context("zmq.asyncio", ctx)


CASE = Case(
    name="fanout",
    title="Fan-out: one DEALER per client against one ROUTER",
    variants=(
        Variant(
            "1000x20", "fan-out, 1,000 DEALER clients x 20 requests, inproc",
            {"clients": 1000, "requests": 20, "transport": "inproc"},
            {"clients": 100, "requests": 5},
            metrics=(
                Metric("rate", "", "req/s", True),
                Metric("rss", "peak RSS", "MiB", False),
            ),
            fresh=True,
        ),
    ),
    measure=measure,
    targets=(
        Target(("1000x20", "rate"), "zmq.green", 3.0, True),
        Target(("1000x20", "rate"), "pyzmq", 1.5, True, note="pyzmq (1,000 threads)"),
    ),
)
