"""Who may use a socket: the owning thread and process (DESIGN §3 rule 8).

A socket belongs to the thread (and the gevent hub) that made it.  Its
cooperative core keeps the owner's thread ident in ``owner``; every fast
path and every libzmq call of the parking path compares it with the calling
thread's, in the same call as the libzmq call.  ``owner`` becomes a
negative sentinel, which no thread has, when the socket is closed
(:data:`CLOSED`), lent to another thread (:data:`LENT`, a running
gzmq.Proxy) or inherited through fork (:data:`FORKED`), so that one
comparison covers every case; :meth:`Ownership.wrong_owner` then says which.

A forked child disowns every socket it inherited (:func:`_disown_after_fork`).
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any

import gevent
from gevent._hub_local import get_hub_if_exists

from gzmq import _native, _thread
from gzmq.errors import InvalidThreadUseError, SocketClosedError

__all__ = ["CLOSED", "FORKED", "LENT", "Ownership", "register"]

#: ``owner`` of a closed socket.
CLOSED = -2

#: ``owner`` of a socket lent to libzmq in another thread (``holder``, a
#: running proxy): every call raises until the holder gives it back.
LENT = -3

#: ``owner`` of a socket inherited through fork.
FORKED = -1

_get_ident = _thread.get_ident

#: Every live core, so that a forked child can disown them all.
_live: weakref.WeakSet[Any] = weakref.WeakSet()


def register(core: Any) -> None:
    """Track ``core`` (a Waiting) so that a forked child disowns it."""
    _live.add(core)


def forget(core: Any) -> None:
    """Stop tracking ``core`` (it is closed)."""
    _live.discard(core)


class Ownership:
    """Mixin of gzmq._waiting.Waiting: the errors of a call its owner may not make."""

    if not TYPE_CHECKING:  # mypy would take the empty slots for the attributes' list
        __slots__ = ()

    owner: int
    closed: bool
    holder: Any
    pid: int
    movable: bool
    readers: Any
    writers: Any

    if TYPE_CHECKING:
        def closed_error(self) -> SocketClosedError: ...
        def adopt(self) -> None: ...

    def check_owner(self) -> None:
        """Raise unless the calling thread (and process) owns this socket, or it is closed."""
        owner = self.owner
        if _get_ident() != owner and owner != CLOSED:
            self.wrong_owner()

    def wrong_owner(self) -> None:
        """Raise the error for a call from a thread or process that may not use the socket.

        A closed socket raises SocketClosedError.  An idle gzmq.green socket
        (``movable``, nobody waiting on it) moves to the calling thread, as
        pyzmq lets a socket do between uses, and the call goes on.
        """
        if self.closed:
            raise self.closed_error()
        holder = self.holder
        if holder is not None and self.pid == os.getpid():
            if isinstance(holder, str):
                raise InvalidThreadUseError(holder)
            raise InvalidThreadUseError(
                f"this socket is in use by {holder!r}, which runs it in another "
                "thread; it cannot be used until that ends"
            )
        if self.pid != os.getpid() or self.owner == FORKED:
            raise InvalidThreadUseError(
                f"this socket belongs to process {self.pid} and cannot be used "
                "after fork; create a new socket in the child"
            )
        if self.movable and not self.readers and not self.writers:
            self.adopt()
            return
        raise InvalidThreadUseError(
            "this socket belongs to another thread; gevent sockets are bound to the "
            "hub of the thread that created them (create one socket per thread)"
        )


def _disown_after_fork() -> None:
    """In a forked child, make every inherited socket refuse to be used.

    The forking thread's gevent hub is prepared for the new process too
    (``gevent.reinit()``, as ``gevent.fork()`` and a monkey-patched
    ``os.fork`` do): without it, a plain ``os.fork()`` leaves a threadpool
    whose threads are gone, and closing a context there (its terminate call
    runs in the threadpool, off the hub) would wait forever.
    """
    _native.after_fork_in_child()
    for core in list(_live):
        core.disown()
    if get_hub_if_exists() is not None:
        gevent.reinit()


os.register_at_fork(after_in_child=_disown_after_fork)
