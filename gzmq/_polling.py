"""Waiting on several sockets and fds at once: the engine of gzmq.Poller / gzmq.select and
of gzmq.green's Poller, select and zmq_poll.

A poll first asks what is ready now: gzmq sockets (typed and green) through
their cooperative core's :meth:`~gzmq._waiting.Waiting.events` (so messages
the core holds outside libzmq count), other zmq sockets and fds through
``zmq_poll`` with timeout 0.  If nothing is, the calling greenlet waits on:

* each gzmq socket's own core: an entry in its
  :class:`~gzmq._waiting.Waiting` queues, woken when ZMQ_EVENTS says the
  socket is ready, including after another greenlet's operation consumed
  ZMQ_FD's edge (the core's re-check rule);
* an io watcher on ZMQ_FD for any other zmq socket, and on each raw fd for
  the directions asked;
* a timer for the timeout.

After every wake-up it asks again and returns what is ready.  There is no
periodic re-poll: an idle poll costs nothing until something happens.  Any
number of greenlets may poll the same sockets; each poll has its own entries.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple, cast

import gevent
import zmq
from gevent import get_hub
from gevent.hub import Waiter
from zmq.backend import Socket as _BackendSocket
from zmq.backend import zmq_poll as _zmq_poll

from gzmq import _thread
from gzmq._readiness import POLLERR, POLLIN, POLLOUT
from gzmq._timeouts import check_seconds
from gzmq._waiting import FAIRNESS_LIMIT, Waiting

__all__ = ["check_flags", "milliseconds_to_seconds", "poll", "pollable", "select"]

_FD = int(zmq.FD)
_READ = 1  # libev EV_READ
_WRITE = 2  # libev EV_WRITE
_ALL_FLAGS = POLLIN | POLLOUT | POLLERR
_get = _BackendSocket.get
_get_ident = _thread.get_ident

_NOT_POLLABLE = "it must be a 0MQ socket, an integer fd or have a fileno() method"

#: Per thread: polls in a row that returned without waiting (see _take_turn).
_streaks = threading.local()

# How an item is watched.
_CORE = 0  # a gzmq socket, typed or green: its Waiting
_ZMQ = 1  # any other zmq socket: ZMQ_FD
_FILE = 2  # an fd, or an object with fileno()


class _Item(NamedTuple):
    """One (socket or fd, flags) pair of a poll, resolved."""

    target: Any
    flags: int
    kind: int
    #: The core of a gzmq socket (None otherwise).
    waiting: Waiting | None
    #: The gzmq.green State of a green socket (None otherwise).
    state: Any
    #: The fd of a raw fd item (-1 otherwise).
    fd: int


def _green_state(sock: Any) -> Any:
    """The gzmq.green State of a green socket, or None (imported on demand: gzmq.green
    itself is built on this module)."""
    from gzmq.green._state import state_of

    return state_of(sock)


def _fd_of(target: Any) -> int:
    """The fd of an int or of an object with fileno(), as zmq_poll takes them."""
    if isinstance(target, int):
        return target
    try:
        return int(target.fileno())
    except (AttributeError, TypeError, ValueError, OSError):
        raise ValueError(f"fileno() of {target!r:.80} must return a valid integer fd") from None


def pollable(target: Any) -> None:
    """Raise TypeError (naming it) unless ``target`` is something a poll can wait on."""
    if isinstance(getattr(target, "_waiting", None), Waiting) or isinstance(target, zmq.Socket):
        return
    if isinstance(target, int) or callable(getattr(target, "fileno", None)):
        return
    raise TypeError(
        f"cannot poll {type(target).__name__} {target!r:.80}: {_NOT_POLLABLE} "
        "(gzmq, gzmq.green and pyzmq sockets are 0MQ sockets)"
    )


def check_flags(flags: Any) -> int:
    """``flags`` as an int of POLLIN, POLLOUT and POLLERR bits (TypeError / ValueError if not)."""
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise TypeError(
            f"poll flags must be an int (gzmq.POLLIN | gzmq.POLLOUT), got "
            f"{type(flags).__name__}: {flags!r:.80}"
        )
    if flags & ~_ALL_FLAGS or flags < 0:
        raise ValueError(
            f"poll flags must combine POLLIN ({POLLIN}), POLLOUT ({POLLOUT}) and POLLERR "
            f"({POLLERR}), got {flags}"
        )
    return int(flags)


def _resolve(items: list[tuple[Any, int]]) -> list[_Item]:
    resolved = []
    for target, flags in items:
        waiting = getattr(target, "_waiting", None)
        if isinstance(waiting, Waiting):
            resolved.append(_Item(target, flags, _CORE, waiting, None, -1))
        elif isinstance(target, _BackendSocket):
            state = _green_state(target)
            if state is not None:
                resolved.append(_Item(target, flags, _CORE, state.waiting, state, -1))
            else:
                resolved.append(_Item(target, flags, _ZMQ, None, None, -1))
        else:
            pollable(target)
            resolved.append(_Item(target, flags, _FILE, None, None, _fd_of(target)))
    return resolved


def _core_of(item: _Item) -> Waiting:
    """The item's Waiting, for use from this thread (raises if this thread may not)."""
    if item.state is not None:
        from gzmq.green._state import waiting_here

        return waiting_here(item.state)  # pyzmq lets an idle socket move between threads
    waiting = cast(Waiting, item.waiting)  # a _CORE item always has one
    waiting.check_owner()
    return waiting


