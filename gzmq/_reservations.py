"""Messages sent and received frame by frame (gzmq.green), without interleaving.

pyzmq code sends ``send(a, SNDMORE); send(b)`` and receives ``recv()`` until
RCVMORE is 0.  Several greenlets doing that on one socket must not mix
their frames, and each call must wait (or fail) exactly where libzmq's
would.  The core does it with a reservation: the head of a queue kept by
one greenlet for the rest of its message.

* Sending: the first frame waits, first come first served, until the socket
  can take a message (libzmq checks its high water mark there); the
  greenlet then keeps the head of the send queue while its frames are held,
  and the last frame sends them whole.  Nobody else can fill the queue
  meanwhile, so the last frame does not wait; if it must (a peer left), or
  with NOBLOCK, zmq.Again keeps the held frames for a retry.
* Receiving: the first frame is received as a whole message would be; if
  more follow, the greenlet keeps the head of the receive queue and takes
  the rest straight from libzmq, where they stay until asked for, so
  ``zmq.select``, a poll, EVENTS and RCVMORE see them as libzmq does.

A reservation whose greenlet dies is dropped: held frames never reached
libzmq, and the rest of a message being read is read and discarded.
"""

from __future__ import annotations

import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, cast

import zmq
from greenlet import getcurrent

from gzmq._parking import FOREVER, Parked, as_copy
from gzmq._timeouts import check_seconds

if TYPE_CHECKING:
    from gzmq.errors import SocketClosedError

__all__ = ["ReadReservation", "Reservation", "Reservations"]

_REP = int(zmq.REP)
_EFSM = int(zmq.EFSM)
_Again = zmq.Again
_ZMQError = zmq.ZMQError


class Reservation(Parked):
    """The head of a queue, kept by a greenlet for the rest of its message.

    ``sender`` is a weak reference to that greenlet; ``watched`` tells that
    its death already wakes the socket (see ``_wait_behind_reservation``).
    """

    sender: Any = None
    watched = False
    death: Any = None  # a weak reference whose callback tells that a raw greenlet was freed

    def mine(self) -> bool:
        """Whether the calling greenlet made this reservation."""
        return self.sender() is getcurrent()

    def abandoned(self) -> bool:
        """Whether the greenlet that made this reservation is gone."""
        glet = self.sender()
        return glet is None or bool(glet.dead)


class ReadReservation(Reservation):
    """A message being received frame by frame: its next frames are its greenlet's.

    ``rest`` holds frames already out of libzmq (a held message a frame-by-
    frame receiver took), else None: the rest is still in libzmq.
    """

    rest: list[Any] | None = None


def _reserve(glet: Any, kind: type[Reservation]) -> Reservation:
    entry = kind()
    entry.sender = weakref.ref(glet)
    return entry


