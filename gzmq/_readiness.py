"""Live readiness of one socket: what ``readable`` / ``writable`` and the pollers ask.

Readiness comes from :meth:`Waiting.events` only (ZMQ_EVENTS ORed with what
the core holds outside libzmq), so every frame gzmq keeps for a later
``recv()`` counts.  Reading ZMQ_EVENTS may consume the ZMQ_FD edge that a
parked greenlet waits for, so every read is followed by
:meth:`Waiting.after_call`, which re-checks the parked greenlets: asking
consumes nothing and loses no wake-up.
"""

from __future__ import annotations

import errno

import zmq

from gzmq._waiting import Waiting

__all__ = ["POLLERR", "POLLIN", "POLLOUT", "events_now", "ready"]

#: pyzmq's poll flags as plain ints (the same values as zmq.POLLIN, ...).
POLLIN = int(zmq.POLLIN)
POLLOUT = int(zmq.POLLOUT)
POLLERR = int(zmq.POLLERR)

_ZMQError = zmq.ZMQError
_ENOTSOCK = errno.ENOTSOCK


def events_now(waiting: Waiting) -> int:
    """The socket's ready directions now (POLLIN | POLLOUT bits); raises SocketClosedError.

    The caller has checked that this thread owns the socket.
    """
    try:
        return waiting.events()
    finally:
        waiting.after_call()


def ready(waiting: Waiting, flag: int) -> bool:
    """Whether ``flag`` (POLLIN or POLLOUT) is ready now; False once the socket is closed.

    Raises InvalidThreadUseError from a thread (or process) that does not own
    the socket, or while a running gzmq.Proxy holds it.
    """
    waiting.check_owner()
    if waiting.closed:
        return False
    try:
        events = waiting.events()
    except _ZMQError as error:
        if waiting.closed or error.errno == _ENOTSOCK:
            return False
        raise
    finally:
        waiting.after_call()
    return bool(events & flag)
