"""Waiting on several sockets at once: :class:`Poller` and :func:`select`, in pyzmq's shape.

A broker waits on its front end and its back end together::

    poller = gzmq.Poller()
    poller.register(front, gzmq.POLLIN)
    poller.register(back, gzmq.POLLIN)
    while True:
        ready = dict(poller.poll())
        if ready.get(front, 0) & gzmq.POLLIN:
            back.send(front.recv())
        if ready.get(back, 0) & gzmq.POLLIN:
            front.send(back.recv())

Typed gzmq sockets, gzmq.green and pyzmq sockets, file descriptors and
objects with ``fileno()`` may be mixed.  A poll blocks only the calling
greenlet; it never busy-spins and never re-polls on a timer: it waits in
each gzmq socket's cooperative core, so an edge consumed by another
greenlet's operation still wakes it, and messages gzmq holds for a later
``recv()`` count as readable.  Any number of greenlets may poll the same
sockets.  A socket closed while polled raises SocketClosedError in the
poll, as in ``recv()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, Union

from gzmq import _polling
from gzmq._readiness import POLLERR, POLLIN, POLLOUT

if TYPE_CHECKING:
    import zmq

    from gzmq.socket import Socket

__all__ = ["POLLERR", "POLLIN", "POLLOUT", "Pollable", "Poller", "select"]


class _HasFileno(Protocol):
    def fileno(self) -> int: ...


#: What a poll can wait on: a gzmq socket, a pyzmq (or gzmq.green) socket, an fd,
#: or an object with fileno().
Pollable = Union["Socket", "zmq.Socket[Any]", int, _HasFileno]


class Poller:
    """Waits on several sockets and fds at once (pyzmq's :class:`zmq.Poller` shape).

    ``register(socket, flags)`` with ``gzmq.POLLIN``, ``gzmq.POLLOUT`` (and
    ``POLLERR``, for fds), ``modify``, ``unregister``; ``poll(timeout)`` in
    milliseconds returns ``[(socket, events), ...]`` (an object with
    ``fileno()`` is reported as its fd number, as pyzmq does).  Not for
    sharing between threads; any number of greenlets may poll at once.
    """

    __slots__ = ("_flags",)

    def __init__(self) -> None:
        self._flags: dict[Any, int] = {}

    def __repr__(self) -> str:
        return f"<gzmq.Poller of {len(self._flags)} at {hex(id(self))}>"

    @property
    def sockets(self) -> list[tuple[Any, int]]:
        """The registered ``(socket or fd, flags)`` pairs, in registration order."""
        return list(self._flags.items())

    def register(self, socket: Pollable, flags: int = POLLIN | POLLOUT) -> None:
        """Wait on ``socket`` for ``flags``; registering again changes its flags; 0 unregisters.

        A closed gzmq socket raises SocketClosedError when polled (not here).
        """
        _polling.pollable(socket)
        flags = _polling.check_flags(flags)
        if flags:
            self._flags[socket] = flags
        else:
            self._flags.pop(socket, None)

    def modify(self, socket: Pollable, flags: int = POLLIN | POLLOUT) -> None:
        """Change the flags of ``socket`` (as register)."""
        self.register(socket, flags)

    def unregister(self, socket: Pollable) -> None:
        """Stop waiting on ``socket``; KeyError if it is not registered."""
        try:
            del self._flags[socket]
        except KeyError:
            raise KeyError(f"{socket!r:.80} is not registered with this Poller") from None

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait until a registered socket or fd is ready, or ``timeout`` milliseconds pass.

        ``timeout`` None or negative waits forever, 0 only looks.  Returns
        ``[(socket or fd, events), ...]`` for the ready ones (empty on
        timeout); ``dict(poller.poll())`` maps each to its events.  Blocks
        only the calling greenlet.
        """
        seconds = _polling.milliseconds_to_seconds(timeout)
        return _polling.poll(list(self._flags.items()), seconds)


def select(
    rlist: Iterable[Pollable],
    wlist: Iterable[Pollable],
    xlist: Iterable[Pollable],
    timeout: float | None = None,
) -> tuple[list[Any], list[Any], list[Any]]:
    """Wait until some of the sockets or fds are ready (zmq.select's shape; ``timeout`` seconds).

    Returns three lists: those ready to receive (``rlist``), to send
    (``wlist``), and fds in error (``xlist``); all empty on timeout.  None
    waits forever.  Blocks only the calling greenlet.
    """
    groups = [list(rlist), list(wlist), list(xlist)]
    for group in groups:
        for target in group:
            _polling.pollable(target)
    return _polling.select(groups[0], groups[1], groups[2], timeout)
