"""Green ``Poller``, ``select`` and ``zmq_poll``: wait on sockets and fds without blocking the hub.

A poll first asks libzmq what is ready now (``zmq_poll`` with timeout 0).
If nothing is, the calling greenlet waits on:

* each green socket's own cooperative core (an entry in its
  :class:`~gzmq._waiting.Waiting` queues), which is woken when ZMQ_EVENTS
  says the socket is ready, including after another greenlet's operation
  consumed ZMQ_FD's edge;
* an io watcher on ZMQ_FD for any other zmq socket, and on each raw fd for
  the directions asked;
* a timer for the timeout.

After every wake-up it asks libzmq again and returns what is ready.  There
is no periodic re-poll: an idle poll costs nothing until something happens.
"""

from __future__ import annotations

import threading
from typing import Any

import gevent
import zmq
from gevent import get_hub
from gevent.hub import Waiter
from zmq.backend import Socket as _BackendSocket
from zmq.backend import zmq_poll as _zmq_poll

from gzmq._timeouts import check_seconds
from gzmq.errors import SocketClosedError
from gzmq.green._state import State, state_of, waiting_here

__all__ = ["Poller", "select", "zmq_poll"]

_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)
_POLLERR = int(zmq.POLLERR)
_FD = int(zmq.FD)
_READ = 1  # libev EV_READ
_WRITE = 2  # libev EV_WRITE
_get = _BackendSocket.get
_get_ident = threading.get_ident

_OriginalPoller = zmq.Poller


class _Wake:
    """Resumes the polling greenlet once, from whichever source fires first (in the hub)."""

    __slots__ = ("expired", "waiter")

    def __init__(self) -> None:
        self.waiter: Waiter | None = None
        self.expired = False

    def fire(self) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.switch(None)

    def expire(self) -> None:
        self.expired = True
        self.fire()


class _Entry:
    """A poll's place in a green socket's waiter queue (duck-types the core's entries)."""

    __slots__ = ("expired", "glet", "wake", "woken")

    def __init__(self, wake: _Wake) -> None:
        self.wake = wake
        self.woken = False
        self.glet: Any = None
        self.expired = False

    def resume(self) -> None:
        self.wake.fire()

    def expire(self) -> None:
        """Not used: a poll's timeout is its own timer."""


