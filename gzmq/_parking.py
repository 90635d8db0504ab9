"""Parking and hand-off: the cooperative core's slow path (DESIGN §3 rules 2-7).

A call the fast path (gzmq._fastpath, or its C twin) cannot complete parks
the calling greenlet in a FIFO queue for its direction (send or receive) and
retries when woken.  Only the head of a queue attempts its operation, so
waiters are served first come, first served, and each gets one whole
message.  Every attempt goes through the Gate's ``try_recv`` / ``try_send``,
which check the owner and account for fairness exactly as the fast path.

ZMQ_FD is edge-triggered: any libzmq call on the socket may consume the edge
that a parked greenlet waits for.  So after every such call, if anyone
waits, ZMQ_EVENTS is read again (:meth:`Parking.refresh`) and the head of
the ready direction is woken; and when the io watcher fires, ZMQ_EVENTS is
read (which re-arms the edge) whether or not anyone is woken.  The watcher
runs only while somebody waits, so an idle socket costs the hub nothing and
a forgotten socket can be garbage collected.

When a socket becomes readable, the hub receives a message for each parked
receiver in turn and switches into them one after the other
(:meth:`Parking._deliver`): an exception from one of them never affects
another.
"""

from __future__ import annotations

import errno
import math
import os
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

import zmq
from greenlet import getcurrent

from gzmq import _native, _thread
from gzmq._fastpath import FAIRNESS_LIMIT, recv_frames
from gzmq._timeouts import check_seconds
from gzmq.errors import SocketClosedError

__all__ = ["Parking", "Reservation", "as_copy"]

_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)
_MINUS_EAGAIN = -errno.EAGAIN
_READ = 1  # libev EV_READ
_Again = zmq.Again
_ZMQError = zmq.ZMQError
_recv_message = _native.recv_message
_get_ident = _thread.get_ident
_REP = int(zmq.REP)
_EFSM = int(zmq.EFSM)

#: Stands for "no timer: wait forever" once the deadline has been worked out.
_FOREVER = object()


def as_copy(message: Any, copy: bool | None) -> list[Any]:
    """A received message's frames as bytes (``copy``) or as zmq.Frame."""
    if copy is False:
        return [frame if isinstance(frame, zmq.Frame) else zmq.Frame(frame) for frame in message]
    return [frame.bytes if isinstance(frame, zmq.Frame) else frame for frame in message]


class _Parked:
    """One greenlet parked in a send or receive queue.

    A receiver's entry says how it wants frames (``copy``; None for a
    wait_readable() or a send entry).  The hub may receive a message on its
    behalf and hand it over (``message``, ``served``); an entry that only
    holds a message whose receiver was interrupted before it could take it
    is ``held``: it stays at the head of the queue for the next receiver.

    The defaults are class attributes (no ``__init__``): an entry is made
    for every wait, and this is the cheapest object CPython can make.
    """

    glet: Any = None
    woken = False
    expired = False
    copy: bool | None = None
    message: list[Any] | None = None
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


