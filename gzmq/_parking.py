"""Parking and hand-off: the cooperative core's slow path (DESIGN §3 rules 2-7).

A call the fast path (gzmq._fastpath, or its C twin) cannot complete parks
the calling greenlet in a FIFO queue for its direction (send or receive) and
retries when woken.  Only the head of a queue attempts its operation, so
waiters are served first come, first served, and each gets one whole
message.  Every attempt goes through the Gate's ``try_recv`` / ``try_send``,
which check the owner and account for fairness exactly as the fast path.

Polls and readiness waits (``wait_readable``, gzmq.Poller, gzmq.green's
poll) park in queues of their own (``poll_in`` / ``poll_out``): they consume
nothing, so they never stop a send or a receive from taking the fast path,
and every one of them is woken when its direction becomes ready.

Waking the parked greenlets (the io watcher, the re-check after every
libzmq call, the hand-off of messages to parked receivers) is
gzmq._handoff's.
"""

from __future__ import annotations

import errno
import math
from collections import deque
from typing import TYPE_CHECKING, Any

import zmq
from greenlet import getcurrent

from gzmq import _native, _thread
from gzmq._fastpath import FAIRNESS_LIMIT
from gzmq._timeouts import check_seconds

if TYPE_CHECKING:
    from gzmq.errors import SocketClosedError

__all__ = ["FOREVER", "Parked", "Parking", "as_copy", "first_waiting", "wake_all"]

_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)
_MINUS_EAGAIN = -errno.EAGAIN
_READ = 1  # libev EV_READ
_Again = zmq.Again
_ZMQError = zmq.ZMQError
_recv_message = _native.recv_message
_get_ident = _thread.get_ident

#: Stands for "no timer: wait forever" once the deadline has been worked out.
FOREVER = object()


def as_copy(message: Any, copy: bool | None) -> list[Any]:
    """A received message's frames as bytes (``copy``) or as zmq.Frame."""
    if copy is False:
        return [frame if isinstance(frame, zmq.Frame) else zmq.Frame(frame) for frame in message]
    return [frame.bytes if isinstance(frame, zmq.Frame) else frame for frame in message]


class _PythonParked:
    """One greenlet parked in a send or receive queue (or a poll's place in ``poll_in``).

    A receiver's entry says how it wants frames (``copy``; ``part`` for one
    frame).  The hub may receive on its behalf and hand the message over
    (``message``, ``served``); an entry that only holds a message whose
    receiver was interrupted before it could take it is ``held``: it stays
    at the head of the queue for the next receiver.

    The defaults are class attributes (no ``__init__``): an entry is made
    for every wait, and this is the cheapest object CPython can make.
    """

    glet: Any = None
    woken = False
    expired = False
    copy: bool | None = None
    part = False
    message: Any = None
    served = False
    held = False

    def expire(self) -> None:
        """The call's deadline passed (a timer callback, in the hub)."""
        self.expired = True
        self.resume()

    def resume(self) -> None:
        """Switch back into the parked greenlet, if it is still parked."""
        glet = self.glet
        if glet is not None:
            glet.switch()


#: The entry type: the C accelerator's twin when it is in use (its parking path
#: makes entries without a Python call), else the class above.
Parked: Any = _native.Parked if _native.Parked is not None else _PythonParked


