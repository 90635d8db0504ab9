"""Per-socket state of a ``gzmq.green`` socket, shared by the socket, Poller and proxy.

A green socket keeps everything mutable in one slotted :class:`State`
object (pyzmq's ``Socket.__setattr__`` is slow and maps names to options).
The :class:`~gzmq._waiting.Waiting` is given a *shadow* backend socket on
the same libzmq handle rather than the green socket itself, so that nothing
the hub may hold (the io watcher, a timer) refers back to the green socket:
a forgotten socket is freed by reference counting, closed by pyzmq's
``__del__``, as with plain pyzmq.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, cast

import zmq
from zmq.backend import Socket as _BackendSocket

from gzmq._waiting import Waiting
from gzmq.errors import InvalidThreadUseError, SocketClosedError

__all__ = ["BUSY_STREAK", "State", "state_for", "state_of", "waiting_here"]

_get_ident = threading.get_ident
_get = _BackendSocket.get
_RCVTIMEO = int(zmq.RCVTIMEO)
_SNDTIMEO = int(zmq.SNDTIMEO)

#: A streak no fast path accepts: while a proxy runs, every call takes the
#: slow path, which raises instead of touching the socket.
BUSY_STREAK = 1 << 62


class State:
    """Mutable state of one green socket (no reference to the socket itself)."""

    __slots__ = ("__weakref__", "busy", "handle", "rstash", "shadow", "sstash", "waiting")

    def __init__(self, shadow: _BackendSocket, read_timeouts: bool) -> None:
        self.shadow = shadow
        self.handle: int = shadow.underlying
        # Waiting needs only the backend methods, which the shadow has.
        self.waiting = Waiting(cast(Any, shadow))
        if read_timeouts:
            try:
                self.waiting.receive_timeout = int(_get(shadow, _RCVTIMEO))
                self.waiting.send_timeout = int(_get(shadow, _SNDTIMEO))
            except zmq.ZMQError:
                pass
        #: Greenlet -> the rest of a multipart message it has started to read
        #: frame by frame (the whole message is taken from libzmq at once).
        self.rstash: dict[Any, Any] = {}
        #: Greenlet -> the frames it has sent with SNDMORE so far (the whole
        #: message goes to libzmq when its last frame is sent).
        self.sstash: dict[Any, list[Any]] = {}
        #: Why the socket may not be used now (a running proxy), or None.
        self.busy: str | None = None

    def mark_closed(self) -> None:
        """Make the shadow refuse libzmq calls (the handle is about to be freed)."""
        self.shadow._closed = True  # type: ignore[attr-defined]  # pyzmq's stubs omit it


#: libzmq handle -> the State of the green sockets on it: green objects that
#: shadow one libzmq socket share one Waiting (one queue, one watcher), so an
#: operation through one of them never loses another's wake-up.
_by_handle: weakref.WeakValueDictionary[int, State] = weakref.WeakValueDictionary()


def state_for(handle: int, shadowing: bool) -> State:
    """The State for a new green socket object on libzmq socket ``handle``."""
    state = _by_handle.get(handle) if shadowing else None
    if state is None or state.waiting.closed or state.waiting.pid != os.getpid():
        # The Waiting holds a second handle object, never the green socket.
        state = State(_BackendSocket(shadow=handle), read_timeouts=shadowing)
        _by_handle[handle] = state
    return state


def state_of(sock: Any) -> State | None:
    """The State of a green socket, or None for any other object."""
    try:
        state = sock.__dict__.get("_g")
    except AttributeError:
        return None
    return state if isinstance(state, State) else None


def waiting_here(state: State) -> Waiting:
    """The socket's Waiting, usable from the calling thread.

    pyzmq lets a socket move to another thread between uses; so does this:
    an idle socket (nobody waiting on it) is re-attached to the calling
    thread's hub.  A socket with waiters in another thread, a socket used by
    a running proxy, or one inherited through fork raises a clear error.
    """
    if state.busy is not None:
        raise InvalidThreadUseError(state.busy)
    waiting = state.waiting
    if waiting.owner == _get_ident():
        return waiting
    if waiting.closed:
        raise SocketClosedError()
    if waiting.pid != os.getpid() or waiting.readers or waiting.writers:
        waiting.wrong_owner()
    moved = Waiting(cast(Any, state.shadow))
    moved.receive_timeout = waiting.receive_timeout
    moved.send_timeout = waiting.send_timeout
    state.waiting = moved
    return moved