class Reservation(_Parked):
    """The head of the writers queue, kept by a greenlet sending a message frame by frame.

    gzmq.green's ``send(frame, SNDMORE)`` waits, like libzmq, at the first
    frame until the socket can take a message, then keeps its place at the
    head of the queue, so that no other greenlet can fill the queue before
    its last frame sends the message whole.  ``sender`` is a weak reference
    to that greenlet: a reservation whose greenlet died is dropped (its
    frames never reached libzmq).
    """

    sender: Any = None

    def abandoned(self) -> bool:
        """Whether the greenlet that made this reservation is gone."""
        glet = self.sender()
        return glet is None or bool(glet.dead)


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
    streak: int
    receive_timeout: int
    send_timeout: int
    _watcher: Any
    _watching: bool
    _delivery: bool
    _held: int
    layer_held: int
    _signaler: bool

    if TYPE_CHECKING:
        # Provided by Waiting and its Gate.
        def events(self) -> int: ...
        def try_recv(self, copy: bool) -> list[Any] | None: ...
        def try_send(self, frames: Any) -> bool: ...
        def wrong_owner(self) -> None: ...
        def closed_error(self) -> SocketClosedError: ...
        def fail(self, error: zmq.ZMQError) -> None: ...
        def check_owner(self) -> None: ...
        def _watch_fd(self) -> int: ...

    # -- waking ---------------------------------------------------------------

    def refresh(self) -> None:
        """After an operation, wake the head waiter of each ready direction.

        Call from a greenlet (not the hub) after any libzmq call on the socket
        when somebody may be waiting: the call may have consumed the edge.
        """
        if self.closed:
            return
        try:
            ev = self.events()
        except _ZMQError:
            ev = _POLLIN | _POLLOUT  # let the waiters meet the error themselves
        if (ev & _POLLIN or self.layer_held) and self.readers and not self._delivery:
            # (Frames a layer holds wake a poll parked here; a receiver finds
            # nothing and parks again.)
            self._delivery = True
            self.hub.loop.run_callback(self._deliver_queued)
        if ev & _POLLOUT and self.writers:
            head = self.writers[0]
            if not head.woken:
                head.woken = True
                self.hub.loop.run_callback(head.resume)

    def after_call(self) -> None:
        """After any other libzmq call on the socket (bind, options, ...): keep waiters awake.

        libzmq processes pending commands inside bind, connect, unbind,
        disconnect and option calls, which may consume the ZMQ_FD edge that
        a parked greenlet waits for.
        """
        if self.readers or self.writers:
            self.refresh()

    def _on_fd(self) -> None:
        """The io watcher fired (in the hub): read EVENTS and wake who is ready."""
        if self.closed:
            self._stop_watching()
            return
        readers = self.readers
        if readers and not self.writers:
            head = readers[0]
            if head.__class__ is _Parked and head.copy is not None and not head.held:
                # Only receivers wait: trying to receive is the readiness check
                # (it processes libzmq's commands as reading EVENTS would), one
                # libzmq call less per wake-up.
                self._deliver()
                return
        try:
            ev = self.events()
        except _ZMQError:
            ev = _POLLIN | _POLLOUT
        writer = None
        if ev & _POLLOUT and self.writers and not self.writers[0].woken:
            writer = self.writers[0]
            writer.woken = True
        if not self.readers and not self.writers:
            self._stop_watching()
        if ev & _POLLIN and self.readers:
            if writer is not None:
                self.hub.loop.run_callback(writer.resume)
            self._deliver()
        elif writer is not None:
            writer.resume()

    def _deliver_queued(self) -> None:
        """The hand-off queued by refresh() (a hub callback)."""
        self._delivery = False
        if not self.closed and self.readers:
            self._deliver()

    def _deliver(self) -> None:
        """(In the hub.) Hand messages to the parked receivers, first come first served.

        While messages are ready, each receiver at the head of the queue
        gets one, received on its behalf with its own ``copy``, and leaves
        the queue; each is served at most once per pass.  Only then are
        the served greenlets switched into, one after the other, directly
        from here: nothing else runs in between (no timer, no kill), so a
        message handed over cannot be dropped by an interruption.  A
        wait_readable() waiter (or a poll) at the head is woken instead, and
        ends the pass.  The socket's owner is checked before each receive
        (a served greenlet may close it).
        """
        readers = self.readers
        served: list[_Parked] = []
        wake: _Parked | None = None
        budget = len(readers)
        try:
            while budget and readers:
                head = readers[0]
                if head.__class__ is not _Parked or head.copy is None:
                    # Waits for readiness only (wait_readable, a poll).
                    if not head.woken:
                        head.woken = True
                        wake = head
                    break
                if head.held or head.glet is None:
                    break
                if self.owner < 0:
                    # Closed, lent or forked: let the head meet that itself.
                    if not head.woken:
                        head.woken = True
                        wake = head
                    break
                copy = head.copy
                if copy and _recv_message is not None:
                    message = _recv_message(self.handle)  # type: ignore[attr-defined]
                    if message is None:
                        break  # EAGAIN
                else:
                    message = recv_frames(self.socket, copy)
                    if message == _MINUS_EAGAIN:
                        break
                if message.__class__ is not list:  # -errno
                    if not head.woken:
                        # Let the head meet the error (or the closed socket) itself.
                        head.woken = True
                        wake = head
                    break
                readers.popleft()
                head.message = message
                head.served = True
                served.append(head)
                budget -= 1
        finally:
            self._switch_into(served, wake)

    def _switch_into(self, served: list[_Parked], wake: _Parked | None) -> None:
        """Switch into the served receivers, then the woken head, then re-check senders.

        A served greenlet whose parent is the hub (``gevent.spawn_raw``) and
        that ends with an exception raises it here, in its parent: the
        greenlets after it are then resumed from the hub's callbacks, with
        their messages, and the exception goes on to the hub, which reports
        it as it reports any such greenlet's.
        """
        for index, entry in enumerate(served):
            glet = entry.glet  # entry.resume(), inlined
            if glet is None:
                continue
            try:
                glet.switch()
            except BaseException:
                run_callback = self.hub.loop.run_callback
                for later in served[index + 1 :]:
                    run_callback(later.resume)
                if wake is not None:
                    run_callback(wake.resume)
                if self.writers and not self.closed:
                    run_callback(self.refresh)
                raise
        if wake is not None:
            wake.resume()
        if served and self.writers and not self.closed:
            # The receives may have consumed the edge a sender waits for.
            # (Receivers need no re-read: each parked one tried after the
            # last receive here, and what the served greenlets did on the
            # socket they followed with a refresh() themselves.)
            self.refresh()

    def _on_signal(self) -> None:
        """As _on_fd, for a thread-safe socket: first reset its zmq_poller fd."""
        watcher = self._watcher
        if watcher is not None:
            _drain(watcher.fd)
        self._on_fd()

    def _start_watching(self) -> None:
        if self._watcher is None:
            fd = self._watch_fd()
            self._watcher = self.hub.loop.io(fd, _READ)
            if self._signaler:
                # The stand-in fd was not signalled for commands queued before
                # it existed: read EVENTS once (in the hub) to process them.
                self.hub.loop.run_callback(self._on_signal)
        self._watcher.start(self._on_signal if self._signaler else self._on_fd)
        self._watching = True

    def _stop_watching(self) -> None:
        if self._watching:
            self._watching = False
            self._watcher.stop()

    # -- waiting --------------------------------------------------------------

    def _deadline(self, entry: _Parked, timeout: float | None, option_ms: int) -> Any:
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

    def _park(self, entry: _Parked) -> None:
        """Block the calling greenlet until ``entry`` is resumed (or an exception)."""
        if not self._watching:
            self._start_watching()
        entry.glet = getcurrent()
        try:
            self.hub.switch()
        finally:
            entry.glet = None
        self.streak = 0  # the hub ran

    def _leave(self, queue: deque[_Parked], entry: _Parked) -> None:
        """Take ``entry`` out of its queue and hand on any wake-up it held."""
        if entry.served:
            # _deliver took it out and re-reads EVENTS once its pass is done.
            if not self.closed and not self.readers and not self.writers:
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
        if not self.readers and not self.writers:
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
        """Read EVENTS for POLLOUT, handing on a receiver's wake-up the read may consume."""
        try:
            ev = self.events()
        except _ZMQError as error:
            self.fail(error)
            raise  # unreachable: fail() always raises
        if ev & _POLLIN and self.readers and not self._delivery:
            self._delivery = True
            self.hub.loop.run_callback(self._deliver_queued)
        return bool(ev & _POLLOUT)

    def wait_send(self, frames: Any, timeout: float | None, tried: bool) -> None:
        """Send ``frames`` (bytes, or a list or tuple of frames) as one message; the slow path.

        ``tried``: the fast path has just got EAGAIN for this message, so the
        first attempt, which would fail the same way, is skipped.
        """
        self._enter(timeout)
        self._reap_reservation()
        entry = _Parked()
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
                if timer is None:
                    timer = self._deadline(entry, timeout, self.send_timeout) or _FOREVER
                entry.woken = False
                self._park(entry)
                recheck = True
                if self.closed:
                    raise self.closed_error()
                if entry.expired:
                    raise _Again()
        finally:
            if timer is not None and timer is not _FOREVER:
                timer.stop()
                timer.close()
            self._leave(queue, entry)

    def wait_recv(self, timeout: float | None, copy: bool = True, tried: bool = False) -> list[Any]:
        """Receive one whole message, waiting cooperatively; the slow path.

        ``tried``: the fast path has just got EAGAIN from a receive on this
        socket with nobody waiting, so the first attempt, which would fail
        the same way, is skipped.
        """
        self._enter(timeout)
        entry = _Parked()
        entry.copy = copy
        queue = self.readers
        queue.append(entry)
        timer: Any = None
        attempt = not tried
        try:
            while True:
                head = queue[0]
                if head is entry:
                    if attempt:
                        message = self.try_recv(copy)
                        if message is not None:
                            return message
                elif self._held and head.held:
                    # A message held for the next receiver: this one.
                    queue.popleft()
                    self._held -= 1
                    self.streak += 1
                    return as_copy(head.message, copy)
                if timer is None:
                    if timeout is None and self.receive_timeout < 0:
                        timer = _FOREVER  # the common case, without a call
                    else:
                        timer = self._deadline(entry, timeout, self.receive_timeout) or _FOREVER
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
            entry.glet = None  # also when the switch raised (a kill, a gevent.Timeout)
            if timer is not None and timer is not _FOREVER:
                timer.stop()
                timer.close()
            if entry.message is not None:
                self._orphan(entry)
            if entry.served:
                # _leave()'s first case, inlined: _deliver took the entry out.
                if not self.closed and not self.readers and not self.writers:
                    self._stop_watching()
            else:
                self._leave(queue, entry)

    def _orphan(self, entry: _Parked) -> None:
        """A served receiver was interrupted before taking its message: pass it on.

        Only a synchronous throw from a greenlet that ran earlier in the same
        hand-off pass can do this.
        """
        message = entry.message
        entry.message = None
        if message is not None:
            self.hold(message)

    def hold(self, message: list[Any]) -> None:
        """Keep a received message that its receiver cannot take, for the next receiver.

        It goes to the receiver now at the head of the queue, or, if none
        waits, is held at the head for the next recv(): neither lost nor
        overtaken.  Held messages count as readable (``events()``).
        """
        if self.closed:
            return
        readers = self.readers
        head = readers[0] if readers else None
        if (
            head.__class__ is _Parked
            and head.copy is not None
            and not head.held
            and head.glet is not None
        ):
            readers.popleft()
            head.message = as_copy(message, head.copy)
            head.served = True
            self.hub.loop.run_callback(head.resume)
            return
        held = _Parked()
        held.copy = True
        held.message = message
        held.held = True
        index = 0
        while index < len(readers) and readers[index].held:
            index += 1  # after messages held before it
        readers.insert(index, held)
        self._held += 1

    # -- frame-by-frame sending (gzmq.green) ------------------------------------

    def reserve_send(self, timeout: float | None) -> Reservation:
        """Wait, first come first served, until a message could be sent now; keep the head.

        What libzmq does at the first frame of a message sent frame by frame
        (``send(frame, SNDMORE)``), without sending anything: the caller
        holds the frames and sends them whole with :meth:`send_reserved`, or
        gives the place up with :meth:`release`.  ``timeout`` as for
        wait_send (0: try once, zmq.Again).  On a REP socket, which cannot
        send before it received, zmq.ZMQError EFSM is raised as libzmq does.
        """
        self._enter(timeout)
        self._reap_reservation()
        entry = Reservation()
        entry.sender = weakref.ref(getcurrent())
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
                if timer is None:
                    timer = self._deadline(entry, timeout, self.send_timeout) or _FOREVER
                entry.woken = False
                self._park(entry)
                if self.closed:
                    raise self.closed_error()
                if entry.expired:
                    raise _Again()
        finally:
            if timer is not None and timer is not _FOREVER:
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
                        timer = self._deadline(entry, timeout, self.send_timeout) or _FOREVER
                except _Again:
                    kept = True
                    raise
                entry.woken = False
                self._park(entry)
                if self.closed:
                    raise self.closed_error()
                if entry.expired:
                    kept = True
                    raise _Again()
        finally:
            if timer is not None and timer is not _FOREVER:
                timer.stop()
                timer.close()
            if done or not kept:
                self._leave(queue, entry)

    def release(self, entry: Reservation) -> None:
        """Give up the place a frame-by-frame message kept (its frames are dropped)."""
        if entry in self.writers:
            self._leave(self.writers, entry)

    def _reap_reservation(self) -> None:
        """Drop the reservation at the head of the send queue if its greenlet died."""
        writers = self.writers
        while writers and writers[0].__class__ is Reservation and writers[0].abandoned():
            writers.popleft()

    # -- readiness ------------------------------------------------------------

    def wait_readable(self, timeout: float | None) -> bool:
        """Block until a message can be received, without receiving it."""
        return self._wait_ready(self.readers, _POLLIN, timeout)

    def wait_writable(self, timeout: float | None) -> bool:
        """Block until a message can be sent, without sending it."""
        return self._wait_ready(self.writers, _POLLOUT, timeout)

    def _wait_ready(self, queue: deque[_Parked], flag: int, timeout: float | None) -> bool:
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
        entry = _Parked()
        queue.append(entry)
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
            self._leave(queue, entry)


def _drain(fd: int) -> None:
    """Reset a zmq_poller's signaler fd (read until EAGAIN; never blocks)."""
    try:
        while os.read(fd, 64):
            pass
    except OSError:
        pass  # EAGAIN: nothing more to read
