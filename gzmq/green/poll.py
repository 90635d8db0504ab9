"""Green ``Poller``, ``select`` and ``zmq_poll``: wait on sockets and fds without blocking the hub.

pyzmq's shapes on gzmq's poll engine (:mod:`gzmq._polling`, shared with
:class:`gzmq.Poller`): a poll asks what is ready now and, if nothing is,
the calling greenlet waits on each green socket's own cooperative core, an
io watcher for any other zmq socket or fd, and a timer; it never busy-spins
and never re-polls periodically.  Green and typed gzmq sockets, pyzmq
sockets, fds and objects with ``fileno()`` may be mixed.
"""

from __future__ import annotations

from typing import Any

import zmq

from gzmq import _polling

__all__ = ["Poller", "select", "zmq_poll"]

_OriginalPoller = zmq.Poller


class Poller(_OriginalPoller):
    """pyzmq's :class:`zmq.Poller`, waiting cooperatively.

    Register zmq sockets (green or not, and typed gzmq sockets), raw fds and
    objects with ``fileno()``.  ``poll(timeout)`` (milliseconds, None or
    negative: forever) blocks only the calling greenlet and returns
    ``[(socket or fd, events), ...]`` as pyzmq does.
    """

    def poll(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        """Wait until a registered socket or fd is ready, or ``timeout`` ms pass."""
        return _polling.poll(list(self.sockets), _polling.milliseconds_to_seconds(timeout))


def zmq_poll(sockets: list[tuple[Any, int]], timeout: float = -1) -> list[tuple[Any, int]]:
    """Green ``zmq.zmq_poll``: poll ``(socket or fd, flags)`` pairs, timeout in ms (-1: forever)."""
    return _polling.poll(list(sockets), _polling.milliseconds_to_seconds(timeout))


def select(
    rlist: list[Any], wlist: list[Any], xlist: list[Any], timeout: float | None = None
) -> tuple[list[Any], list[Any], list[Any]]:
    """Green ``zmq.select``: as ``select.select``, for zmq sockets and fds (timeout in seconds)."""
    return _polling.select(rlist, wlist, xlist, timeout)
