"""Waking parked greenlets: the io watcher, the re-check rule, the hand-off (DESIGN §3 rule 2).

ZMQ_FD is edge-triggered: any libzmq call on the socket may consume the edge
that a parked greenlet waits for.  So after every such call, if anyone
waits, ZMQ_EVENTS is read again (:meth:`Handoff.refresh`) and the ready ones
are woken; and when the io watcher fires, ZMQ_EVENTS is read (which re-arms
the edge) whether or not anyone is woken.  The watcher runs only while
somebody waits, so an idle socket costs the hub nothing and a forgotten
socket can be garbage collected.

When a socket becomes readable, the hub receives a message for each parked
receiver in turn and switches into them one after the other
(:meth:`Handoff._deliver`): an exception from one of them never affects
another.  Polls and readiness waits (:meth:`Handoff.watch`) are woken, all of
them, whenever a direction they watch may have become ready.
"""

from __future__ import annotations

import errno
import os
from collections import deque
from typing import TYPE_CHECKING, Any

import zmq

from gzmq import _native
from gzmq._fastpath import recv_frames
from gzmq._parking import Parked, first_waiting, wake_all

__all__ = ["Handoff"]

_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)
_MINUS_EAGAIN = -errno.EAGAIN
_READ = 1  # libev EV_READ
_ZMQError = zmq.ZMQError
_recv_message = _native.recv_message
#: Whether the Gate has the C io callback (the accelerator is in use).
_C_ON_FD = hasattr(_native.Gate, "on_fd")


