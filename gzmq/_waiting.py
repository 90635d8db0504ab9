"""The cooperative core: one :class:`Waiting` per libzmq socket (DESIGN §3).

Typed, draft and gzmq.green sockets all send and receive through it, with
``waiting.send(frames, timeout)`` and ``waiting.recv(timeout, copy)``.  The
core is assembled from one module per concept:

* gzmq._fastpath: the fast-path decision (owner check, fairness, the
  re-check of parked greenlets after every libzmq call, the hand-off to the
  parking path); with the C accelerator, its twin in gzmq/_speedups.c;
* gzmq._parking: parked greenlets and their waits (timeouts, fairness);
* gzmq._handoff: the io watcher, the re-check of parked greenlets after
  every libzmq call, the hand-off of messages to parked receivers;
* gzmq._reservations: messages sent and received frame by frame;
* gzmq._ownership: which thread and process may use the socket.

This module holds the per-socket state and what reads it: ``events()``,
``readiness()``, errors, close.
"""

from __future__ import annotations

import errno
import os
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import zmq
from gevent import get_hub
from greenlet import getcurrent
from zmq.backend import Socket as _BackendSocket

from gzmq import _native, _ownership, _thread
from gzmq._fastpath import COST_SHIFT, FAIRNESS_LIMIT, LARGE_MESSAGE, send_frames
from gzmq._handoff import Handoff
from gzmq._ownership import CLOSED, FORKED, LENT, Ownership
from gzmq._parking import Parking, as_copy
from gzmq._reservations import Reservation, Reservations
from gzmq.errors import SocketClosedError

__all__ = [
    "CLOSED",
    "COST_SHIFT",
    "FAIRNESS_LIMIT",
    "LARGE_MESSAGE",
    "LENT",
    "Frames",
    "Waiting",
    "as_copy",
    "zmq_error",
]

Frames = Sequence[Any]

# Plain ints on the hot path, not pyzmq's IntFlag members.
_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)
_EVENTS = int(zmq.EVENTS)
_TYPE = int(zmq.TYPE)
_ENOTSOCK = int(zmq.ENOTSOCK)
_ETERM = int(zmq.ETERM)
_THREAD_SAFE = int(zmq.THREAD_SAFE)
_DraftFDWarning: Any = getattr(zmq.error, "DraftFDWarning", None)

#: Socket types whose libzmq load balancer drops the rest of a message whose
#: pipe died under it (lb_t's "dropping" mode).
_LOAD_BALANCED = frozenset(int(kind) for kind in (zmq.DEALER, zmq.PUSH, zmq.REQ))
_REQ = int(zmq.REQ)

_get = _BackendSocket.get
_get_ident = _thread.get_ident
_getsockopt_int = _native.getsockopt_int


def zmq_error(number: int) -> zmq.ZMQError:
    """The pyzmq exception for a libzmq errno, as pyzmq itself would raise it."""
    if number == errno.EAGAIN:
        return zmq.Again(number)
    if number == _ETERM:
        return zmq.ContextTerminated(number)
    if number == errno.EINTR:
        return zmq.InterruptedSystemCall(number)
    return zmq.ZMQError(number)