def _core_events(item: _Item) -> int:
    """What a gzmq socket is ready for now (its core's readiness), of the directions asked."""
    return _core_of(item).readiness() & item.flags & (POLLIN | POLLOUT)


def _check(items: list[_Item]) -> list[tuple[Any, int]]:
    """What is ready now, in the order of ``items``.

    A closed zmq socket raises: SocketClosedError for a gzmq socket (naming
    it), ENOTSOCK for another (libzmq would take its freed handle for fd 0).
    """
    others: list[tuple[Any, int]] = []
    for item in items:
        if item.kind == _ZMQ:
            if getattr(item.target, "_closed", False):
                raise zmq.ZMQError(zmq.ENOTSOCK)
            others.append((item.target, item.flags))
        elif item.kind == _FILE:
            others.append((item.fd, item.flags))
    polled: list[tuple[Any, int]] = _zmq_poll(others, 0) if others else []
    # zmq_poll returns the objects it was given: find each item's by identity.
    found = {id(target): events for target, events in polled if events}
    ready: list[tuple[Any, int]] = []
    for item in items:
        if item.kind == _CORE:
            events = _core_events(item)
        elif item.kind == _ZMQ:
            events = found.get(id(item.target), 0)
        else:
            events = found.get(id(item.fd), 0)
            if events:
                ready.append((item.fd, events))  # as zmq_poll: fds are reported by number
            continue
        if events:
            ready.append((item.target, events))
    return ready


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
    """A poll's place among a socket's polls (gzmq._parking.Parking.watch)."""

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


def poll(items: list[tuple[Any, int]], timeout: float | None) -> list[tuple[Any, int]]:
    """Poll ``items`` ((socket or fd, flags) pairs); timeout in seconds, None forever.

    Returns ``[(socket or fd, events), ...]`` for the ready ones, in the
    order given (an object with ``fileno()`` as its fd number, as zmq_poll
    does); an empty list on timeout.
    """
    resolved = _resolve(items)
    _take_turn()
    ready = _check(resolved)
    if ready or timeout == 0:
        _streaks.count = getattr(_streaks, "count", 0) + 1
        return ready
    _streaks.count = 0
    if not resolved:
        # As zmq_poll: polling nothing is sleeping.
        if timeout is None:
            raise ValueError("polling no sockets and no fds without a timeout would wait forever")
        gevent.sleep(timeout)
        return []
    hub = get_hub()
    loop = hub.loop
    wake = _Wake()
    watchers: list[Any] = []
    parked: list[tuple[Waiting, _Entry]] = []
    timer = None
    try:
        for item in resolved:
            flags = item.flags
            if item.kind == _CORE:
                if flags & (POLLIN | POLLOUT):
                    # The core wakes the entry when a direction it watches is ready.
                    waiting = _core_of(item)
                    entry = _Entry(wake)
                    waiting.watch(entry, flags)
                    parked.append((waiting, entry))
                continue
            if item.kind == _ZMQ:
                # Another zmq socket: its ZMQ_FD signals any change of its state.
                if not flags & (POLLIN | POLLOUT):
                    continue
                fd, mask = int(_get(item.target, _FD)), _READ
            else:
                fd = item.fd
                mask = (_READ if flags & POLLIN else 0) | (_WRITE if flags & POLLOUT else 0)
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
            ready = _check(resolved)
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
        ident = _get_ident()
        for waiting, entry in parked:
            waiting.unwatch(entry)
            if not waiting.closed and waiting.owner == ident:
                waiting.after_call()  # hand on a wake-up this poll's checks may have taken


def _take_turn() -> None:
    """After FAIRNESS_LIMIT polls in a row that did not wait, let the hub run once.

    A loop of poll() and a recv(timeout=0) that finds the message taken (by
    another greenlet, or reserved for one parked ahead) would otherwise
    never yield, and the greenlets it waits for would never run.  A
    zero-second timer, as the core's fairness yield: the hub polls its I/O.
    """
    if getattr(_streaks, "count", 0) < FAIRNESS_LIMIT:
        return
    _streaks.count = 0
    hub = get_hub()
    timer = hub.loop.timer(0.0)
    try:
        hub.wait(timer)
    finally:
        timer.close()


def milliseconds_to_seconds(timeout: float | None) -> float | None:
    """A poll timeout in ms (None or negative: forever) as seconds (None: forever)."""
    milliseconds = check_seconds(timeout, unit="milliseconds")
    return None if milliseconds is None else int(milliseconds) / 1000.0


def select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None
) -> tuple[list[Any], list[Any], list[Any]]:
    """zmq.select: as select.select, for sockets and fds (timeout in seconds, None forever)."""
    flags: dict[Any, int] = {}
    order: list[Any] = []
    for group, flag in ((rlist, POLLIN), (wlist, POLLOUT), (xlist, POLLERR)):
        for target in group:
            if target not in flags:
                flags[target] = 0
                order.append(target)
            flags[target] |= flag
    seconds = check_seconds(timeout)
    ready = poll([(target, flags[target]) for target in order], seconds)
    readable, writable, errors = [], [], []
    for target, events in ready:
        if events & POLLIN:
            readable.append(target)
        if events & POLLOUT:
            writable.append(target)
        if events & POLLERR:
            errors.append(target)
    return readable, writable, errors
