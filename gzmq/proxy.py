"""Proxy: libzmq's steerable proxy between two gzmq sockets, off the hub.

``Proxy(front_end, back_end, capture=None).run()`` forwards messages both
ways at libzmq's own speed: ``zmq_proxy_steerable`` runs in a thread of
gevent's threadpool (the pool grows by one while it runs, so DNS lookups
and ``Context.close()`` are never starved) and only the greenlet that
called ``run()`` waits for it.  The proxy is steered over a private PAIR
pair on a unique inproc address; the end the hub uses is read through the
cooperative core, so ``pause()``, ``resume()`` and ``statistics()`` block
only their caller and never the hub.

While the proxy runs, libzmq uses its sockets from that thread, so gzmq
lends them: any other use (send, recv, bind, options, ``events``) raises
:class:`~gzmq.InvalidThreadUseError` naming the proxy instead of racing
with it.  Closing one of them (or its context) terminates the proxy.
"""

from __future__ import annotations

import atexit
import itertools
import os
import sys
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import zmq
from gevent import get_hub
from gevent.lock import Semaphore
from zmq.backend import proxy_steerable as _proxy_steerable
from zope.interface import implementer

from gzmq import _thread
from gzmq._context import EXIT_GRACE
from gzmq._waiting import LENT, Waiting
from gzmq.errors import InvalidThreadUseError, SocketClosedError
from gzmq.interfaces import IProxy
from gzmq.socket import Socket, Writable

__all__ = ["Proxy", "ProxyStatistics", "SideStatistics"]

_get_ident = _thread.get_ident
_ids = itertools.count()

# libzmq 4.3.5 swapped the meaning of PAUSE and RESUME (fixed after it, in
# libzmq PR #4600); send whichever command means what we want.
_SWAPPED = zmq.zmq_version_info() == (4, 3, 5)
_PAUSE = b"RESUME" if _SWAPPED else b"PAUSE"
_RESUME = b"PAUSE" if _SWAPPED else b"RESUME"
_STATISTICS = b"STATISTICS"
_TERMINATE = b"TERMINATE"

_NEW = "new"
_RUNNING = "running"
_ENDED = "ended"
_ENDED_MESSAGE = "Proxy has ended: its sockets are closed (make a new Proxy)"

#: Every running Proxy, so that interpreter exit can stop them first.
_running: weakref.WeakSet[Proxy] = weakref.WeakSet()


@dataclass(frozen=True)
class SideStatistics:
    """What one socket of a proxy has received and sent (messages are frames, as libzmq counts)."""

    received_messages: int = 0
    received_bytes: int = 0
    sent_messages: int = 0
    sent_bytes: int = 0


@dataclass(frozen=True)
class ProxyStatistics:
    """libzmq's STATISTICS of a proxy: the counts of its front end and of its back end.

    libzmq counts frames: a three-frame message counts three.
    """

    front_end: SideStatistics = SideStatistics()
    back_end: SideStatistics = SideStatistics()

    @classmethod
    def decode(cls, frames: list[bytes]) -> ProxyStatistics:
        """Statistics from libzmq's reply: eight native-endian uint64 frames."""
        if len(frames) != 8 or any(len(frame) != 8 for frame in frames):
            raise ValueError(f"not a STATISTICS reply: {frames!r:.200}")
        values = [int.from_bytes(frame, sys.byteorder) for frame in frames]
        return cls(SideStatistics(*values[:4]), SideStatistics(*values[4:]))