class Reservations:
    """Mixin of gzmq._waiting.Waiting: frame-by-frame sending and receiving."""

    if not TYPE_CHECKING:  # mypy would take the empty slots for the attributes' list
        __slots__ = ()

    kind: int
    hub: Any
    closed: bool
    readers: deque[Any]
    writers: deque[Any]
    send_timeout: int
    held_frames: int

    if TYPE_CHECKING:
        # Provided by Waiting, its Gate and its other mixins.
        def try_recv(self, copy: bool, part: bool = False) -> Any: ...
        def try_send(self, frames: Any) -> bool: ...
        def refresh(self) -> None: ...
        def hold(self, message: list[Any]) -> None: ...
        def closed_error(self) -> SocketClosedError: ...
        def _enter(self, timeout: Any) -> None: ...
        def _writable(self) -> bool: ...
        def _deadline(self, entry: Parked, timeout: float | None, option_ms: int) -> Any: ...
        def _park(self, entry: Parked) -> None: ...
        def _leave(self, queue: deque[Any], entry: Parked) -> None: ...

    # -- sending ----------------------------------------------------------------

    def reserve_send(self, timeout: float | None) -> Reservation:
        """Wait, first come first served, until a message could be sent now; keep the head.

        What libzmq does at the first frame of a message sent frame by frame,
        without sending anything: the caller holds the frames and sends them
        whole with :meth:`send_reserved`, or gives the place up with
        :meth:`release`.  ``timeout`` as for wait_send (0: try once,
        zmq.Again).  A REP socket, which cannot send before it received,
        raises zmq.ZMQError EFSM as libzmq does.
        """
        self._enter(timeout)
        self._reap_reservation()
        entry = _reserve(getcurrent(), Reservation)
        queue = self.writers
        queue.append(entry)
        timer: Any = None
        kept = False
        try:
            while True:
                if queue[0] is entry:
                    if self._writable():
                        kept = True
                        return entry
                    if self.kind == _REP:
                        # REP is writable only while it owes a reply: libzmq says EFSM.
                        raise _ZMQError(_EFSM)
                else:
                    self._wait_behind_reservation(queue)
                if timer is None:
                    timer = self._deadline(entry, timeout, self.send_timeout) or FOREVER
                entry.woken = False
                self._park(entry)
                if self.closed:
                    raise self.closed_error()
                if entry.expired:
                    raise _Again()
        finally:
            if timer is not None and timer is not FOREVER:
                timer.stop()
                timer.close()
            if not kept:
                self._leave(queue, entry)

    def send_reserved(self, entry: Reservation, frames: Any, timeout: float | None) -> None:
        """Send ``frames`` whole from the place ``entry`` keeps, then give the place up.

        Waits (rarely: the reservation saw the socket writable, and nobody
        else has sent since) if libzmq says EAGAIN.  On zmq.Again (``timeout``
        passed, or 0 and not sendable now) the place is kept, so that the
        caller can try again with the same frames; any other error gives it
        up.
        """
        if timeout is not None:
            check_seconds(timeout)
        queue = self.writers
        if not queue or queue[0] is not entry:
            if self.closed:
                raise self.closed_error()
            raise RuntimeError("this frame-by-frame message lost its place in the send queue")
        timer: Any = None
        done = False
        kept = False
        try:
            while True:
                if self.try_send(frames):
                    done = True
                    return
                if self._writable():
                    continue
                try:
                    if timer is None:
                        timer = self._deadline(entry, timeout, self.send_timeout) or FOREVER
                except _Again:
                    kept = True
                    raise
                entry.woken = False
                self._park(entry)
                if self.closed:
                    raise self.closed_error()
                if entry.expired:
                    kept = True
                    entry.expired = False
                    raise _Again()
        finally:
            if timer is not None and timer is not FOREVER:
                timer.stop()
                timer.close()
            if done or not kept:
                self._leave(queue, entry)

    def release(self, entry: Reservation) -> None:
        """Give up the place a frame-by-frame message kept (its held frames are dropped)."""
        if entry in self.writers:
            self._leave(self.writers, entry)

    def _reap_reservation(self) -> None:
        """Drop the reservation at the head of the send queue if its greenlet died."""
        writers = self.writers
        while writers and writers[0].__class__ is Reservation and writers[0].abandoned():
            writers.popleft()

    # -- receiving --------------------------------------------------------------

    def open_read(self) -> None:
        """The calling greenlet received the first frame of a message with more: keep the head."""
        self.readers.appendleft(_reserve(getcurrent(), ReadReservation))

    def reading(self) -> bool:
        """Whether the calling greenlet is reading a message frame by frame (more to come)."""
        readers = self.readers
        return bool(readers) and readers[0].__class__ is ReadReservation and readers[0].mine()

    def _took_part(self, entry: Parked, message: Any) -> Any:
        """A ``part`` receiver got ``(frame, more)``: keep the head for it if more follow."""
        frame, more = message
        if more:
            glet = entry.glet if entry.glet is not None else getcurrent()
            reservation = _reserve(glet, ReadReservation)
            readers = self.readers
            if readers and readers[0] is entry:
                readers[0] = reservation  # (wait_recv's own entry at the head)
            else:
                readers.appendleft(reservation)
        return frame

    def _took_held_part(self, message: list[Any], copy: bool) -> Any:
        """A ``part`` receiver took a held whole message: its other frames wait in a reservation."""
        frames = as_copy(message, copy)
        if len(frames) > 1:
            reservation = cast(ReadReservation, _reserve(getcurrent(), ReadReservation))
            reservation.rest = frames[1:]
            reservation.copy = copy
            self.readers.appendleft(reservation)
            self.held_frames += 1
        return frames[0]

    def _read_reserved(self, copy: bool) -> Any:
        """The caller's next frame if the head of the readers is its open message, else None.

        An open message whose greenlet died is read to its end and dropped
        first (it would otherwise block every receiver).
        """
        head = self.readers[0]
        if head.__class__ is not ReadReservation:
            return None
        if head.abandoned():
            self._drop_read(head)
            return None
        if not head.mine():
            return None
        rest = head.rest
        if rest is not None:
            frame = rest.pop(0)
            more = bool(rest)
            if not more:
                self.held_frames -= 1
            frame = as_copy([frame], copy)[0]
        else:
            received = self.try_recv(copy, True)
            if received is None:
                # libzmq delivers messages whole: the rest is there.  If it is
                # not, the message ended without its last frame (a closed pipe).
                self._release_read(head)
                raise _Again()
            frame, more = received
        if not more:
            self._release_read(head)
        return frame

    def _release_read(self, head: ReadReservation) -> None:
        """The open message was read to its end: the next receiver may go."""
        readers = self.readers
        if readers and readers[0] is head:
            readers.popleft()
        else:
            try:
                readers.remove(head)
            except ValueError:
                return
        if not self.closed and (readers or self.writers):
            self.refresh()

    def _drop_read(self, head: ReadReservation) -> None:
        """Discard the rest of an open message whose greenlet died."""
        if head.rest is not None:
            head.rest = None
            self.held_frames -= 1
        else:
            more = True
            while more:
                received = self.try_recv(True, True)
                if received is None:
                    break
                more = received[1]
        self._release_read(head)

    def _orphan_part(self, entry: Parked) -> None:
        """A served frame-by-frame receiver was interrupted before taking its first frame.

        Its message (that frame and the rest, still in libzmq behind its
        reservation) is taken whole and held for the next receiver.
        """
        frame = entry.message
        entry.message = None
        if frame is None or self.closed:
            return
        message = [frame.bytes if isinstance(frame, zmq.Frame) else frame]
        readers = self.readers
        head = readers[0] if readers else None
        if head.__class__ is ReadReservation and head.sender() is entry.glet:
            readers.popleft()
            more = True
            while more:
                received = self.try_recv(True, True)
                if received is None:
                    break
                message.append(received[0])
                more = received[1]
        self.hold(message)

    # -- waiting behind another greenlet's message --------------------------------

    def _wait_behind_reservation(self, queue: deque[Any]) -> None:
        """Before parking behind the head of ``queue``: if another greenlet keeps it for its
        message, see that its death wakes this socket (its message is then dropped)."""
        head = queue[0]
        if not isinstance(head, Reservation) or head.watched:
            return
        glet = head.sender()
        if glet is None or glet.dead:
            self.hub.loop.run_callback(self._reservation_gone)
            return
        head.watched = True
        core = weakref.ref(self)

        def gone(*_: Any) -> None:
            waiting = core()
            if waiting is not None and not waiting.closed:
                waiting.hub.loop.run_callback_threadsafe(waiting._reservation_gone)

        rawlink = getattr(glet, "rawlink", None)
        if rawlink is not None:
            rawlink(gone)  # a gevent.Greenlet: called in the hub when it ends
        else:
            head.death = weakref.ref(glet, gone)  # a raw greenlet: when it is freed

    def _reservation_gone(self) -> None:
        """(In the hub.) A greenlet that kept a queue's head ended: drop its message, re-check."""
        if self.closed:
            return
        readers = self.readers
        if readers and readers[0].__class__ is ReadReservation and readers[0].abandoned():
            self._drop_read(readers[0])
        self._reap_reservation()
        if readers or self.writers:
            self.refresh()