class Waiting(Reservations, Parking, Handoff, Ownership, _native.Gate):
    """Cooperative send/receive on one pyzmq socket, for any number of greenlets.

    Native sockets and ``gzmq.green`` sockets both hold one.  The object is
    owned by the thread (and the gevent hub) that made it.
    """

    __slots__ = (
        "__weakref__",
        "_delivery",
        "_held",
        "_signaler",
        "describe",
        "held_frames",
        "holder",
        "kind",
        "movable",
        "pid",
        "poll_in",
        "poll_out",
        "socket",
    )
    # handle, owner, readers, writers, polling, streak, closed, hub, _watcher,
    # _watching, receive_timeout and send_timeout are fields of the Gate base
    # (C fields with the accelerator, read by its fast and parking paths).

    def __init__(self, socket: zmq.Socket[Any], movable: bool = False) -> None:
        self.socket = socket
        #: The libzmq socket type (ZMQ_TYPE).
        self.kind = int(_get(socket, _TYPE))
        self.hub = get_hub()
        self.owner = _get_ident()
        self.pid = os.getpid()
        #: Whether an idle socket may move to another thread (gzmq.green, as pyzmq).
        self.movable = movable
        self.readers: deque[Any] = deque()
        self.writers: deque[Any] = deque()
        #: Polls and readiness waits (gzmq._parking.Parking.watch), per direction.
        self.poll_in: list[Any] = []
        self.poll_out: list[Any] = []
        self.polling = 0
        self.streak = 0
        self.closed = False
        #: Milliseconds, as libzmq's RCVTIMEO/SNDTIMEO: -1 forever, 0 once.
        self.receive_timeout = -1
        self.send_timeout = -1
        self._watcher: Any = None
        self._watching = False
        #: Whether a hand-off (_deliver) is queued in the hub.
        self._delivery = False
        #: How many held messages (``_Parked.held``) head the readers queue.
        self._held = 0
        #: How many frame-by-frame reads hold frames taken out of libzmq (readable).
        self.held_frames = 0
        #: Whether the watcher watches a zmq_poller fd (thread-safe socket).
        self._signaler = False
        #: The libzmq socket's address, for the C accelerator.
        self.handle: int = socket.underlying
        #: What the socket is lent to while ``owner`` is LENT (see gzmq.proxy), or
        #: a str saying why it is busy.
        self.holder: Any = None
        #: Names the socket in SocketClosedError ("gzmq.Pull (tcp://...)"), if set.
        self.describe: Callable[[], str] | None = None
        _ownership.register(self)

    # -- readiness ------------------------------------------------------------

    def events(self) -> int:
        """Read ZMQ_EVENTS (this also re-arms the ZMQ_FD edge), with held messages readable."""
        if self.owner != _get_ident():
            self.wrong_owner()
        held = _POLLIN if self._held or self.held_frames else 0
        if _getsockopt_int is not None:
            value = _getsockopt_int(self.handle, _EVENTS)
            if value >= 0:
                return value | held
        return int(_get(self.socket, _EVENTS)) | held

    def readiness(self) -> int:
        """POLLIN / POLLOUT as the calling greenlet sees them, consuming no wake-up.

        ZMQ_EVENTS, plus what the core holds outside libzmq (messages and
        frames held for a later recv() are readable); while a frame-by-frame
        message of another greenlet keeps the head of the send queue, not
        writable.  Greenlets parked on the socket are re-checked afterwards
        (the read may have consumed their ZMQ_FD edge).
        """
        ev = self.events()
        writers = self.writers
        if writers:
            head = writers[0]
            if head.__class__ is Reservation and head.sender() is not getcurrent():
                ev &= ~_POLLOUT
        if self.readers or writers or self.polling:
            self.refresh()
        return ev

    # -- errors ---------------------------------------------------------------

    def closed_error(self) -> SocketClosedError:
        """The SocketClosedError for this socket, naming it when the owner said how."""
        describe = self.describe
        if describe is None:
            return SocketClosedError()
        try:
            return SocketClosedError(f"Socket is closed: {describe()}")
        except Exception:  # noqa: BLE001 - a failing description must not hide the error
            return SocketClosedError()

    def fail(self, error: zmq.ZMQError) -> None:
        """Re-raise a libzmq error, as SocketClosedError if the socket was closed."""
        if self.closed or error.errno == _ENOTSOCK:
            raise self.closed_error() from None
        raise error

    def fail_errno(self, number: int) -> None:
        """Raise the error for libzmq's errno ``number`` (SocketClosedError if closed)."""
        if self.closed or number == _ENOTSOCK:
            raise self.closed_error()
        raise zmq_error(number)

    def partial_send(self, frames: Any, index: int, number: int) -> bool:
        """Frame ``index`` of a message failed after earlier frames went: finish it.

        True when the message is done with (sent, or dropped by libzmq as it
        would drop it in a blocking send); False when nothing of it reached
        a peer and it should be sent again whole.  libzmq accepts the rest of
        a message whose first frame it accepted, unless the pipe it went to
        died in between (its peer left): it then drops the frames already
        written with the pipe, so they never arrive.  A load-balancing socket
        (DEALER, PUSH, REQ) then drops the rest of the message itself, which
        is sent to end it; any other socket (PAIR) would give the rest to the
        next peer as a message of its own, so it is not sent.  A REQ socket
        then waits for a reply as if the request went, as it does with a
        blocking send.  Other errors are raised.
        """
        if frames.__class__ is bytes:
            frames = (frames,)
        while number == errno.EINTR:  # interrupted: the same frame again
            result = send_frames(self.socket, frames, index)
            if result == 0:
                return True
            if result.__class__ is tuple:
                index, number = result
            else:
                number = -result
        if number != errno.EAGAIN:
            self.fail_errno(number)
        if self.kind in _LOAD_BALANCED:
            if index < len(frames) - 1:
                send_frames(self.socket, frames, index)  # dropped by libzmq up to the last frame
            return self.kind == _REQ
        return False

    # -- ownership ------------------------------------------------------------

    def adopt(self) -> None:
        """Move this idle socket to the calling thread (a gzmq.green socket, as pyzmq allows)."""
        self.owner = _get_ident()
        self.hub = get_hub()
        self._watcher = None  # the old hub's; made again in this one when needed
        self._watching = False
        self.streak = 0

    def owned_elsewhere(self) -> bool:
        """Whether another live thread of this process owns the socket (close() hands off)."""
        owner = self.owner
        return (
            owner >= 0
            and owner != _get_ident()
            and self.pid == os.getpid()
            and _thread.is_running(owner)
        )

    def call_in_owner(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function(*args)`` in the owning thread's hub, soon (from any thread)."""
        self.hub.loop.run_callback_threadsafe(function, *args)

    def disown(self) -> None:
        """In a forked child: this socket is the parent's; every use raises."""
        self.owner = FORKED
        self.readers.clear()
        self.writers.clear()
        self.poll_in.clear()
        self.poll_out.clear()
        self.polling = 0
        self._held = 0
        self.held_frames = 0
        self._watcher = None
        self._watching = False

    # -- the io watcher's fd ----------------------------------------------------

    def _watch_fd(self) -> int:
        """The fd the io watcher waits on: ZMQ_FD, or a stand-in for a thread-safe socket.

        Thread-safe (draft) sockets have no ZMQ_FD; pyzmq built with the draft
        API returns the fd of a zmq_poller holding the socket instead.  That fd
        is libzmq's signaler (an eventfd): libzmq signals it with the same edges
        as ZMQ_FD, but nothing resets it, so the watcher callback drains it
        before reading ZMQ_EVENTS.
        """
        socket = self.socket
        self._signaler = _thread_safe(socket)
        if not self._signaler or _DraftFDWarning is None:
            return int(_get(socket, zmq.FD))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", _DraftFDWarning)  # the stand-in is what we want
            fd = int(_get(socket, zmq.FD))
        os.set_blocking(fd, False)  # libzmq made it so; draining relies on it
        return fd

    # -- close ----------------------------------------------------------------

    def close(self, closer: Callable[[], None] | None = None) -> None:
        """Mark closed, wake every waiter with SocketClosedError, stop the watcher.

        Call from the owning thread (layers hand a close from another thread
        over with call_in_owner).  ``closer`` closes the libzmq socket; it is
        skipped in a forked child, where the parent's libzmq state must not
        be touched.
        """
        if self.closed:
            return
        self.closed = True
        owned = _get_ident() == self.owner
        self.owner = CLOSED
        watcher = self._watcher
        self._watcher = None
        self._watching = False
        if watcher is not None:
            watcher.stop()
            watcher.close()
        waiting = list(self.readers) + list(self.writers) + self.poll_in + self.poll_out
        self.readers.clear()
        self._held = 0  # dropped with the socket, as libzmq drops what it queued
        self.held_frames = 0
        self.writers.clear()
        self.poll_in.clear()
        self.poll_out.clear()
        self.polling = 0
        if self.pid == os.getpid():
            if waiting and owned:
                run_callback = self.hub.loop.run_callback
                for entry in waiting:
                    entry.woken = True
                    run_callback(entry.resume)
            if closer is not None:
                closer()
            _native.release_after_close(self.hub)  # large frames libzmq still holds
        _ownership.forget(self)


def _thread_safe(socket: zmq.Socket[Any]) -> bool:
    """Whether libzmq lets threads share the socket (the draft types do)."""
    try:
        return bool(_get(socket, _THREAD_SAFE))
    except zmq.ZMQError:
        return False  # a libzmq without ZMQ_THREAD_SAFE has no such sockets