@implementer(IProxy)
class Proxy:
    """Forwards messages between ``front_end`` and ``back_end`` at libzmq speed, off the hub.

    ``run()`` blocks the calling greenlet (never the hub) until the proxy
    ends: by ``terminate()``, by closing one of its sockets or their
    context (close() then terminates the proxy), or by killing or timing
    out the greenlet in ``run()``.  When it ends, ``front_end`` and
    ``back_end`` are closed; ``capture`` (optional, a socket that can
    send: it gets a copy of every frame forwarded) is given back open.  A
    Proxy runs once.

    While it runs, the sockets belong to libzmq's proxy: any other use of
    them raises InvalidThreadUseError.  Each must be bound or connected
    before ``run()`` (ValueError otherwise).  ``pause()``, ``resume()`` and
    ``terminate()`` may be called before ``run()``: the proxy then starts
    paused, or ``run()`` closes the sockets and returns at once.
    """

    __slots__ = (
        "__weakref__",
        "_back_end",
        "_capture",
        "_closing",
        "_control",
        "_done",
        "_final",
        "_front_end",
        "_hub",
        "_inner",
        "_lent",
        "_lock",
        "_owed",
        "_owner",
        "_paused",
        "_pool",
        "_state",
        "_terminating",
    )

    def __init__(self, front_end: Socket, back_end: Socket, capture: Socket | None = None) -> None:
        for role, sock in (("front_end", front_end), ("back_end", back_end)):
            if not isinstance(sock, Socket):
                raise TypeError(f"{role} must be a gzmq socket, got {type(sock).__name__}")
        if capture is not None:
            if not isinstance(capture, Socket) or not isinstance(capture, Writable):
                raise TypeError(
                    "capture must be a gzmq socket that can send (Publisher, Push, Pair, "
                    f"Dealer, ...), got {type(capture).__name__}"
                )
            if capture is front_end or capture is back_end:
                raise ValueError("capture must be a socket of its own, not the front or back end")
        self._front_end = front_end
        self._back_end = back_end
        self._capture = capture
        self._state = _NEW
        self._paused = False
        self._terminating = False
        #: The hub's end of the control pair (a Waiting over a raw PAIR).
        self._control: Waiting | None = None
        #: The proxy's end of the control pair (used by the proxy thread).
        self._inner: Any = None
        self._lock = Semaphore()
        #: STATISTICS replies asked for and not read yet (by interrupted callers).
        self._owed = 0
        #: The statistics as of terminate(), once the proxy has ended.
        self._final: ProxyStatistics | None = None
        #: (socket, its owner thread) for each socket lent to the proxy thread.
        self._lent: list[tuple[Socket, int]] = []
        #: Lent sockets whose close() was called meanwhile -> the linger given.
        self._closing: dict[Socket, int | None] = {}
        self._owner = 0
        self._hub: Any = None
        self._pool: Any = None
        #: Set by the proxy thread once libzmq's proxy has returned and let go.
        self._done = threading.Event()

    def __repr__(self) -> str:
        ends = f"{type(self._front_end).__name__} -> {type(self._back_end).__name__}"
        return f"<gzmq.Proxy {self._state} {ends} at {hex(id(self))}>"

    @property
    def front_end(self) -> Socket:
        """The front-end socket."""
        return self._front_end

    @property
    def back_end(self) -> Socket:
        """The back-end socket."""
        return self._back_end

    @property
    def capture(self) -> Socket | None:
        """The capture socket (gets a copy of every frame forwarded), or None."""
        return self._capture

    # -- running --------------------------------------------------------------------

    def run(self) -> None:
        """Forward until the proxy ends; blocks only the calling greenlet.

        Returns once the proxy has ended (terminate(), a socket or the
        context closed) with ``front_end`` and ``back_end`` closed.  If the
        calling greenlet is killed or times out, the proxy is terminated
        and the exception goes on.  Raises RuntimeError if already running,
        SocketClosedError if it has ended, ValueError naming a socket that
        is neither bound nor connected.
        """
        if self._state == _RUNNING:
            raise RuntimeError(f"{self!r} is already running")
        if self._state == _ENDED:
            raise SocketClosedError(_ENDED_MESSAGE)
        roles = [("front_end", self._front_end), ("back_end", self._back_end)]
        if self._capture is not None:
            roles.append(("capture", self._capture))
        for role, sock in roles:
            self._check_socket(role, sock)
        if self._terminating:
            self._state = _ENDED
            self._front_end.close()
            self._back_end.close()
            return
        hub = get_hub()
        pool = hub.threadpool
        self._open_control()
        self._hub = hub
        self._pool = pool
        self._owner = _get_ident()
        seen: set[int] = set()
        for _, sock in roles:
            if id(sock) in seen:
                continue  # front_end may be back_end (libzmq allows it)
            seen.add(id(sock))
            waiting = sock._waiting
            self._lent.append((sock, waiting.owner))
            waiting.owner = LENT
            waiting.holder = self
        self._state = _RUNNING
        _running.add(self)
        pool.maxsize += 1
        try:
            result = pool.spawn(self._forward)
        except BaseException:
            self._finish()
            raise
        result.rawlink(self._finish)
        try:
            error = result.get()
        except BaseException:
            if not result.ready():
                self._request_terminate()
                result.wait()
            if result.ready():
                self._finish()
            raise
        self._finish()
        if error is not None:
            raise error

    def _check_socket(self, role: str, sock: Socket) -> None:
        waiting = sock._waiting
        if waiting.closed:
            raise SocketClosedError(f"{role} socket is closed")
        waiting.check_owner()
        if not sock._endpoints:
            raise ValueError(
                f"{role} socket must be bound or connected before the proxy runs: {sock!r}"
            )
        if waiting.readers or waiting.writers:
            raise RuntimeError(
                f"{role} socket has greenlets waiting in send() or recv(); a proxy needs it "
                "to itself"
            )

    def _open_control(self) -> None:
        """Make the control pair: the proxy's end bound, the hub's end connected."""
        context = self._front_end._context
        address = f"inproc://gzmq.proxy-{os.getpid()}-{next(_ids)}"
        inner = context._raw_socket(zmq.PAIR)
        try:
            outer = context._raw_socket(zmq.PAIR)
        except BaseException:
            inner.close(0)
            raise
        try:
            inner.linger = 0
            outer.linger = 0
            inner.bind(address)
            outer.connect(address)
            control = Waiting(outer)
            if self._paused:
                control.send(_PAUSE, 0)  # read before anything is forwarded
        except BaseException:
            inner.close(0)
            outer.close(0)
            raise
        self._inner = inner
        self._control = control

    def _forward(self) -> zmq.ZMQError | None:
        """(In the proxy thread.) Run libzmq's proxy, then close what it held."""
        error: zmq.ZMQError | None = None
        capture = self._capture
        try:
            _proxy_steerable(
                self._front_end._sock,
                self._back_end._sock,
                capture._sock if capture is not None else None,
                self._inner,
            )
        except zmq.ContextTerminated:
            pass  # the context is going away: that ends the proxy too
        except zmq.ZMQError as exc:
            error = exc
        finally:
            # libzmq has let go: close here, so the sockets are closed even
            # when the hub does not run again (interpreter exit).
            closing = dict(self._closing)
            self._inner.close(0)
            for sock in (self._front_end, self._back_end):
                sock._sock.close(closing.get(sock))
            if capture is not None and capture in closing:
                capture._sock.close(closing[capture])
            self._done.set()
        return error

    def _finish(self, _result: Any = None) -> None:
        """(In the hub.) The proxy has ended: give the sockets back and close them. Idempotent."""
        if self._state != _RUNNING:
            return
        self._state = _ENDED
        _running.discard(self)
        pool = self._pool
        pool.maxsize = max(pool.maxsize - 1, 0)
        self._close_control()
        lent = self._lent
        self._lent = []
        for sock, owner in lent:
            waiting = sock._waiting
            waiting.holder = None
            waiting.owner = owner
        self._front_end.close(self._closing.get(self._front_end))
        self._back_end.close(self._closing.get(self._back_end))
        capture = self._capture
        if capture is not None and capture in self._closing:
            capture.close(self._closing[capture])

    def _close_control(self) -> None:
        """Keep the last statistics replied, then close the hub's end of the control pair."""
        control = self._control
        if control is None:
            return
        if not self._done.is_set():
            # The proxy thread did not start (or failed to): its end is ours.
            self._inner.close(0)
        try:
            while True:
                frames = control.recv(0)
                if len(frames) == 8:
                    self._final = ProxyStatistics.decode(frames)
        except zmq.ZMQError:
            pass  # zmq.Again: nothing more
        outer = control.socket
        control.close(lambda: outer.close(0))

    # -- steering -------------------------------------------------------------------

    def pause(self) -> None:
        """Hold messages (in the sockets' queues) until resume().

        While running, returns once libzmq's proxy has paused.  Before
        run(), the proxy starts paused.  SocketClosedError once it has ended.
        """
        self._steer(_PAUSE, True)

    def resume(self) -> None:
        """Forward again after pause(); returns once libzmq's proxy has resumed."""
        self._steer(_RESUME, False)

    def _steer(self, command: bytes, paused: bool) -> None:
        if self._state == _ENDED:
            raise SocketClosedError(_ENDED_MESSAGE)
        if self._state == _NEW:
            self._paused = paused
            return
        self._exchange(command)
        self._paused = paused

    def statistics(self) -> ProxyStatistics:
        """Messages and bytes received and sent by each side, from libzmq's proxy.

        Blocks only the calling greenlet.  Before run(): all zero.  After
        the proxy has ended: the counts as of its terminate() (or of the
        close() that ended it); SocketClosedError if it ended otherwise
        (its context was terminated).
        """
        if self._state == _NEW:
            return ProxyStatistics()
        if self._state == _RUNNING:
            try:
                return self._exchange(None)
            except SocketClosedError:
                pass  # ended while we waited: the last counts are kept
        if self._final is None:
            raise SocketClosedError(_ENDED_MESSAGE)
        return self._final

    def _exchange(self, command: bytes | None) -> ProxyStatistics:
        """Send ``command`` then STATISTICS; wait for that reply, which tells it was done.

        libzmq 4.3.5 answers every command (an empty frame), later versions
        only STATISTICS: only the eight-frame replies count.
        """
        control = self._control
        if control is None or self._state != _RUNNING:
            raise SocketClosedError(_ENDED_MESSAGE)
        try:
            with self._lock:
                if command is not None:
                    control.send(command)
                control.send(_STATISTICS)
                self._owed += 1
                while True:
                    frames = control.recv()
                    if len(frames) != 8:
                        continue
                    self._owed -= 1
                    if self._owed == 0:  # older replies were for interrupted callers
                        return ProxyStatistics.decode(frames)
        except SocketClosedError:
            raise SocketClosedError(_ENDED_MESSAGE) from None

    def terminate(self) -> None:
        """End the proxy: run() returns, and ``front_end`` and ``back_end`` are closed.

        Returns at once (any thread may call it); the sockets are closed as
        soon as libzmq's proxy has stopped.  Before run(), run() will close
        them and return at once.  Idempotent.
        """
        if self._state == _NEW:
            self._terminating = True
            return
        if self._state == _RUNNING and _get_ident() != self._owner:
            self._hub.loop.run_callback_threadsafe(self._request_terminate)
            return
        self._request_terminate()

    def _request_terminate(self) -> None:
        """Send STATISTICS (kept as the final counts) and TERMINATE; never blocks."""
        control = self._control
        if self._state != _RUNNING or self._terminating or control is None:
            return
        self._terminating = True
        try:
            control.send(_STATISTICS, 0)
            control.send(_TERMINATE, 0)
        except zmq.ZMQError:
            pass  # the context is going away: the proxy ends with ETERM

    def _close_lent(self, sock: Socket, linger: int | None) -> None:
        """``sock.close()`` was called on a socket lent to this proxy: end the proxy.

        The socket is closed (with ``linger``) once libzmq's proxy has let go.
        """
        if _get_ident() != self._owner:
            raise InvalidThreadUseError(
                f"this socket is in use by {self!r}; close it from the thread that runs it"
            )
        self._closing[sock] = linger
        self._request_terminate()


def _stop_all_at_exit() -> None:
    """Interpreter exit: terminate running proxies and wait (bounded) for their threads.

    The hub no longer runs, so the sockets are given back here; gzmq's own
    exit handler (registered before this one, so it runs after) closes them.
    """
    for proxy in list(_running):
        if proxy._owner != _get_ident():
            continue
        proxy._request_terminate()
        proxy._done.wait(EXIT_GRACE)
        if not proxy._done.is_set():
            continue
        proxy._state = _ENDED
        for sock, owner in proxy._lent:
            sock._waiting.holder = None
            sock._waiting.owner = owner
        proxy._lent = []
        control = proxy._control
        if control is not None:
            control.socket.close(0)


atexit.register(_stop_all_at_exit)

# A forked child has no proxy threads: forget the parent's running proxies.
os.register_at_fork(after_in_child=_running.clear)
