"""The cooperative core: one :class:`Waiting` per libzmq socket.

Every libzmq call is made with ``DONTWAIT``.  A call that can complete now
completes now, without a switch to the hub.  A call that gets ``EAGAIN``
parks the calling greenlet in a FIFO queue for its direction (send or
receive) and retries when woken.

ZMQ_FD is edge-triggered: any libzmq call on the socket may consume the edge
that a parked greenlet is waiting for.  So after every operation that may
have done so, if anyone waits, ZMQ_EVENTS is read again and the head of the
ready direction is woken; and when the io watcher fires, ZMQ_EVENTS is read
(which re-arms the edge) whether or not anyone is woken.  The watcher runs
only while somebody waits, so an idle socket costs the hub nothing and a
forgotten socket can be garbage collected.

Only the head of a queue attempts its operation: waiters are served first
come, first served, and each gets one whole message.
"""

from __future__ import annotations

import errno
import math
import os
import threading
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import gevent
import zmq
from gevent import get_hub
from greenlet import getcurrent
from zmq.backend import Socket as _BackendSocket

from gzmq import _native
from gzmq._timeouts import check_seconds
from gzmq.errors import InvalidThreadUseError, SocketClosedError

__all__ = ["COST_SHIFT", "FAIRNESS_LIMIT", "LARGE_MESSAGE", "Frames", "Waiting"]

#: Consecutive immediate completions on one socket before the next call
#: yields to the hub once (zeromq.js uses the same bound).
FAIRNESS_LIMIT = 512

#: A message sent on the fast path costs ``1 + len >> COST_SHIFT`` of the
#: fairness budget, so a sender yields after 512 messages or ~128 KiB,
#: whichever comes first (two 64 KiB messages; one of 128 KiB or more ends
#: the streak by itself).  Its reader in the same thread then runs while the
#: messages are in cache.  With the accelerator, a frame of LARGE_MESSAGE
#: bytes or more is sent without a copy (libzmq reads the bytes object
#: itself): one large block freed per message instead of two, so glibc does
#: not trim the heap top and fault it back in on every message.
COST_SHIFT = 8
LARGE_MESSAGE = 64 * 1024
_native.configure(deque, FAIRNESS_LIMIT, COST_SHIFT, LARGE_MESSAGE)

Frames = Sequence[Any]

# Plain ints on the hot path, not pyzmq's IntFlag members.
_DONTWAIT = int(zmq.DONTWAIT)
_SNDMORE = int(zmq.SNDMORE)
_POLLIN = int(zmq.POLLIN)
_POLLOUT = int(zmq.POLLOUT)
_EVENTS = int(zmq.EVENTS)
_RCVMORE = int(zmq.RCVMORE)
_ENOTSOCK = int(zmq.ENOTSOCK)
_ETERM = int(zmq.ETERM)
_READ = 1  # libev EV_READ
_THREAD_SAFE = int(zmq.THREAD_SAFE)
_DraftFDWarning: Any = getattr(zmq.error, "DraftFDWarning", None)

_Again = zmq.Again
_ZMQError = zmq.ZMQError
_send = _BackendSocket.send
_recv = _BackendSocket.recv
_get = _BackendSocket.get
_get_ident = threading.get_ident
_getsockopt_int = _native.getsockopt_int
_recv_message = _native.recv_message
_release_pending = _native.release_pending

#: ``owner`` of a closed socket: no thread owns it, so every fast path fails
#: its owner check and the slow path raises SocketClosedError.
CLOSED = -2

#: ``owner`` of a socket lent to libzmq in another thread (``holder``, a running
#: gzmq.Proxy): every fast path fails its owner check and the slow path raises.
LENT = -3


def zmq_error(number: int) -> zmq.ZMQError:
    """The pyzmq exception for a libzmq errno, as pyzmq itself would raise it."""
    if number == zmq.EAGAIN:
        return zmq.Again(number)
    if number == _ETERM:
        return zmq.ContextTerminated(number)
    if number == errno.EINTR:
        return zmq.InterruptedSystemCall(number)
    return zmq.ZMQError(number)

def _as_copy(message: Any, copy: bool | None) -> list[Any]:
    """A received message's frames as bytes (``copy``) or as zmq.Frame."""
    if copy is False:
        return [frame if isinstance(frame, zmq.Frame) else zmq.Frame(frame) for frame in message]
    return [frame.bytes if isinstance(frame, zmq.Frame) else frame for frame in message]


#: Stands for "no timer: wait forever" once the deadline has been worked out.
_FOREVER = object()

#: Every live Waiting, so that a forked child can disown them all.
_live: weakref.WeakSet[Waiting] = weakref.WeakSet()


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


