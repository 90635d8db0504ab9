"""The fast-path decision of the cooperative core, in pure Python.

This module is the reference: ``gzmq/_speedups.c`` implements the same
:class:`Gate` in C, method by method and line by line (tests/test_fastpath.py
checks that the two stay mirrors).  Every layer (typed, draft and green
sockets) sends and receives through a Gate's :meth:`~Gate.recv` and
:meth:`~Gate.send`, and the parking path (gzmq._parking) through
:meth:`~Gate.try_recv` and :meth:`~Gate.try_send`, so that the decision is
made in one place:

* **who may call libzmq**: the calling thread owns the socket and it is
  open, checked in the same call as the libzmq call (``owner`` is a thread
  ident, or a negative sentinel once closed or lent, which no thread has);
* **whether the fast path may run**: nobody of that direction is parked
  (first come, first served) and the fairness budget is not spent;
* **what a completion costs the budget** (``streak``): a received message 1,
  a sent one ``1 + bytes >> COST_SHIFT``, whatever path it took;
* **whom to re-check** after *any* libzmq call (success, EAGAIN or another
  error): the call may have consumed the ZMQ_FD edge that a greenlet parked
  in the other direction waits for, so ``refresh()`` re-reads ZMQ_EVENTS if
  anyone is parked there;
* **the hand-off to the parking path** (``wait_recv`` / ``wait_send``) when
  the fast path may not run or libzmq says EAGAIN.

The methods the Gate calls on itself (``refresh``, ``wait_recv``,
``wait_send``, ``wrong_owner``, ``fail_errno``, ``partial_send``, ``hold``)
belong to gzmq._waiting.Waiting, its subclass.

The functions here that only talk to libzmq through pyzmq (``recv_frames``,
``send_frames``) decide nothing; the C Gate calls them too, for what it does
not do itself (zmq.Frame results, frames other than bytes).
"""

from __future__ import annotations

import errno
from collections import deque
from typing import TYPE_CHECKING, Any

import zmq
from zmq.backend import Socket as _BackendSocket

from gzmq import _thread

__all__ = [
    "COST_SHIFT",
    "FAIRNESS_LIMIT",
    "LARGE_MESSAGE",
    "Gate",
    "cost_of",
    "recv_frames",
    "send_frames",
]

#: Consecutive immediate completions on one socket before the next call
#: yields to the hub once (zeromq.js uses the same bound).
FAIRNESS_LIMIT = 512

#: A message sent costs ``1 + len >> COST_SHIFT`` of the fairness budget, so
#: a sender yields after 512 messages or ~128 KiB, whichever comes first.
#: Its reader in the same thread then runs while the messages are in cache.
COST_SHIFT = 8

#: With the accelerator, a frame of this many bytes or more is sent without
#: a copy (libzmq reads the bytes object itself): one large block freed per
#: message instead of two, so glibc does not trim the heap top and fault it
#: back in on every message.
LARGE_MESSAGE = 64 * 1024

_LIMIT = FAIRNESS_LIMIT
_EAGAIN = errno.EAGAIN
_MINUS_EAGAIN = -errno.EAGAIN
_DONTWAIT = int(zmq.DONTWAIT)
_SNDMORE = int(zmq.SNDMORE)
_RCVMORE = int(zmq.RCVMORE)
_Again = zmq.Again
_ZMQError = zmq.ZMQError
_send = _BackendSocket.send
_recv = _BackendSocket.recv
_get = _BackendSocket.get
_get_ident = _thread.get_ident


def _once(timeout: Any) -> bool:
    """Whether ``timeout`` is a zero of int or float (try once, never wait)."""
    kind = timeout.__class__
    return (kind is int or kind is float) and timeout == 0


def cost_of(frames: Any) -> int:
    """What sending ``frames`` (bytes, or a list or tuple of frames) costs the fairness budget."""
    if frames.__class__ is bytes:
        return 1 + (len(frames) >> COST_SHIFT)
    size = 0
    for frame in frames:
        size += frame.nbytes if frame.__class__ is memoryview else len(frame)
    return 1 + (size >> COST_SHIFT)


def _all_bytes(data: Any) -> bool:
    """Whether ``data`` is bytes, or a non-empty list or tuple of bytes."""
    kind = data.__class__
    if kind is bytes:
        return True
    if (kind is not list and kind is not tuple) or not data:
        return False
    for frame in data:
        if frame.__class__ is not bytes:
            return False
    return True