class Handoff:
    """Mixin of gzmq._waiting.Waiting: the io watcher, refresh() and the hand-off."""

    if not TYPE_CHECKING:  # mypy would take the empty slots for the attributes' list
        __slots__ = ()

    socket: Any
    hub: Any
    owner: int
    closed: bool
    readers: deque[Any]
    writers: deque[Any]
    poll_in: list[Any]
    poll_out: list[Any]
    polling: int
    _watcher: Any
    _watching: bool
    _delivery: bool
    _signaler: bool

    if TYPE_CHECKING:
        # Provided by Waiting, its Gate (on_fd: the C one) and its other mixins.
        def on_fd(self) -> None: ...
        def events(self) -> int: ...
        def _watch_fd(self) -> int: ...
        def _took_part(self, entry: Parked, message: Any) -> Any: ...

    # -- waking ---------------------------------------------------------------

    def refresh(self) -> None:
        """After an operation, wake the waiters of each ready direction.

        Call from a greenlet (not the hub) after any libzmq call on the socket
        when somebody may be waiting: the call may have consumed the edge.
        The head receiver is served by a hand-off queued in the hub, the head
        sender is resumed, and every poll of a ready direction is woken.
        """
        if self.closed:
            return
        try:
            ev = self.events()
        except _ZMQError:
            ev = _POLLIN | _POLLOUT  # let the waiters meet the error themselves
        run_callback = self.hub.loop.run_callback
        if ev & _POLLIN:
            if self.readers and not self._delivery:
                self._delivery = True
                run_callback(self._deliver_queued)
            if self.poll_in:
                wake_all(self.poll_in, run_callback)
        if ev & _POLLOUT:
            if self.writers:
                head = self.writers[0]
                if not head.woken:
                    head.woken = True
                    run_callback(head.resume)
            if self.poll_out:
                wake_all(self.poll_out, run_callback)

    def after_call(self) -> None:
        """After any other libzmq call on the socket (bind, options, ...): keep waiters awake.

        libzmq processes pending commands inside bind, connect, unbind,
        disconnect and option calls, which may consume the ZMQ_FD edge that
        a parked greenlet waits for.
        """
        if self.readers or self.writers or self.polling:
            self.refresh()

    def _on_fd_slow(self) -> None:
        """The io watcher fired (in the hub): read EVENTS and wake who is ready.

        With the accelerator the watcher calls the Gate's ``on_fd`` (C), which
        serves parked receivers of bytes itself and calls this for the rest.
        """
        if self.closed:
            self._stop_watching()
            return
        readers = self.readers
        if readers and not self.writers and not self.polling:
            head = readers[0]
            if head.__class__ is Parked and not head.held:
                # Only receivers wait: trying to receive is the readiness check
                # (it processes libzmq's commands as reading EVENTS would), one
                # libzmq call less per wake-up.
                self._deliver()
                return
        try:
            ev = self.events()
        except _ZMQError:
            ev = _POLLIN | _POLLOUT
        run_callback = self.hub.loop.run_callback
        if ev & _POLLIN and self.poll_in:
            wake_all(self.poll_in, run_callback)
        if ev & _POLLOUT and self.poll_out:
            wake_all(self.poll_out, run_callback)
        writer = None
        if ev & _POLLOUT and self.writers and not self.writers[0].woken:
            writer = self.writers[0]
            writer.woken = True
        if not self.readers and not self.writers and not self.polling:
            self._stop_watching()
        if ev & _POLLIN and self.readers:
            if writer is not None:
                run_callback(writer.resume)
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
        gets one, received on its behalf with its own ``copy`` (one frame for
        a ``part`` receiver, whose message, if more frames follow, then keeps
        the head of the queue), and leaves the queue; each is served at most
        once per pass.  Only then are the served greenlets switched into, one
        after the other, directly from here: nothing else runs in between (no
        timer, no kill), so a message handed over cannot be dropped by an
        interruption.  The socket's owner is checked before each receive (a
        served greenlet may close it).
        """
        readers = self.readers
        served: list[Parked] = []
        wake: Parked | None = None
        budget = len(readers)
        try:
            while budget and readers:
                head = readers[0]
                if head.held:
                    # A message held for the next receiver: the first one waiting
                    # behind it takes it itself (wait_parked).
                    wake = first_waiting(readers)
                    break
                if head.__class__ is not Parked or head.glet is None:
                    break  # a frame-by-frame read, an interrupted receiver (it re-checks)
                if self.owner < 0:
                    # Closed, lent or forked: let the head meet that itself.
                    if not head.woken:
                        head.woken = True
                        wake = head
                    break
                copy = head.copy
                part = head.part
                if copy and not part and _recv_message is not None:
                    message = _recv_message(self.handle)  # type: ignore[attr-defined]
                    if message is None:
                        break  # EAGAIN
                else:
                    message = recv_frames(self.socket, bool(copy), part)
                    if message == _MINUS_EAGAIN:
                        break
                if message.__class__ is not list and message.__class__ is not tuple:  # -errno
                    if not head.woken:
                        # Let the head meet the error (or the closed socket) itself.
                        head.woken = True
                        wake = head
                    break
                readers.popleft()
                head.served = True
                served.append(head)
                budget -= 1
                if part:
                    head.message = self._took_part(head, message)
                    if message[1]:
                        break  # its message keeps the head of the queue now
                else:
                    head.message = message
        finally:
            self._switch_into(served, wake)

    def _switch_into(self, served: list[Parked], wake: Parked | None) -> None:
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
                if not self.closed and (self.readers or self.writers or self.polling):
                    run_callback(self.refresh)  # the pass ended early: re-check everyone
                raise
        if wake is not None:
            wake.resume()
        if served and (self.writers or self.polling) and not self.closed:
            # The receives may have consumed the edge a sender or a poll waits
            # for.  (Receivers need no re-read: each parked one tried after the
            # last receive here, and what the served greenlets did on the
            # socket they followed with a refresh() themselves.)
            self.refresh()

    def _on_signal(self) -> None:
        """As _on_fd, for a thread-safe socket: first reset its zmq_poller fd."""
        watcher = self._watcher
        if watcher is not None:
            _drain(watcher.fd)
        self._fd_callback()()

    def _fd_callback(self) -> Any:
        """What the io watcher calls when ZMQ_FD is readable (the C on_fd if built)."""
        return self.on_fd if _C_ON_FD else self._on_fd_slow

    def _start_watching(self) -> None:
        if self._watcher is None:
            fd = self._watch_fd()
            self._watcher = self.hub.loop.io(fd, _READ)
            if self._signaler:
                # The stand-in fd was not signalled for commands queued before
                # it existed: read EVENTS once (in the hub) to process them.
                self.hub.loop.run_callback(self._on_signal)
        self._watcher.start(self._on_signal if self._signaler else self._fd_callback())
        self._watching = True

    def _stop_watching(self) -> None:
        if self._watching:
            self._watching = False
            self._watcher.stop()

    # -- polls and readiness waits ----------------------------------------------

    def watch(self, entry: Any, flags: int) -> None:
        """Park a poll's ``entry`` (with ``woken``, ``resume()``) for POLLIN and/or POLLOUT.

        It is woken (``resume()``) whenever a direction it watches may have
        become ready; it takes nothing and never delays a send or a receive.
        """
        if flags & _POLLIN:
            self.poll_in.append(entry)
        if flags & _POLLOUT:
            self.poll_out.append(entry)
        self.polling = len(self.poll_in) + len(self.poll_out)
        if self.polling and not self._watching and not self.closed:
            self._start_watching()

    def unwatch(self, entry: Any) -> None:
        """Take a poll's ``entry`` out again (see :meth:`watch`)."""
        for queue in (self.poll_in, self.poll_out):
            if entry in queue:
                queue.remove(entry)
        self.polling = len(self.poll_in) + len(self.poll_out)
        if not self.closed and not self.readers and not self.writers and not self.polling:
            self._stop_watching()


def _drain(fd: int) -> None:
    """Reset a zmq_poller's signaler fd (read until EAGAIN; never blocks)."""
    try:
        while os.read(fd, 64):
            pass
    except OSError:
        pass  # EAGAIN: nothing more to read
