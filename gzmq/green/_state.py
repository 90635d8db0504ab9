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
import weakref
from typing import Any, cast

import zmq
from zmq.backend import Socket as _BackendSocket

from gzmq import _thread
from gzmq._reservations import Reservation
from gzmq._waiting import Waiting

__all__ = ["State", "state_for", "state_of", "waiting_here"]

_get_ident = _thread.get_ident
_get = _BackendSocket.get
_RCVTIMEO = int(zmq.RCVTIMEO)
_SNDTIMEO = int(zmq.SNDTIMEO)


class State:
    """Mutable state of one green socket (no reference to the socket itself)."""

    __slots__ = ("__weakref__", "handle", "shadow", "sstash", "waiting")

    def __init__(self, shadow: _BackendSocket, read_timeouts: bool) -> None:
        self.shadow = shadow
        self.handle: int = shadow.underlying
        # Waiting needs only the backend methods, which the shadow has.  An
        # idle green socket may move between threads, as pyzmq's may.
        self.waiting = Waiting(cast(Any, shadow), movable=True)
        if read_timeouts:
            try:
                self.waiting.receive_timeout = int(_get(shadow, _RCVTIMEO))
                self.waiting.send_timeout = int(_get(shadow, _SNDTIMEO))
            except zmq.ZMQError:
                pass
        #: Greenlet -> (its place at the head of the send queue, the frames it
        #: has sent with SNDMORE so far): the whole message goes to libzmq when
        #: its last frame is sent.
        self.sstash: dict[Any, tuple[Reservation, list[Any]]] = {}

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
    """The socket's Waiting, checked for use by the calling thread.

    pyzmq lets a socket move to another thread between uses; so does the
    core (an idle green socket is adopted by the calling thread).  A socket
    with waiters in another thread, one used by a running proxy, a closed
    one, or one inherited through fork raises a clear error.
    """
    waiting = state.waiting
    if waiting.owner != _get_ident():
        waiting.wrong_owner()
    return waiting
