"""Live readiness of one socket: what ``readable`` / ``writable`` and the pollers ask.

Readiness comes from :meth:`Waiting.readiness` only (ZMQ_EVENTS with what
the core and its layers hold outside libzmq), so everything gzmq keeps for
a later ``recv()`` counts.  Reading ZMQ_EVENTS may consume the ZMQ_FD edge
that a parked greenlet waits for; readiness() re-checks the parked
greenlets after it: asking consumes nothing and loses no wake-up.
"""

from __future__ import annotations

import errno

import zmq

from gzmq._waiting import Waiting

__all__ = ["POLLERR", "POLLIN", "POLLOUT", "ready"]

#: pyzmq's poll flags as plain ints (the same values as zmq.POLLIN, ...).
POLLIN = int(zmq.POLLIN)
POLLOUT = int(zmq.POLLOUT)
POLLERR = int(zmq.POLLERR)

_ZMQError = zmq.ZMQError
_ENOTSOCK = errno.ENOTSOCK


def ready(waiting: Waiting, flag: int) -> bool:
    """Whether ``flag`` (POLLIN or POLLOUT) is ready now; False once the socket is closed.

    Raises InvalidThreadUseError from a thread (or process) that does not own
    the socket, or while a running gzmq.Proxy holds it.
    """
    waiting.check_owner()
    if waiting.closed:
        return False
    try:
        return bool(waiting.readiness() & flag)
    except _ZMQError as error:
        if waiting.closed or error.errno == _ENOTSOCK:
            return False
        raise