class Waiting(_native.Gate):
    """Cooperative send/receive on one pyzmq socket, for any number of greenlets.

    Native sockets and ``gzmq.green`` sockets both hold one.  The object is
    owned by the thread (and the gevent hub) that made it.
    """

    __slots__ = (
        "__weakref__",
        "_delivery",
        "_held",
        "_signaler",
        "_watcher",
        "_watching",
        "closed",
        "describe",
        "holder",
        "hub",
        "pid",
        "receive_timeout",
        "send_timeout",
        "socket",
    )
    # handle, owner, readers, writers and streak are fields of the Gate base
    # (C fields with the accelerator, read by its fast paths).

    def __init__(self, socket: zmq.Socket[Any]) -> None:
        self.socket = socket
        self.hub = get_hub()
        self.owner = _get_ident()
        self.pid = os.getpid()
        self.readers: deque[_Parked] = deque()
        self.writers: deque[_Parked] = deque()
        self.streak = 0
        self.closed = False
        #: Milliseconds, as libzmq's RCVTIMEO/SNDTIMEO: -1 forever, 0 once.
        self.receive_timeout = -1
        self.send_timeout = -1
        self._watcher: Any = None
        self._watching = False
        #: Whether a hand-off (_deliver) is queued in the hub.
        self._delivery = False
        #: How many held messages (``_Parked.held``) head the readers queue.
        self._held = 0
        #: Whether the watcher watches a zmq_poller fd (thread-safe socket).
        self._signaler = False
        #: The libzmq socket's address, for the C accelerator.
        self.handle: int = socket.underlying
        #: What the socket is lent to while ``owner`` is LENT (see gzmq.proxy).
        self.holder: Any = None
        #: Names the socket in SocketClosedError ("gzmq.Pull (tcp://...)"), if set.
        self.describe: Callable[[], str] | None = None
        _live.add(self)

    # -- readiness ------------------------------------------------------------

    def events(self) -> int:
        """Read ZMQ_EVENTS (this also re-arms the ZMQ_FD edge)."""
        socket = self.socket
        if socket._closed:
            raise self.closed_error()
        held = _POLLIN if self._held else 0
        if _getsockopt_int is not None:
            value = _getsockopt_int(self.handle, _EVENTS)
            if value >= 0:
                return value | held
        return int(_get(socket, _EVENTS)) | held

    def has_more(self) -> bool:
        """Whether the frame just received has more frames after it."""
        if _getsockopt_int is not None:
            value = _getsockopt_int(self.handle, _RCVMORE)
            if value >= 0:
                return value != 0
        return bool(_get(self.socket, _RCVMORE))

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
        if ev & _POLLIN and self.readers and not self._delivery:
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
        message handed over cannot be dropped by an interruption.  Once
        served, a greenlet's next recv() finds no unserved receiver ahead of
        it and may take the fast path.  A wait_readable() waiter at the head
        is woken instead, and ends the pass.
        """
        readers = self.readers
        served: list[_Parked] = []
        wake: _Parked | None = None
        budget = len(readers)
        while budget and readers:
            head = readers[0]
            if head.__class__ is not _Parked or head.copy is None:
                # Waits for readiness only (wait_readable, a gzmq.green poll).
                if not head.woken:
                    head.woken = True
                    wake = head
                break
            copy = head.copy
            if head.held or head.glet is None:
                break
            if copy and _recv_message is not None:
                # recv_now(), inlined: this loop runs once per parked receiver.
                message = _recv_message(self.handle)
                if message.__class__ is not list:
                    if message is not None and not head.woken:  # -errno
                        # Let the head meet the error (or the closed socket) itself.
                        head.woken = True
                        wake = head
                    break
            else:
                try:
                    message = self.recv_now(copy)
                except _Again:
                    break
                except _ZMQError:
                    if not head.woken:
                        head.woken = True
                        wake = head
                    break
            readers.popleft()
            head.message = message
            head.served = True
            served.append(head)
            budget -= 1
        for entry in served:
            glet = entry.glet  # entry.resume(), inlined
            if glet is not None:
                glet.switch()
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
            self._signaler = _thread_safe(self.socket)
            fd = _watch_fd(self.socket, self._signaler)
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

    # -- checks ---------------------------------------------------------------

    def check_owner(self) -> None:
        """Raise unless the calling thread (and process) owns this socket (or it is closed)."""
        owner = self.owner
        if _get_ident() != owner and owner != CLOSED:
            self.wrong_owner()

    def wrong_owner(self) -> None:
        """Raise the error for a call from a thread or process that is not the owner."""
        if self.closed:
            raise self.closed_error()
        if self.holder is not None and self.pid == os.getpid():
            raise InvalidThreadUseError(
                f"this socket is in use by {self.holder!r}, which runs it in another "
                "thread; it cannot be used until that ends"
            )
        if self.pid != os.getpid():
            raise InvalidThreadUseError(
                f"this socket belongs to process {self.pid} and cannot be used "
                "after fork; create a new socket in the child"
            )
        raise InvalidThreadUseError(
            "this socket belongs to another thread; gevent sockets are bound to the "
            "hub of the thread that created them (create one socket per thread)"
        )

    def closed_error(self) -> SocketClosedError:
        """The SocketClosedError for this socket, naming it when the owner said how."""
        describe = self.describe
        if describe is None:
            return SocketClosedError()
        try:
            return SocketClosedError(f"Socket is closed: {describe()}")
        except Exception:  # noqa: BLE001 - a failing description must not hide the error
            return SocketClosedError()

    def fail(self, error: zmq.ZMQError) -> None:
        """Re-raise a libzmq error, as SocketClosedError if the socket was closed."""
        if self.closed or error.errno == _ENOTSOCK:
            raise self.closed_error() from None
        raise error

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

    def wait_send(
        self, frames: Frames, flags: int, timeout: float | None
    ) -> Any:
        """Send ``frames`` as one message, waiting cooperatively; the slow path.

        ``flags`` is ORed into the last frame's flags (SNDMORE lets a drop-in
        caller continue a message it started).  Returns what the last libzmq
        send returned (a MessageTracker when tracking).
        """
        if timeout is not None:
            check_seconds(timeout)  # before anything is sent: a NaN would stop the hub's timers
        if _get_ident() != self.owner:
            self.wrong_owner()
        if self.closed:
            raise self.closed_error()
        if self.streak >= FAIRNESS_LIMIT:
            self._yield()
        entry = _Parked()
        queue = self.writers
        queue.append(entry)
        timer: Any = None
        recheck = True
        try:
            while True:
                if queue[0] is entry:
                    try:
                        result = self._send_all(frames, flags)
                    except _Again:
                        pass
                    except _ZMQError as error:
                        self.fail(error)
                    else:
                        self.streak = 0
                        return result
                    # A DONTWAIT send may fail on a stale view of the peer's
                    # queue; EVENTS processes pending commands and tells.  Once
                    # per wake-up only: a ROUTER reports POLLOUT even when the
                    # one peer addressed is full.
                    if recheck:
                        recheck = False
                        try:
                            if self.events() & _POLLOUT:
                                continue
                        except _ZMQError as error:
                            self.fail(error)
                if timer is None:
                    timer = self._deadline(entry, timeout, self.send_timeout) or _FOREVER
                if self.readers:
                    self.refresh()  # the failed send may have consumed their edge
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

    def _send_all(self, frames: Frames, flags: int) -> Any:
        """Send every frame; only the first may fail with EAGAIN."""
        socket = self.socket
        last = len(frames) - 1
        if last == 0:
            return _send(socket, frames[0], _DONTWAIT | flags)
        _send(socket, frames[0], _DONTWAIT | _SNDMORE)
        # The first frame was accepted: libzmq checks the high water mark at
        # message boundaries only, so the rest go through without waiting.
        for index in range(1, last):
            self._send_more(frames[index], _SNDMORE)
        return self._send_more(frames[last], flags)

    def _send_more(self, frame: Any, flags: int) -> Any:
        """Send a frame after the first of a message, never leaving it partial."""
        while True:
            try:
                return _send(self.socket, frame, _DONTWAIT | flags)
            except _Again:
                # Not expected from libzmq; wait without giving up the head
                # of the queue so that no other message can interleave.
                gevent.sleep(0.001)

    def wait_recv(
        self, timeout: float | None, copy: bool = True, *, tried: bool = False
    ) -> list[Any]:
        """Receive one whole message, waiting cooperatively; the slow path.

        ``tried``: the caller has just got EAGAIN from a receive on this
        socket with nobody waiting (a fast path), so the first attempt,
        which would fail the same way, is skipped.
        """
        if timeout is not None:
            check_seconds(timeout)
        if _get_ident() != self.owner:
            self.wrong_owner()
        if self.closed:
            raise self.closed_error()
        if self.streak >= FAIRNESS_LIMIT:
            self._yield()
        entry = _Parked()
        entry.copy = copy
        queue = self.readers
        queue.append(entry)
        timer: Any = None
        attempt = not tried
        try:
            while True:
                head = queue[0]
                if head is entry and attempt:
                    try:
                        message = self.recv_now(copy)
                    except _Again:
                        pass
                    except _ZMQError as error:
                        self.fail(error)
                    else:
                        self.streak = 0
                        return message
                elif self._held and head.held:
                    # A message whose receiver was interrupted: the next one takes it.
                    queue.popleft()
                    self._held -= 1
                    return _as_copy(head.message, copy)
                if timer is None:
                    if timeout is None and self.receive_timeout < 0:
                        timer = _FOREVER  # the common case, without a call
                    else:
                        timer = self._deadline(entry, timeout, self.receive_timeout) or _FOREVER
                attempt = True
                if self.writers:
                    self.refresh()  # the failed receive may have consumed their edge
                entry.woken = False
                # _park(), inlined: this loop is the hot path of a shared socket.
                if not self._watching:
                    self._start_watching()
                entry.glet = getcurrent()
                self.hub.switch()
                entry.glet = None
                served = entry.message
                if served is not None:
                    entry.message = None
                    self.streak = 0
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
        hand-off pass can do this.  The message goes to the receiver now at
        the head of the queue, or, if none waits, is held at the head for
        the next recv(): it is neither lost nor overtaken.
        """
        message = entry.message
        entry.message = None
        if self.closed or message is None:
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
            head.message = _as_copy(message, head.copy)
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

    def recv_now(self, copy: bool = True) -> list[Any]:
        """Receive one whole message with DONTWAIT (raises Again if none)."""
        if copy and _recv_message is not None:
            received = _recv_message(self.handle)
            if received.__class__ is list:
                return received
            if received is None:
                raise _Again()
            raise zmq_error(-received)
        socket = self.socket
        if copy:
            message: list[Any] = [_recv(socket, _DONTWAIT)]
            while self.has_more():
                message.append(_recv(socket, _DONTWAIT))
            return message
        frame = _recv(socket, _DONTWAIT, False)
        frames: list[Any] = [frame]
        while frame.more:
            frame = _recv(socket, _DONTWAIT, False)
            frames.append(frame)
        return frames

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

    # -- close ----------------------------------------------------------------

    def close(self, closer: Callable[[], None] | None = None) -> None:
        """Mark closed, wake every waiter with SocketClosedError, stop the watcher.

        ``closer`` closes the libzmq socket; it is skipped in a forked child,
        where the parent's libzmq state must not be touched.
        """
        if self.closed:
            return
        self.closed = True
        owned = _get_ident() == self.owner
        self.owner = CLOSED
        watcher = self._watcher
        self._watcher = None
        self._watching = False
        if watcher is not None:
            watcher.stop()
            watcher.close()
        waiting = list(self.readers) + list(self.writers)
        self.readers.clear()
        self._held = 0  # dropped with the socket, as libzmq drops what it queued
        self.writers.clear()
        if self.pid == os.getpid():
            if waiting and owned:
                run_callback = self.hub.loop.run_callback
                for entry in waiting:
                    entry.woken = True
                    run_callback(entry.resume)
            if closer is not None:
                closer()
            if _release_pending is not None:
                _release_pending()  # large frames libzmq dropped with the socket
        _live.discard(self)