class Parking:
    """Mixin of gzmq._waiting.Waiting: parked greenlets, the io watcher and the hand-off."""

    if not TYPE_CHECKING:  # mypy would take the empty slots for the attributes' list
        __slots__ = ()

    # Fields of Waiting (and of the Gate under it).
    socket: Any
    kind: int
    hub: Any
    owner: int
    closed: bool
    readers: deque[Any]
    writers: deque[Any]
    poll_in: list[Any]
    poll_out: list[Any]
    polling: int
    streak: int
    receive_timeout: int
    send_timeout: int
    held_frames: int
    _watcher: Any
    _watching: bool
    _delivery: bool
    _held: int
    _signaler: bool

    if TYPE_CHECKING:
        # Provided by Waiting, its Gate and its other mixins.
        def events(self) -> int: ...
        def try_recv(self, copy: bool, part: bool = False) -> Any: ...
        def try_send(self, frames: Any) -> bool: ...
        def wrong_owner(self) -> None: ...
        def closed_error(self) -> SocketClosedError: ...
        def fail(self, error: zmq.ZMQError) -> None: ...
        def check_owner(self) -> None: ...
        def _watch_fd(self) -> int: ...
        def _reap_reservation(self) -> None: ...
        def _wait_behind_reservation(self, queue: deque[Any]) -> None: ...
        def _read_reserved(self, copy: bool) -> Any: ...
        def _took_part(self, entry: Parked, message: Any) -> Any: ...
        def refresh(self) -> None: ...
        def _deliver_queued(self) -> None: ...
        def _start_watching(self) -> None: ...
        def _stop_watching(self) -> None: ...
        def watch(self, entry: Any, flags: int) -> None: ...
        def unwatch(self, entry: Any) -> None: ...

    # -- waiting --------------------------------------------------------------

    def _deadline(self, entry: Parked, timeout: float | None, option_ms: int) -> Any:
        """Start the timer that expires ``entry``, or None to wait forever.

        ``timeout`` is the per-call value in seconds (None: use ``option_ms``,
        libzmq style).  A zero wait raises zmq.Again at once.  A libev timer is
        used rather than gevent.Timeout: nothing is thrown into the caller, and
        no reference cycle keeps the caller's frames (and this socket) alive.
        """
        if timeout is None:
            if option_ms < 0:
                return None
            seconds = option_ms / 1000.0
        else:
            if timeout < 0 or math.isinf(timeout):
                return None
            seconds = float(timeout)
        if seconds <= 0:
            raise _Again()
        timer = self.hub.loop.timer(seconds)
        timer.start(entry.expire)
        return timer

    def _park(self, entry: Parked) -> None:
        """Block the calling greenlet until ``entry`` is resumed (or an exception)."""
        if not self._watching:
            self._start_watching()
        entry.glet = getcurrent()
        try:
            self.hub.switch()
        finally:
            entry.glet = None
        self.streak = 0  # the hub ran

    def _leave(self, queue: deque[Any], entry: Parked) -> None:
        """Take ``entry`` out of its queue and hand on any wake-up it held."""
        if entry.served:
            # _deliver took it out and re-reads EVENTS once its pass is done.
            if not self.closed and not self.readers and not self.writers and not self.polling:
                self._stop_watching()
            return
        if queue and queue[0] is entry:
            queue.popleft()
        else:
            try:
                queue.remove(entry)
            except ValueError:
                pass  # close() already emptied the queue
        if self.closed:
            return
        if not self.readers and not self.writers and not self.polling:
            self._stop_watching()
        else:
            # The head may have changed, and this greenlet's own operation may
            # have consumed the edge: re-read EVENTS for whoever is next.
            self.refresh()

    def _yield(self) -> None:
        """Let the hub run one loop iteration (fairness), then carry on.

        A zero-second timer rather than ``gevent.sleep(0)``: sleep(0) only
        queues a callback, which the hub runs in the same pass without
        polling for I/O, so a greenlet parked on another socket (the reader
        of what this one sends) would not get to run.  The timer makes the
        hub poll once, and io watchers that are ready fire before we resume.
        """
        self.streak = 0
        hub = self.hub
        timer = hub.loop.timer(0.0)
        try:
            hub.wait(timer)
        finally:
            timer.close()

    def _enter(self, timeout: Any) -> None:
        """The checks before parking: the timeout's type, the owner, the fairness yield."""
        if timeout is not None:
            check_seconds(timeout)  # before anything is sent: a NaN would stop the hub's timers
        if self.owner != _get_ident():
            self.wrong_owner()
        if self.streak >= FAIRNESS_LIMIT:
            self._yield()

    def _writable(self) -> bool:
        """Read EVENTS for POLLOUT, handing on the wake-ups the read may consume."""
        try:
            ev = self.events()
        except _ZMQError as error:
            self.fail(error)
            raise  # unreachable: fail() always raises
        if ev & _POLLIN:
            if self.readers and not self._delivery:
                self._delivery = True
                self.hub.loop.run_callback(self._deliver_queued)
            if self.poll_in:
                wake_all(self.poll_in, self.hub.loop.run_callback)
        if ev & _POLLOUT and self.poll_out:
            wake_all(self.poll_out, self.hub.loop.run_callback)
        return bool(ev & _POLLOUT)

    def wait_send(self, frames: Any, timeout: float | None, tried: bool) -> None:
        """Send ``frames`` (bytes, or a list or tuple of frames) as one message; the slow path.

        ``tried``: the fast path has just got EAGAIN for this message, so the
        first attempt, which would fail the same way, is skipped.
        """
        self._enter(timeout)
        self._reap_reservation()
        entry = Parked()
        queue = self.writers
        queue.append(entry)
        timer: Any = None
        attempt = not tried
        recheck = True
        try:
            while True:
                if queue[0] is entry:
                    if attempt and self.try_send(frames):
                        return
                    attempt = True
                    # A DONTWAIT send may fail on a stale view of the peer's
                    # queue; EVENTS processes pending commands and tells.  Once
                    # per wake-up only: a ROUTER reports POLLOUT even when the
                    # one peer addressed is full.
                    if recheck:
                        recheck = False
                        if self._writable():
                            continue
                else:
                    self._wait_behind_reservation(queue)
                if timer is None:
                    timer = self._deadline(entry, timeout, self.send_timeout) or FOREVER
                entry.woken = False
                self._park(entry)
                recheck = True
                if self.closed:
                    raise self.closed_error()
                if entry.expired:
                    raise _Again()
        finally:
            if timer is not None and timer is not FOREVER:
                timer.stop()
                timer.close()
            self._leave(queue, entry)

    def wait_recv(
        self, timeout: float | None, copy: bool = True, tried: bool = False, part: bool = False
    ) -> Any:
        """Receive one whole message (``part``: one frame), waiting cooperatively; the slow path.

        ``tried``: the fast path has just got EAGAIN from a receive on this
        socket with nobody waiting, so the first attempt, which would fail
        the same way, is skipped.  A ``part`` receiver whose own message is
        open takes its next frame at once (see gzmq._reservations).
        """
        if part and self.readers:
            frame = self._read_reserved(copy)
            if frame is not None:
                return frame  # the next frame of the caller's own open message
        self._enter(timeout)
        entry = Parked()
        entry.copy = copy
        entry.part = part
        self.readers.append(entry)
        return self.wait_parked(entry, timeout, not tried)

    def wait_parked(self, entry: Parked, timeout: float | None, attempt: bool) -> Any:
        """The waiting loop of the receiver whose ``entry`` is in the readers queue.

        ``attempt``: try to receive first when the entry is at the head.  The
        C accelerator parks a receiver itself and hands the rare cases over
        here (woken without a message: an error to meet, a message to take).
        """
        queue = self.readers
        copy = bool(entry.copy)
        part = entry.part
        timer: Any = None
        try:
            while True:
                if self.closed:
                    raise self.closed_error()  # (closed while the C path had it parked)
                head = queue[0]
                if head is entry:
                    if attempt:
                        message = self.try_recv(copy, part)
                        if message is not None:
                            return self._took_part(entry, message) if part else message
                elif self._held and head.held:
                    # A message held for the next receiver: this one.
                    queue.popleft()
                    self._held -= 1
                    self.streak += 1
                    if part:
                        return self._took_held_part(head.message, copy)
                    return as_copy(head.message, copy)
                else:
                    self._wait_behind_reservation(queue)
                if timer is None:
                    if timeout is None and self.receive_timeout < 0:
                        timer = FOREVER  # the common case, without a call
                    else:
                        timer = self._deadline(entry, timeout, self.receive_timeout) or FOREVER
                attempt = True
                entry.woken = False
                # _park(), inlined: this loop is the hot path of a shared socket.
                if not self._watching:
                    self._start_watching()
                entry.glet = getcurrent()
                self.hub.switch()
                entry.glet = None
                self.streak = 0  # the hub ran
                served = entry.message
                if served is not None:
                    entry.message = None
                    self.streak = 1
                    return served
                if self.closed:
                    raise self.closed_error()
                if entry.expired:
                    raise _Again()
        finally:
            if timer is not None and timer is not FOREVER:
                timer.stop()
                timer.close()
            self.finish_wait(entry)

    def finish_wait(self, entry: Parked) -> None:
        """A receiver's wait ended (returned, raised, or was interrupted): tidy up.

        A message handed to it and not taken goes on to the next receiver;
        its entry leaves the queue, handing on the wake-up it may hold.
        """
        entry.glet = None  # also when the switch raised (a kill, a gevent.Timeout)
        if entry.message is not None:
            self._orphan(entry)
        if entry.served:
            # _leave()'s first case, inlined: _deliver took the entry out.
            if not self.closed and not self.readers and not self.writers and not self.polling:
                self._stop_watching()
        else:
            self._leave(self.readers, entry)

    if TYPE_CHECKING:

        def _took_held_part(self, message: list[Any], copy: bool) -> Any: ...
        def _orphan_part(self, entry: Parked) -> None: ...

    def _orphan(self, entry: Parked) -> None:
        """A served receiver was interrupted before taking its message: pass it on.

        Only a synchronous throw from a greenlet that ran earlier in the same
        hand-off pass can do this.
        """
        if entry.part:
            self._orphan_part(entry)
            return
        message = entry.message
        entry.message = None
        if message is not None:
            self.hold(message)

    def hold(self, message: list[Any]) -> None:
        """Keep a received message that its receiver cannot take, for the next receiver.

        It goes to the whole-message receiver now at the head of the queue,
        or, if none waits, is held at the head for the next recv(): neither
        lost nor overtaken.  Held messages count as readable (``events()``),
        and the polls parked on the socket are woken.
        """
        if self.closed:
            return
        readers = self.readers
        head: Any = readers[0] if readers else None
        if (
            head.__class__ is Parked
            and not head.part
            and not head.held
            and head.glet is not None
        ):
            readers.popleft()
            head.message = as_copy(message, head.copy)
            head.served = True
            self.hub.loop.run_callback(head.resume)
            return
        held = Parked()
        held.copy = True
        held.message = message
        held.held = True
        index = 0
        while index < len(readers) and readers[index].held:
            index += 1  # after messages held before it
        readers.insert(index, held)
        self._held += 1
        if index == 0:
            waiter = first_waiting(readers)  # a receiver parked behind it takes it
            if waiter is not None:
                self.hub.loop.run_callback(waiter.resume)
        if self.poll_in:
            wake_all(self.poll_in, self.hub.loop.run_callback)

    # -- readiness ------------------------------------------------------------

    def wait_readable(self, timeout: float | None) -> bool:
        """Block until a message can be received, without receiving it."""
        return self._wait_ready(_POLLIN, timeout)

    def wait_writable(self, timeout: float | None) -> bool:
        """Block until a message can be sent, without sending it."""
        return self._wait_ready(_POLLOUT, timeout)

    def _wait_ready(self, flag: int, timeout: float | None) -> bool:
        """Wait for ``flag`` in ZMQ_EVENTS; False on timeout (seconds, None forever)."""
        if timeout is not None:
            check_seconds(timeout)
        self.check_owner()
        if self.closed:
            raise self.closed_error()
        try:
            if self.events() & flag:
                return True
        except _ZMQError as error:
            self.fail(error)
        if timeout is not None and timeout <= 0:
            return False
        entry = Parked()
        self.watch(entry, flag)
        timer = self._deadline(entry, timeout, -1) if timeout is not None else None
        try:
            while True:
                entry.woken = False
                self._park(entry)
                if self.closed:
                    raise self.closed_error()
                try:
                    if self.events() & flag:
                        return True
                except _ZMQError as error:
                    self.fail(error)
                if entry.expired:
                    return False
        finally:
            if timer is not None:
                timer.stop()
                timer.close()
            self.unwatch(entry)
            if not self.closed and (self.readers or self.writers or self.polling):
                self.refresh()  # the last EVENTS read may have taken another's edge


def first_waiting(readers: deque[Any]) -> Parked | None:
    """The first receiver parked behind the held messages at the head of ``readers``, marked
    woken (None if there is none to wake)."""
    for entry in readers:
        if entry.held:
            continue
        if entry.__class__ is Parked and entry.glet is not None and not entry.woken:
            entry.woken = True
            return entry
        return None
    return None


def wake_all(entries: list[Any], run_callback: Any) -> None:
    """Wake every poll in ``entries`` that is not woken yet (from the hub's callbacks)."""
    for entry in entries:
        if not entry.woken:
            entry.woken = True
            run_callback(entry.resume)
