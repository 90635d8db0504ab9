"""Sockets and concurrency for each contender, so that cases stay short.

The measured loops themselves are written out in each case with bound
methods (``send = sock.send``): a helper call per message would add its own
cost to what is measured.  For gzmq, pyzmq and zmq.green the loops are the
same code; zmq.asyncio has its own coroutines.  ``gzmq.green`` (the
drop-in) is not a column of the table: cases that measure it run it in the
gzmq column of a row of its own.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import zmq

__all__ = [
    "SYNC",
    "close_context",
    "context",
    "endpoint",
    "join",
    "socket",
    "spawn",
    "tcp_or_inproc",
]

#: The contenders whose calls look blocking (threads or greenlets).
SYNC = ("gzmq", "pyzmq", "zmq.green")

_names = itertools.count()


def tcp_or_inproc(transport: str) -> str:
    """A fresh endpoint to bind for ``transport`` (tcp picks a free port)."""
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "inproc":
        return f"inproc://gzmq-bench-{next(_names)}"
    raise ValueError(f"transport must be 'tcp' or 'inproc', got {transport!r}")


def context(impl: str) -> Any:
    """A new context of the contender's kind."""
    if impl == "gzmq":
        import gzmq

        return gzmq.Context()
    if impl == "pyzmq":
        return zmq.Context()
    if impl == "zmq.green":
        import zmq.green as green

        return green.Context()
    if impl == "gzmq.green":
        import gzmq.green

        return gzmq.green.Context()
    if impl == "zmq.asyncio":
        import zmq.asyncio as aio

        return aio.Context()
    raise ValueError(f"unknown contender {impl!r}")


def close_context(impl: str, ctx: Any) -> None:
    """Close every socket of ``ctx`` (linger 0) and the context."""
    if impl == "gzmq":
        ctx.close(linger=0)
    else:
        ctx.destroy(linger=0)


def socket(impl: str, ctx: Any, kind: str, **options: Any) -> Any:
    """A socket of type ``kind`` ("PUSH", "DEALER", ...) with linger 0."""
    if impl == "gzmq":
        import gzmq

        classes = {
            "PAIR": gzmq.Pair, "PUSH": gzmq.Push, "PULL": gzmq.Pull,
            "REQ": gzmq.Request, "REP": gzmq.Reply,
            "DEALER": gzmq.Dealer, "ROUTER": gzmq.Router,
        }
        return classes[kind](context=ctx, linger=0, **options)
    sock = ctx.socket(getattr(zmq, kind))
    sock.linger = 0
    for name, value in options.items():
        setattr(sock, name, value)
    return sock


def endpoint(sock: Any) -> str:
    """The endpoint a socket last bound, as text."""
    value = sock.last_endpoint
    return value.decode() if isinstance(value, bytes) else str(value)


class _Thread(threading.Thread):
    """A thread that keeps the exception its target raised."""

    def __init__(self, target: Callable[[], Any]) -> None:
        super().__init__(target=target, daemon=True)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            super().run()
        except BaseException as error:  # noqa: BLE001 - re-raised by join()
            self.error = error


def spawn(impl: str, target: Callable[[], Any]) -> Any:
    """Start ``target`` in a thread (pyzmq) or a greenlet (gzmq, zmq.green)."""
    if impl == "pyzmq":
        thread = _Thread(target)
        thread.start()
        return thread
    import gevent

    return gevent.spawn(target)


def join(impl: str, tasks: list[Any], timeout: float | None = None) -> None:
    """Wait for every task; re-raise the first error."""
    if impl == "pyzmq":
        for thread in tasks:
            thread.join(timeout)
        for thread in tasks:
            if thread.error is not None:
                raise thread.error
        return
    import gevent

    gevent.joinall(tasks, timeout=timeout, raise_error=True)
