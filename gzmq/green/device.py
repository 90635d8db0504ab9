"""Green ``proxy``, ``proxy_steerable`` and ``device``: libzmq's proxy off the hub thread.

libzmq's ``zmq_proxy`` blocks its thread until the context is terminated
(or, steerable, until TERMINATE arrives on the control socket).  Here it
runs in a thread of gevent's threadpool (the pool grows by one while it
runs, so DNS lookups and other pool work are not starved) and only the
calling greenlet waits.  While it runs, its sockets belong to that thread:
any other use of a green socket among them raises
:class:`gzmq.InvalidThreadUseError` instead of racing with the proxy.

``proxy`` and ``device`` run libzmq's steerable proxy with a private control
socket, so that killing the calling greenlet stops the proxy (as killing
zmq.green's device does) and frees the sockets.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import zmq
from gevent._hub_local import get_hub_if_exists
from zmq.backend import proxy as _proxy
from zmq.backend import proxy_steerable as _proxy_steerable

from gzmq._ownership import LENT
from gzmq.errors import InvalidThreadUseError
from gzmq.green._state import State, state_of, waiting_here

_PlainSocket = zmq.Socket  # pyzmq's own class (gzmq.green is imported before any patch)
_ids = itertools.count()

__all__ = ["device", "proxy", "proxy_steerable"]


def _claim(sockets: tuple[Any, ...]) -> list[tuple[State, int]]:
    """Lend the green sockets among ``sockets`` to the proxy thread (with their owners)."""
    claimed: list[tuple[State, int]] = []
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
            if waiting.readers or waiting.writers:
                raise InvalidThreadUseError(
                    f"cannot start a proxy on {sock!r}: other greenlets are waiting on it"
                )
            # Every call on the socket raises this while the proxy has it.
            waiting.holder = (
                f"{sock!r} is in use by a running proxy; it can be used again "
                "when the proxy returns"
            )
            claimed.append((state, waiting.owner))
            waiting.owner = LENT
    except BaseException:
        _release(claimed)
        raise
    return claimed


def _release(claimed: list[tuple[State, int]]) -> None:
    for state, owner in claimed:
        waiting = state.waiting
        waiting.holder = None
        if waiting.owner == LENT:
            waiting.owner = owner


def _steering_pair(context: Any) -> tuple[Any, Any] | None:
    """A private control socket for the proxy, and the PAIR that can send it TERMINATE."""
    if context is None or context.closed:
        return None
    address = f"inproc://gzmq-green-proxy-{os.getpid()}-{next(_ids)}"
    control = _PlainSocket(context, zmq.PAIR)
    steer = _PlainSocket(context, zmq.PAIR)
    for sock in (control, steer):
        sock.linger = 0
    control.bind(address)
    steer.connect(address)
    return control, steer


def _outcome(function: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """In the proxy thread: ``(True, result)``, or ``(False, error)`` for its caller to raise.

    gevent's threadpool prints a traceback for any exception its task raises
    (ContextTerminated, when ``ctx.term()`` ends the proxy); the caller alone
    must see it, as with pyzmq's blocking proxy.
    """
    try:
        return True, function(*args)
    except Exception as error:  # noqa: BLE001 - raised again in the waiting greenlet
        return False, error


def _off_hub(
    function: Callable[..., Any], sockets: tuple[Any, ...], steering: tuple[Any, Any] | None
) -> Any:
    """Run ``function(*sockets)`` in the threadpool; only this greenlet waits for it.

    With ``steering`` (the proxy's own control socket and a PAIR to it), a
    greenlet interrupted while it waits (killed, timed out) stops the proxy
    with TERMINATE and waits for its thread before the exception goes on,
    so the sockets are free again, as they are after zmq.green's device.
    """
    try:
        claimed = _claim(sockets)
    except BaseException:
        for sock in steering or ():
            sock.close()
        raise
    hub = get_hub_if_exists()
    pool = hub.threadpool if hub is not None else None

    def finished(_: Any = None) -> None:
        # In the hub, once the proxy thread has really returned (even if the
        # waiting greenlet was killed meanwhile).
        _release(claimed)
        if steering is not None:
            for sock in steering:
                sock.close()
        if pool is not None:
            pool.maxsize = max(pool.maxsize - 1, 0)

    if pool is None:
        # A thread without gevent: blocking it is what the caller asked for.
        try:
            return function(*sockets)
        finally:
            finished()
    try:
        pool.maxsize += 1
        result = pool.spawn(_outcome, function, *sockets)
    except BaseException:
        finished()
        raise
    result.rawlink(finished)
    try:
        finished_ok, value = result.get()
    except BaseException:
        if steering is not None and not result.ready():
            try:
                steering[1].send(b"TERMINATE", zmq.NOBLOCK)
            except zmq.ZMQError:
                pass  # the context is going away: the proxy ends with ETERM
            else:
                result.wait()
        raise
    if not finished_ok:
        raise value
    return value


def proxy(
    frontend: zmq.Socket[Any], backend: zmq.Socket[Any], capture: zmq.Socket[Any] | None = None
) -> Any:
    """Start libzmq's proxy between ``frontend`` and ``backend``; block only this greenlet.

    Runs until the context is terminated (zmq.ContextTerminated) or the
    calling greenlet is killed, which stops the proxy and frees the sockets.
    """
    steering = _steering_pair(getattr(frontend, "context", None))
    if steering is None:
        return _off_hub(_proxy, (frontend, backend, capture), None)
    return _off_hub(_proxy_steerable, (frontend, backend, capture, steering[0]), steering)


def proxy_steerable(
    frontend: zmq.Socket[Any],
    backend: zmq.Socket[Any],
    capture: zmq.Socket[Any] | None = None,
    control: zmq.Socket[Any] | None = None,
) -> Any:
    """libzmq's steerable proxy (PAUSE/RESUME/TERMINATE/STATISTICS on ``control``), off the hub.

    Without ``control`` it is :func:`proxy`.  With one, only a TERMINATE on
    it (or terminating the context) ends the proxy: killing the calling
    greenlet does not, and the sockets stay reserved until it ends.
    """
    if control is None:
        return proxy(frontend, backend, capture)
    return _off_hub(_proxy_steerable, (frontend, backend, capture, control), None)


def device(device_type: int, frontend: zmq.Socket[Any], backend: zmq.Socket[Any]) -> Any:
    """Deprecated alias of :func:`proxy`, as pyzmq's ``zmq.device`` (``device_type`` is ignored)."""
    return proxy(frontend, backend)