def _check(items: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
    """What is ready now, in the order of ``items``.

    A green socket answers with its core's readiness (what it holds outside
    libzmq counts; the parked greenlets whose wake-up the check may consume
    are re-checked); anything else with zmq_poll.  A closed socket raises
    (libzmq would take its freed handle for fd 0).
    """
    for sock, _ in items:
        if isinstance(sock, _BackendSocket) and getattr(sock, "_closed", False):
            raise SocketClosedError() if state_of(sock) is not None else zmq.ZMQError(zmq.ENOTSOCK)
    others = [item for item in items if _green_state(item[0]) is None]
    polled: list[tuple[Any, int]] = _zmq_poll(others, 0) if others else []
    ready: list[tuple[Any, int]] = []
    position = 0
    for sock, flags in items:
        state = _green_state(sock)
        if state is not None:
            events = waiting_here(state).readiness() & flags & (_POLLIN | _POLLOUT)
            if events:
                ready.append((sock, events))
            continue
        if position < len(polled) and _same(polled[position][0], sock):
            ready.append(polled[position])
            position += 1
    return ready


def _same(returned: Any, sock: Any) -> bool:
    """Whether zmq_poll's ``returned`` stands for ``sock`` (fds stand for fileno() objects)."""
    if returned is sock:
        return True
    if isinstance(sock, _BackendSocket) or isinstance(sock, int):
        return bool(returned == sock)
    return isinstance(returned, int) and returned == _fd_of(sock)


def _green_state(sock: Any) -> State | None:
    """The core State of a green socket, None for anything else (other zmq sockets, fds)."""
    return state_of(sock) if isinstance(sock, _BackendSocket) else None


def _fd_of(sock: Any) -> int:
    if isinstance(sock, int):
        return sock
    try:
        return int(sock.fileno())
    except (AttributeError, TypeError, ValueError, OSError):
        raise ValueError(f"fileno() of {sock!r} must return a valid integer fd") from None


def _poll(items: list[tuple[Any, int]], timeout: float | None) -> list[tuple[Any, int]]:
    """Poll ``items`` ((socket or fd, flags) pairs); timeout in seconds, None forever."""
    ready = _check(items)
    if ready or timeout == 0:
        return ready
    if not items:
        # As zmq_poll: polling nothing is sleeping.
        if timeout is None:
            raise ValueError("polling no sockets and no fds without a timeout would wait forever")
        gevent.sleep(timeout)
        return []
    hub = get_hub()
    loop = hub.loop
    wake = _Wake()
    watchers: list[Any] = []
    parked: list[tuple[Any, _Entry]] = []
    waitings: list[Any] = []
    timer = None
    try:
        for sock, flags in items:
            state = state_of(sock) if isinstance(sock, _BackendSocket) else None
            if state is not None:
                waiting = waiting_here(state)
                waitings.append(waiting)
                # An _Entry stands in the queues as the core's own entries do.
                readers: Any = waiting.readers
                writers: Any = waiting.writers
                if flags & _POLLIN:
                    entry = _Entry(wake)
                    readers.append(entry)
                    parked.append((readers, entry))
                if flags & _POLLOUT:
                    entry = _Entry(wake)
                    writers.append(entry)
                    parked.append((writers, entry))
                if flags & (_POLLIN | _POLLOUT) and not waiting._watching:
                    waiting._start_watching()
                continue
            if isinstance(sock, _BackendSocket):
                # Another zmq socket: its ZMQ_FD signals any change of its state.
                if not flags & (_POLLIN | _POLLOUT):
                    continue
                fd, mask = int(_get(sock, _FD)), _READ
            else:
                fd = _fd_of(sock)
                mask = (_READ if flags & _POLLIN else 0) | (_WRITE if flags & _POLLOUT else 0)
                if not mask:
                    continue
            watcher = loop.io(fd, mask)
            watcher.start(wake.fire)
            watchers.append(watcher)
        if timeout is not None:
            timer = loop.timer(timeout)
            timer.start(wake.expire)
        while True:
            for _, entry in parked:
                entry.woken = False
            waiter = Waiter(hub)
            wake.waiter = waiter
            waiter.get()
            ready = _check(items)
            if ready or wake.expired:
                return ready
    finally:
        wake.waiter = None
        if timer is not None:
            timer.stop()
            timer.close()
        for watcher in watchers:
            watcher.stop()
            watcher.close()
        for queue, entry in parked:
            try:
                queue.remove(entry)
            except ValueError:
                pass  # close() emptied the queue
        ident = _get_ident()
        for waiting in waitings:
            if waiting.closed or waiting.owner != ident:
                continue
            if waiting.readers or waiting.writers:
                # Hand on a wake-up this poll may have taken.
                waiting.refresh()
            else:
                waiting._stop_watching()


def _milliseconds_to_seconds(timeout: float | None) -> float | None:
    milliseconds = check_seconds(timeout, unit="milliseconds")
    return None if milliseconds is None else int(milliseconds) / 1000.0


class Poller(_OriginalPoller):
    """pyzmq's :class:`zmq.Poller`, waiting cooperatively.

    Register zmq sockets (green or not), raw fds and objects with
    ``fileno()``.  ``poll(timeout)`` (milliseconds, None or negative:
    forever) blocks only the calling greenlet and returns
    ``[(socket or fd, events), ...]`` as pyzmq does.
    """

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait until a registered socket or fd is ready, or ``timeout`` ms pass."""
        return _poll(list(self.sockets), _milliseconds_to_seconds(timeout))


def zmq_poll(sockets: list[tuple[Any, int]], timeout: float = -1) -> list[tuple[Any, int]]:
    """Green ``zmq.zmq_poll``: poll ``(socket or fd, flags)`` pairs, timeout in ms (-1: forever)."""
    return _poll(list(sockets), _milliseconds_to_seconds(timeout))


def select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """Green ``zmq.select``: as ``select.select``, for zmq sockets and fds (timeout in seconds)."""
    flags: dict[Any, int] = {}
    order: list[Any] = []
    for group, flag in ((rlist, _POLLIN), (wlist, _POLLOUT), (xlist, _POLLERR)):
        for sock in group:
            if sock not in flags:
                flags[sock] = 0
                order.append(sock)
            flags[sock] |= flag
    seconds = check_seconds(timeout)
    ready = _poll([(sock, flags[sock]) for sock in order], seconds)
    readable, writable, errors = [], [], []
    for sock, events in ready:
        if events & _POLLIN:
            readable.append(sock)
        if events & _POLLOUT:
            writable.append(sock)
        if events & _POLLERR:
            errors.append(sock)
    return readable, writable, errors