def recv_frames(socket: Any, copy: bool, part: bool = False) -> Any:
    """One whole message with DONTWAIT through pyzmq: a list (bytes, or zmq.Frame
    when not ``copy``), or -errno (-EAGAIN: none there); with ``part``, one
    frame only: ``(frame, more)``.  Decides nothing."""
    try:
        if part:
            piece = _recv(socket, _DONTWAIT, False)
            return (piece.bytes if copy else piece, bool(piece.more))
        # A Frame tells whether more follow (pyzmq's get(RCVMORE) costs twice a
        # receive); its bytes are the one copy a copying receive makes anyway.
        frame = _recv(socket, _DONTWAIT, False)
        if not frame.more:
            return [frame.bytes if copy else frame]
        frames = [frame]
        while frame.more:
            frame = _recv(socket, _DONTWAIT, False)
            frames.append(frame)
        return [piece.bytes for piece in frames] if copy else frames
    except _ZMQError as error:
        return -int(error.errno or 0)


def send_frames(socket: Any, frames: Any, start: int = 0) -> Any:
    """Send ``frames[start:]`` as (the rest of) one message with DONTWAIT through pyzmq.

    0 when sent; -errno when the first of them failed (nothing of them sent);
    ``(index, errno)`` when frame ``index`` failed after earlier ones went.
    Decides nothing.
    """
    if frames.__class__ is bytes:
        frames = (frames,)
    last = len(frames) - 1
    index = start
    try:
        while index < last:
            _send(socket, frames[index], _DONTWAIT | _SNDMORE)
            index += 1
        _send(socket, frames[last], _DONTWAIT)
    except _ZMQError as error:
        if index == start:
            return -int(error.errno or 0)
        return (index, error.errno)
    return 0


def _rest(socket: Any, frame: Any) -> list[bytes]:
    """The whole message whose first frame, with more to come, is ``frame`` (as bytes)."""
    frames = [frame.bytes]
    while frame.more:
        frame = _recv(socket, _DONTWAIT, False)
        frames.append(frame.bytes)
    return frames


def _recv_bytes(gate: Any, part: bool) -> Any:
    """The accelerator's receive, in pyzmq: a list of bytes (``part``: one
    frame, ``(bytes, more)``), or -errno."""
    return recv_frames(gate.socket, True, part)


