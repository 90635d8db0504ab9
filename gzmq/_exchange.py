"""``Request.request()``: one whole exchange, atomic among the greenlets sharing a Request.

Greenlets that call ``request()`` on one socket take turns in arrival order
(:class:`Turns`); each turn is a send() of the request and a recv() of its
reply, so no other greenlet's send can come between them (libzmq's REQ
allows only that alternation, and a second send() fails with EFSM).

A turn given up once its request has gone out (a timeout, a kill, a
``gevent.Timeout`` of the caller) leaves libzmq's REQ waiting for that
reply.  The socket is then switched to ``relaxed`` (a new request may go
out before the old reply came) and ``correlate`` (requests carry an id and
a reply that does not carry the last one's is dropped), so the next
exchange works and never receives the late reply of the abandoned one.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

import zmq
from gevent import get_hub
from gevent.hub import Waiter

from gzmq._timeouts import check_seconds

if TYPE_CHECKING:
    from gzmq.socket import Message
    from gzmq.sockets import Request

__all__ = ["Turns", "request"]


class _Ticket:
    """A greenlet's place in the queue of a :class:`Turns`."""

    __slots__ = ("granted", "waiter")

    def __init__(self, waiter: Waiter) -> None:
        self.waiter = waiter
        self.granted = False


class Turns:
    """Greenlets take turns, first come first served (a FIFO lock).

    On release the turn is handed to the head of the queue at once, so a
    greenlet that arrives later cannot take it first (gevent's Semaphore lets
    a newcomer take a released lock before the waiter it woke runs).  Belongs
    to one thread, as the socket does.
    """

    __slots__ = ("_busy", "_queue")

    def __init__(self) -> None:
        self._busy = False
        self._queue: deque[_Ticket] = deque()

    def acquire(self, timeout: float | None) -> bool:
        """Wait for this greenlet's turn; False if ``timeout`` seconds pass first (None: forever).

        A kill or a caller's gevent.Timeout while waiting leaves the queue
        (handing the turn on if it had just been given).
        """
        if not self._busy:
            self._busy = True
            return True
        if timeout is not None and timeout <= 0:
            return False
        hub = get_hub()
        ticket = _Ticket(Waiter(hub))
        self._queue.append(ticket)
        timer = None
        if timeout is not None:
            timer = hub.loop.timer(timeout)
            timer.start(ticket.waiter.switch, None)
        done = False
        try:
            ticket.waiter.get()
            done = True
        finally:
            if timer is not None:
                timer.stop()
                timer.close()
            if not ticket.granted:
                self._queue.remove(ticket)
            elif not done:
                self.release()  # interrupted just after the turn came: pass it on
        return ticket.granted

    def release(self) -> None:
        """End the current turn: the longest waiting greenlet gets the next one."""
        if self._queue:
            ticket = self._queue.popleft()
            ticket.granted = True  # still busy: the turn passes without a gap
            get_hub().loop.run_callback(ticket.waiter.switch, None)
        else:
            self._busy = False


def request(sock: Request, turns: Turns, message: Message, timeout: float | None) -> list[bytes]:
    """Send ``message`` and receive its reply in one turn (see :meth:`gzmq.Request.request`)."""
    if timeout is None:
        seconds = None
        deadline = None
    else:
        seconds = check_seconds(timeout)
        deadline = None if seconds is None else time.monotonic() + seconds
    if not turns.acquire(seconds):
        late = zmq.Again()  # pyzmq's Again ignores a message argument
        late.strerror = (
            f"{type(sock).__name__}.request() timed out after {timeout} s waiting for its turn "
            "(other greenlets' exchanges on this socket came first); nothing was sent"
        )
        raise late
    sent = False
    answered = False
    try:
        # timeout=None: the socket's send_timeout / receive_timeout apply.
        if timeout is None:
            sock.send(message)
        else:
            sock.send(message, timeout=_left(deadline))
        sent = True
        reply = sock.recv() if timeout is None else sock.recv(timeout=_left(deadline))
        answered = True
        return reply
    finally:
        if sent and not answered and not sock.closed:
            # The reply to what went out will not be read here: let the next
            # request go and have libzmq drop that reply when it comes.
            sock.relaxed = True
            sock.correlate = True
        turns.release()


def _left(deadline: float | None) -> float:
    """Seconds left before ``deadline`` (None: forever, as -1)."""
    if deadline is None:
        return -1
    return max(deadline - time.monotonic(), 0.0)
