"""The Observer: one socket's libzmq events, delivered to greenlets.

An Observer is a libzmq monitor (``zmq_socket_monitor`` on a unique inproc
address, all events) plus a PAIR socket on the same context that reads the
monitor's messages through the cooperative core, so waiting for an event
blocks only the waiting greenlet.

How events flow.  While only ``recv()`` (pull mode) reads, greenlets read the
PAIR directly and an Observer costs no greenlet.  A *pump* greenlet reads the
PAIR instead whenever one is needed: in push mode (it calls the callbacks),
while some ``wait_for()`` waits, and after the socket was closed (to collect
the last events up to "end" and close the PAIR even if nobody reads).  Events
the pump reads outside push mode are queued for ``recv()``, so ``wait_for()``
never takes an event away from anyone.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import gevent
import zmq
from gevent.event import AsyncResult
from gevent.event import Event as _Signal
from greenlet import getcurrent
from zope.interface import implementer

from gzmq import _thread
from gzmq._timeouts import check_seconds as _check_timeout
from gzmq._waiting import Waiting
from gzmq.errors import ObserverModeError, SocketClosedError
from gzmq.events import Event, EventType, decode_event
from gzmq.interfaces import IObserver

if TYPE_CHECKING:
    from gzmq.socket import Socket

__all__ = ["BACKLOG_LIMIT", "END_GRACE", "Observer"]

_log = logging.getLogger("gzmq.observer")

#: Seconds an Observer waits, after its socket was closed, for libzmq's
#: MONITOR_STOPPED (which comes once the socket's lingering messages are
#: gone); then it ends anyway, with an "end" event whose address is None.
END_GRACE = 2.0

#: The most events an Observer keeps queued for ``recv()`` beyond what its
#: PAIR socket holds; older ones are dropped first (libzmq itself drops
#: events when the PAIR is full).
BACKLOG_LIMIT = 1000

_PULL = "pull"
_PUSH = "push"
_CLOSED_MESSAGE = "Observer is closed"
_get_ident = _thread.get_ident
_addresses = itertools.count()

#: Every open Observer, so that interpreter exit can close their PAIR sockets
#: before the contexts are terminated.
_live: weakref.WeakSet[Observer] = weakref.WeakSet()


def _socket_collected(observer: Observer) -> Callable[[weakref.ref[Any]], None]:
    """A weakref callback that tells ``observer`` (held weakly) its socket was collected."""
    observer_ref = weakref.ref(observer)

    def collected(_ref: weakref.ref[Any]) -> None:
        alive = observer_ref()
        if alive is not None:
            alive._socket_gone()

    return collected

Callback = Callable[[Event], object]


@implementer(IObserver)
class Observer:
    """The libzmq events of one socket, for greenlets; get it as ``sock.events``.

    Observing starts when the Observer is made (on the first access to
    ``sock.events``): **events that happened before are not seen**, so
    access ``sock.events`` before ``bind()``/``connect()`` to see them.

    Two exclusive modes; using both raises ObserverModeError:

    * pull: ``recv(timeout=None)`` returns the next :class:`~gzmq.Event`
      and ``for event in observer`` yields them.  Any number of greenlets
      may wait; each event goes to one of them, first come first served.
    * push: ``on(type, callback)`` calls ``callback(event)`` for every
      event of that type, from one reader greenlet, one call at a time (a
      callback that blocks delays the events after it); ``off()`` stops.
      An exception in a callback is logged (logger ``gzmq.observer``) and
      does not stop the others.

    ``wait_for(type, timeout=None)`` returns the first event of ``type``
    after the call, in either mode and before any mode is chosen, without
    choosing one and without consuming anything: the events it sees are
    still delivered to ``recv()`` or to the callbacks.

    When the socket is closed the Observer delivers the last events and
    then "end" (to ``recv()``, iteration and "end" callbacks), and closes:
    iteration ends, the reader greenlet stops, the PAIR socket is closed.
    After "end", or after ``close()``, ``recv()`` raises SocketClosedError
    (events already received stay readable until "end").  ``close()``
    stops observing at once, without an "end" event: pending ``recv()``
    calls raise SocketClosedError, iteration ends, pending ``wait_for()``
    calls raise SocketClosedError, queued events are dropped.  After
    ``close()`` the next ``sock.events`` starts a new Observer.

    Only the thread that made it may use it.
    """

    __slots__ = (
        "__weakref__",
        "_address",
        "_backlog",
        "_callbacks",
        "_closed",
        "_ending",
        "_grace",
        "_hub",
        "_mode",
        "_pair",
        "_pid",
        "_pump",
        "_signal",
        "_socket_ref",
        "_waiters",
        "_waiting",
    )

    def __init__(self, socket: Socket) -> None:
        # A gzmq socket, told by its core (this module does not import gzmq.socket,
        # which makes Observers: the import graph has no circle).
        if not isinstance(getattr(socket, "_waiting", None), Waiting) or not hasattr(
            socket, "_observer"
        ):
            raise TypeError(f"Observer needs a gzmq socket, got {type(socket).__name__}")
        socket._check_usable()
        current = socket._observer
        if current is not None and current is not self and not current.closed:
            raise ValueError(
                "this socket already has an open Observer (use sock.events; libzmq allows "
                "one monitor per socket)"
            )
        address = f"inproc://gzmq.observer-{os.getpid()}-{next(_addresses)}"
        raw = socket._sock
        raw.monitor(address, zmq.EVENT_ALL)
        try:
            pair = socket._context._zmq.socket(zmq.PAIR)
        except BaseException:
            raw.monitor(None, 0)
            raise
        try:
            pair.setsockopt(zmq.LINGER, 0)
            pair.connect(address)
        except BaseException:
            pair.close(0)
            raw.monitor(None, 0)
            raise
        # A socket dropped without close() ends its Observer as close() would:
        # otherwise the PAIR stays open until a garbage collection and the
        # context cannot terminate.  (A weak callback: no cycle through it.)
        self._socket_ref: weakref.ref[Socket] = weakref.ref(socket, _socket_collected(self))
        self._address = address
        self._pair: zmq.Socket[Any] = pair
        self._waiting = Waiting(pair)
        self._hub = self._waiting.hub
        self._pid = os.getpid()
        self._mode: str | None = None
        self._callbacks: dict[EventType, list[Callback]] = {}
        self._waiters: dict[EventType, list[AsyncResult]] = {}
        self._backlog: deque[Event] = deque(maxlen=BACKLOG_LIMIT)
        self._signal: _Signal | None = None
        self._pump: gevent.Greenlet | None = None
        self._ending = False
        self._grace: Any = None
        self._closed = False
        socket._observer = self
        _live.add(self)

    def __repr__(self) -> str:
        socket = self._socket_ref()
        state = "closed" if self._closed else (self._mode or "idle")
        return f"<gzmq.Observer {state} of {socket!r}>"

    # -- public API ----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether observing has stopped ("end" arrived or close() was called)."""
        return self._closed

    def recv(self, *, timeout: float | None = None) -> Event:
        """The next Event (pull mode); blocks only the calling greenlet.

        ``timeout`` (seconds; None waits forever) raises zmq.Again on
        expiry, with nothing consumed.  After "end" has been returned, or
        after close(), raises SocketClosedError; a recv() pending when
        close() is called raises it too.
        """
        seconds = _check_timeout(timeout)
        self._waiting.check_owner()
        self._enter(_PULL)
        return self._pull(seconds)

    def __iter__(self) -> Iterator[Event]:
        """Yield events (pull mode) until "end" has been yielded or close() is called."""
        self._waiting.check_owner()
        self._enter(_PULL)
        return self._iterate()

    def on(self, type: str, callback: Callback) -> None:
        """Call ``callback(event)`` for every event of ``type`` (push mode).

        Registering a callback twice calls it twice.  Raises SocketClosedError
        if the Observer is closed.
        """
        kind = EventType.of(type)
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback.__class__.__name__}")
        self._waiting.check_owner()
        if self._closed:
            raise SocketClosedError(_CLOSED_MESSAGE)
        self._enter(_PUSH)
        self._callbacks.setdefault(kind, []).append(callback)
        self._ensure_pump()

    def off(self, type: str, callback: Callback) -> None:
        """Stop calling ``callback`` for ``type`` (its last registration); no-op if absent."""
        kind = EventType.of(type)
        self._waiting.check_owner()
        callbacks = self._callbacks.get(kind)
        if not callbacks:
            return
        for index in range(len(callbacks) - 1, -1, -1):
            if callbacks[index] == callback:
                del callbacks[index]
                break
        if not callbacks:
            del self._callbacks[kind]

    def wait_for(self, type: str, *, timeout: float | None = None) -> Event:
        """Block until the first event of ``type`` after this call and return it.

        Works in either mode and chooses none; it consumes nothing (the
        event is still delivered to recv() or to callbacks).  ``timeout``
        (seconds) raises zmq.Again on expiry.  Raises SocketClosedError if
        the Observer closes first (for ``type`` "end", the end event is
        returned).  Not callable from an Observer callback.
        """
        kind = EventType.of(type)
        seconds = _check_timeout(timeout)
        self._waiting.check_owner()
        if self._closed:
            raise SocketClosedError(_CLOSED_MESSAGE)
        if self._pump is not None and getcurrent() is self._pump:
            raise RuntimeError(
                "wait_for() cannot be called from an Observer callback: the callbacks run "
                "in the greenlet that reads the events (spawn a greenlet to wait)"
            )
        result = AsyncResult()
        waiters = self._waiters.setdefault(kind, [])
        waiters.append(result)
        try:
            self._ensure_pump()
            result.wait(seconds)
            if not result.ready():
                raise zmq.Again()
            event: Event = result.get(block=False)
            return event
        finally:
            waiters = self._waiters.get(kind, [])
            if result in waiters:
                waiters.remove(result)
                if not waiters:
                    del self._waiters[kind]
            self._stop_pump_if_idle()

    def close(self) -> None:
        """Stop observing now; pending recv()/wait_for() raise SocketClosedError. Idempotent.

        No "end" event is delivered: "end" means the socket was closed.
        """
        if self._closed:
            self._backlog.clear()
            return
        if self._pid != os.getpid():
            self._closed = True  # a forked child must not touch the parent's sockets
            return
        self._waiting.check_owner()
        socket = self._socket_ref()
        if socket is not None and not socket.closed:
            try:
                socket._sock.monitor(None, 0)
            except zmq.ZMQError:
                pass  # the socket or its context is going away: nothing to stop
        self._backlog.clear()
        self._finish()
        self._callbacks.clear()

    # -- pull ----------------------------------------------------------------------

    def _iterate(self) -> Iterator[Event]:
        while True:
            try:
                yield self._pull(None)
            except SocketClosedError:
                return

    def _pull(self, seconds: float | None) -> Event:
        """The next event: queued ones first, else from the PAIR or from the pump."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            if self._backlog:
                return self._backlog.popleft()
            if self._closed:
                raise SocketClosedError(_CLOSED_MESSAGE)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._pump is None:
                try:
                    return self._read_pair(remaining)
                except SocketClosedError:
                    continue  # closed under us: the loop says how to go on
            if remaining == 0.0:
                raise zmq.Again()
            signal = self._signal
            if signal is None:
                signal = self._signal = _Signal()
            signal.wait(remaining)

    def _enter(self, mode: str) -> None:
        current = self._mode
        if current == mode:
            return
        if current is None:
            self._mode = mode
            return
        if mode == _PULL:
            raise ObserverModeError(
                "this Observer is in push mode (on() was called): recv() and iteration are "
                "not available; use callbacks or wait_for()"
            )
        raise ObserverModeError(
            "this Observer is in pull mode (recv() or iteration was used): on() is not "
            "available; keep reading with recv(), or use wait_for()"
        )

    # -- reading the PAIR -----------------------------------------------------------

    def _read_pair(self, seconds: float | None) -> Event:
        """Read and decode one monitor message; zmq.Again on timeout.

        Raises SocketClosedError once the Observer is closed.  If the PAIR
        was closed because the grace after the socket's close ran out, or the
        context is being terminated, the monitor is gone: that is "end".
        """
        try:
            frames = self._waiting.recv(seconds)
        except zmq.Again:
            raise
        except zmq.ZMQError:
            if self._closed:
                raise SocketClosedError(_CLOSED_MESSAGE) from None
            event = Event(EventType.END)
        else:
            event = decode_event(frames)
        self._arrived(event)
        return event

    def _arrived(self, event: Event) -> None:
        """Every event read passes here: resolve wait_for() calls; "end" closes."""
        waiters = self._waiters.pop(event.type, None)
        if waiters:
            for result in waiters:
                result.set(event)
        if event.type is EventType.END:
            self._finish()

    # -- the pump -------------------------------------------------------------------

    def _pump_needed(self) -> bool:
        return self._mode == _PUSH or self._ending or bool(self._waiters)

    def _ensure_pump(self) -> None:
        if self._pump is None and not self._closed and self._pump_needed():
            self._pump = gevent.spawn(self._run_pump)

    def _stop_pump_if_idle(self) -> None:
        pump = self._pump
        if pump is None or self._pump_needed() or pump is getcurrent():
            return
        self._pump = None
        pump.kill(block=False)
        self._wake_readers()  # pull readers waiting on the pump read the PAIR again

    def _run_pump(self) -> None:
        """Read events and hand them on, for as long as a pump is needed."""
        me = getcurrent()
        try:
            while self._pump is me and not self._closed:
                if self._mode == _PUSH and self._backlog:
                    self._dispatch(self._backlog.popleft())
                    continue
                if not self._pump_needed():
                    break
                try:
                    event = self._read_pair(None)
                except SocketClosedError:
                    break
                if self._mode == _PUSH:
                    self._dispatch(event)
                else:
                    self._backlog.append(event)
                    self._wake_readers()
        finally:
            if self._pump is me:
                self._pump = None
            if self._closed:
                self._callbacks.clear()  # release what the callbacks hold
            self._wake_readers()

    def _dispatch(self, event: Event) -> None:
        callbacks = self._callbacks.get(event.type)
        if not callbacks:
            return
        for callback in tuple(callbacks):
            if self._closed and event.type is not EventType.END:
                return  # close() was called from a callback
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - a failing callback must not stop the others
                _log.exception("gzmq: an Observer callback for %r raised", str(event.type))

    def _wake_readers(self) -> None:
        signal = self._signal
        if signal is not None:
            self._signal = None
            signal.set()

    # -- the end --------------------------------------------------------------------

    def _socket_closed(self) -> None:
        """The socket was closed: collect the last events and "end", then close."""
        if self._closed or self._ending:
            return
        if self._pid != os.getpid():
            self._closed = True  # a forked child must not touch the parent's sockets
            return
        if _get_ident() != self._waiting.owner:
            self._hub.loop.run_callback_threadsafe(self._socket_closed)
            return
        self._ending = True
        grace = self._hub.loop.timer(END_GRACE, 0, False)
        grace.start(self._grace_expired)
        self._grace = grace
        self._ensure_pump()

    def _socket_gone(self) -> None:
        """(Any thread, any time: from a weakref callback.) The socket was collected."""
        if self._closed or self._ending or self._pid != os.getpid():
            return
        self._hub.loop.run_callback_threadsafe(self._socket_closed)

    def _grace_expired(self) -> None:
        """(In the hub.) No MONITOR_STOPPED in time: close the PAIR; its reader ends."""
        self._grace = None
        if not self._closed:
            self._waiting.close(self._close_pair)

    def _finish(self) -> None:
        """Stop observing: close the PAIR, fail waiters, stop the pump, wake readers."""
        if self._closed:
            return
        self._closed = True
        grace = self._grace
        self._grace = None
        if grace is not None:
            grace.stop()
            grace.close()
        self._waiting.close(self._close_pair)
        waiters = list(itertools.chain.from_iterable(self._waiters.values()))
        self._waiters.clear()
        for result in waiters:
            result.set_exception(SocketClosedError(_CLOSED_MESSAGE))
        pump = self._pump
        self._pump = None
        if pump is not None and pump is not getcurrent():
            pump.kill(block=False)
        self._wake_readers()
        _live.discard(self)

    def _close_pair(self) -> None:
        self._pair.close(0)

    def _close_at_exit(self) -> None:
        """Interpreter exit: close the PAIR so that the context can terminate."""
        if self._closed or self._pid != os.getpid():
            return
        self._closed = True
        if _get_ident() == self._waiting.owner:
            self._waiting.close(self._close_pair)
        else:
            self._close_pair()


def _close_all_at_exit() -> None:
    """Close every Observer's PAIR; registered after gzmq.context's handler, so it runs first."""
    for observer in list(_live):
        try:
            observer._close_at_exit()
        except Exception:  # noqa: BLE001 - exit must not fail on one broken observer
            _log.debug("gzmq: closing an Observer at exit failed", exc_info=True)


atexit.register(_close_all_at_exit)