class Gate:
    """The fields and the fast-path decision of a socket's cooperative core (pure Python).

    ``handle``: the libzmq socket's address; ``owner``: the owning thread's
    ident (a negative sentinel when closed or lent); ``readers`` /
    ``writers``: the deques of parked greenlets; ``polling``: how many polls
    and readiness waits are parked on the socket (they must be re-checked
    too, but never stop a send or a receive); ``streak``: consecutive
    completions without a switch to the hub (the fairness budget).  The
    parking path's fields live here too (``closed``, ``hub``, the io
    ``_watcher`` and whether it is ``_watching``, ``receive_timeout`` and
    ``send_timeout`` in ms): the C twin parks common receives itself.
    """

    __slots__ = (
        "_watcher",
        "_watching",
        "closed",
        "handle",
        "hub",
        "owner",
        "polling",
        "readers",
        "receive_timeout",
        "send_timeout",
        "streak",
        "writers",
    )

    handle: int
    owner: int
    readers: deque[Any]
    writers: deque[Any]
    polling: int
    streak: int
    socket: Any  # the pyzmq socket (a slot of Waiting)

    if TYPE_CHECKING:
        # Provided by gzmq._waiting.Waiting:
        def refresh(self) -> None: ...
        def wait_recv(
            self, timeout: Any, copy: bool, tried: bool, part: bool = False
        ) -> Any: ...
        def wait_send(self, frames: Any, timeout: Any, tried: bool) -> None: ...
        def wrong_owner(self) -> None: ...
        def fail_errno(self, number: int) -> None: ...
        def partial_send(self, frames: Any, index: int, number: int) -> bool: ...
        def hold(self, message: list[Any]) -> None: ...
        def open_read(self) -> None: ...

    def recv(self, timeout: float | None = None, copy: bool = True) -> list[Any]:
        """Receive one whole message, waiting cooperatively if it must.

        ``timeout``: seconds (None: the receive_timeout option; 0: try once);
        zmq.Again when it passes.  ``copy=False`` gives zmq.Frame objects.
        """
        if (
            copy is True
            and not self.readers
            and self.streak < _LIMIT
            and _get_ident() == self.owner  # also false once closed, lent or forked
        ):
            once = timeout is not None and _once(timeout)
            if timeout is None or once:
                # _recv_bytes(self, False), inline (the C twin: receive_whole).
                try:
                    frame = _recv(self.socket, _DONTWAIT, False)
                except _ZMQError as failure:
                    message: Any = -int(failure.errno or 0)
                else:
                    message = [frame.bytes] if not frame.more else _rest(self.socket, frame)
                if self.writers or self.polling:
                    self._refresh_holding(message)
                if message.__class__ is list:
                    self.streak += 1
                    return message
                if message != _MINUS_EAGAIN:
                    self.fail_errno(-message)
                if once:
                    raise _Again()
                return self.wait_recv(None, True, True)
        return self.wait_recv(timeout, copy, False)

    def recv_part(self, timeout: float | None = None, copy: bool = True) -> Any:
        """Receive one frame (pyzmq's frame-by-frame recv), waiting cooperatively if it must.

        The first frame of a message waits as :meth:`recv` does; if more
        follow, the calling greenlet keeps the head of the readers queue
        (``open_read``) and its next calls take them, straight from libzmq.
        """
        if (
            copy is True
            and not self.readers
            and self.streak < _LIMIT
            and _get_ident() == self.owner  # also false once closed, lent or forked
        ):
            once = timeout is not None and _once(timeout)
            if timeout is None or once:
                message = _recv_bytes(self, True)
                if message.__class__ is tuple and message[1]:
                    self.open_read()
                if self.writers or self.polling:
                    self.refresh()
                if message.__class__ is tuple:
                    self.streak += 1
                    return message[0]
                if message != _MINUS_EAGAIN:
                    self.fail_errno(-message)
                if once:
                    raise _Again()
                return self.wait_recv(None, True, True, True)
        return self.wait_recv(timeout, copy, False, True)

    def send(self, data: Any, timeout: float | None = None) -> None:
        """Send one whole message (bytes, or a list or tuple of frames), waiting if it must.

        ``timeout`` as for :meth:`recv`.  Only the first frame may wait: the
        message goes whole or not at all.
        """
        if (
            not self.writers
            and self.streak < _LIMIT
            and _get_ident() == self.owner  # also false once closed, lent or forked
        ):
            once = timeout is not None and _once(timeout)
            if (timeout is None or once) and data.__class__ is bytes:
                # One frame of bytes, the common case, inline.
                try:
                    _send(self.socket, data, _DONTWAIT)
                    error = 0
                except _ZMQError as failure:
                    error = int(failure.errno or 0)
                if self.readers or self.polling:
                    self.refresh()
                if error == 0:
                    self.streak += 1 + (len(data) >> COST_SHIFT)
                    return
                if error != _EAGAIN:
                    self.fail_errno(error)
                if once:
                    raise _Again()
                self.wait_send(data, None, True)
                return
            if (timeout is None or once) and _all_bytes(data):
                result = send_frames(self.socket, data)
                if self.readers or self.polling:
                    self.refresh()
                if result == 0:
                    self.streak += cost_of(data)
                    return
                if result.__class__ is tuple:
                    if self.partial_send(data, result[0], result[1]):
                        self.streak += cost_of(data)
                        return
                elif result != _MINUS_EAGAIN:
                    self.fail_errno(-result)
                if once:
                    raise _Again()
                self.wait_send(data, None, True)
                return
        self.wait_send(data, timeout, False)

    def try_recv(self, copy: bool, part: bool = False) -> Any:
        """One receive attempt for the head of the readers queue: the message (``part``:
        ``(frame, more)``), None on EAGAIN.

        Raises the socket's error (SocketClosedError once closed) instead of
        calling libzmq when the calling thread may not use the socket.
        """
        if _get_ident() != self.owner:
            self.wrong_owner()  # raises, unless it adopts an idle green socket
        message = _recv_bytes(self, part) if copy is True else recv_frames(self.socket, copy, part)
        if self.writers or self.polling:
            self._refresh_holding(message)
        if message.__class__ is list or message.__class__ is tuple:
            self.streak += 1
            return message
        if message != _MINUS_EAGAIN:
            self.fail_errno(-message)
        return None

    def try_send(self, frames: Any) -> bool:
        """One send attempt for the head of the writers queue: True when sent, False on EAGAIN.

        Nothing is sent on False.  Raises as :meth:`try_recv` does.
        """
        if _get_ident() != self.owner:
            self.wrong_owner()
        result = send_frames(self.socket, frames)
        if self.readers or self.polling:
            self.refresh()
        if result == 0:
            self.streak += cost_of(frames)
            return True
        if result.__class__ is tuple:
            if self.partial_send(frames, result[0], result[1]):
                self.streak += cost_of(frames)
                return True
            return False
        if result != _MINUS_EAGAIN:
            self.fail_errno(-result)
        return False

    def _refresh_holding(self, message: Any) -> None:
        """refresh() after a receive; if it raises, a whole message is held, not lost."""
        try:
            self.refresh()
        except BaseException:
            if message.__class__ is list:
                self.hold(message)
            raise