def _thread_safe(socket: zmq.Socket[Any]) -> bool:
    """Whether libzmq lets threads share the socket (the draft types do)."""
    try:
        return bool(_get(socket, _THREAD_SAFE))
    except _ZMQError:
        return False  # a libzmq without ZMQ_THREAD_SAFE has no such sockets


def _watch_fd(socket: zmq.Socket[Any], thread_safe: bool) -> int:
    """The fd the io watcher waits on: ZMQ_FD, or a stand-in for a thread-safe socket.

    Thread-safe (draft) sockets have no ZMQ_FD; pyzmq built with the draft
    API returns the fd of a zmq_poller holding the socket instead.  That fd
    is libzmq's signaler (an eventfd): libzmq signals it with the same edges
    as ZMQ_FD, but nothing resets it, so the watcher callback drains it
    (:func:`_drain`) before reading ZMQ_EVENTS.
    """
    if not thread_safe or _DraftFDWarning is None:
        return int(_get(socket, zmq.FD))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _DraftFDWarning)  # the stand-in is what we want
        fd = int(_get(socket, zmq.FD))
    os.set_blocking(fd, False)  # libzmq made it so; _drain relies on it
    return fd


def _drain(fd: int) -> None:
    """Reset a zmq_poller's signaler fd (read until EAGAIN; never blocks)."""
    try:
        while os.read(fd, 64):
            pass
    except OSError:
        pass  # EAGAIN: nothing more to read


def _disown_after_fork() -> None:
    """In a forked child, make every inherited socket refuse to be used."""
    _native.after_fork_in_child()
    for waiting in list(_live):
        waiting.owner = -1
        waiting.readers.clear()
        waiting.writers.clear()
        waiting._held = 0
        waiting._watcher = None
        waiting._watching = False


os.register_at_fork(after_in_child=_disown_after_fork)
