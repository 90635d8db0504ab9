"""Green ``proxy``, ``proxy_steerable`` and ``device``: libzmq's proxy off the hub thread.

libzmq's ``zmq_proxy`` blocks its thread until the context is terminated
(or, steerable, until TERMINATE arrives on the control socket).  Here it
runs in a thread of gevent's threadpool (the pool grows by one while it
runs, so DNS lookups and other pool work are not starved) and only the
calling greenlet waits.  While it runs, its sockets belong to that thread:
any other use of a green socket among them raises
:class:`gzmq.InvalidThreadUseError` instead of racing with the proxy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zmq
from gevent._hub_local import get_hub_if_exists
from zmq.backend import proxy as _proxy
from zmq.backend import proxy_steerable as _proxy_steerable

from gzmq.errors import InvalidThreadUseError
from gzmq.green._state import BUSY_STREAK, State, state_of, waiting_here

__all__ = ["device", "proxy", "proxy_steerable"]


def _claim(sockets: tuple[Any, ...]) -> list[State]:
    """Reserve the green sockets among ``sockets`` for the proxy thread."""
    claimed: list[State] = []
    seen: set[int] = set()
    try:
        for sock in sockets:
            if sock is None or id(sock) in seen:
                continue
            seen.add(id(sock))
            state = state_of(sock)
            if state is None:
                continue
            waiting = waiting_here(state)
            if waiting.closed:
                raise zmq.ZMQError(zmq.ENOTSOCK, "Socket is closed")
            if waiting.readers or waiting.writers:
                raise InvalidThreadUseError(
                    f"cannot start a proxy on {sock!r}: other greenlets are waiting on it"
                )
            state.busy = (
                f"{sock!r} is in use by a running proxy; it can be used again "
                "when the proxy returns"
            )
            waiting.streak = BUSY_STREAK
            claimed.append(state)
    except BaseException:
        _release(claimed)
        raise
    return claimed


def _release(claimed: list[State]) -> None:
    for state in claimed:
        state.busy = None
        state.waiting.streak = 0


def _off_hub(function: Callable[..., Any], sockets: tuple[Any, ...]) -> Any:
    """Run ``function(*sockets)`` in the threadpool; only this greenlet waits for it."""
    claimed = _claim(sockets)
    hub = get_hub_if_exists()
    if hub is None:
        # A thread without gevent: blocking it is what the caller asked for.
        try:
            return function(*sockets)
        finally:
            _release(claimed)
    pool = hub.threadpool
    try:
        pool.maxsize += 1
        try:
            result = pool.spawn(function, *sockets)
        except BaseException:
            pool.maxsize -= 1
            raise
    except BaseException:
        _release(claimed)
        raise

    def finished(_: Any) -> None:
        # In the hub, once the proxy thread has really returned (even if the
        # waiting greenlet was killed meanwhile).
        _release(claimed)
        pool.maxsize = max(pool.maxsize - 1, 0)

    result.rawlink(finished)
    return result.get()


def proxy(
    frontend: zmq.Socket[Any], backend: zmq.Socket[Any], capture: zmq.Socket[Any] | None = None
) -> Any:
    """Start libzmq's proxy between ``frontend`` and ``backend``; block only this greenlet.

    Returns (or raises zmq.ContextTerminated) when the context is terminated.
    """
    return _off_hub(_proxy, (frontend, backend, capture))


def proxy_steerable(
    frontend: zmq.Socket[Any],
    backend: zmq.Socket[Any],
    capture: zmq.Socket[Any] | None = None,
    control: zmq.Socket[Any] | None = None,
) -> Any:
    """libzmq's steerable proxy (PAUSE/RESUME/TERMINATE/STATISTICS on ``control``), off the hub."""
    return _off_hub(_proxy_steerable, (frontend, backend, capture, control))


def device(device_type: int, frontend: zmq.Socket[Any], backend: zmq.Socket[Any]) -> Any:
    """Deprecated alias of :func:`proxy`, as pyzmq's ``zmq.device`` (``device_type`` is ignored)."""
    return proxy(frontend, backend)
