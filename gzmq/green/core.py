"""The green ``Socket`` and ``Context``: pyzmq's classes on gzmq's cooperative core.

:class:`Socket` is a :class:`zmq.Socket` subclass whose blocking calls
block only the calling greenlet.  Every libzmq call is made with DONTWAIT;
one that can complete now completes now, without a switch to the hub; one
that gets EAGAIN waits in the socket's :class:`~gzmq._waiting.Waiting`
(FIFO, any number of greenlets, RCVTIMEO/SNDTIMEO honoured, woken by
``close()``).

Frame-by-frame use (``send(a, SNDMORE); send(b)``, ``recv()`` then
``RCVMORE``) never interleaves messages of different greenlets: the frames a
greenlet sends with SNDMORE are kept until its last frame and then sent as
one message; a multipart message is taken from libzmq whole and handed to the
greenlet that started reading it frame by frame, ``RCVMORE`` answering for
that greenlet.  So other greenlets never wait for a half-finished message,
and a message is never half-sent.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar

import gevent
import zmq
from gevent._hub_local import get_hub_if_exists
from greenlet import getcurrent
from zmq.backend import Socket as _BackendSocket

from gzmq import _native
from gzmq._waiting import FAIRNESS_LIMIT
from gzmq.errors import InvalidThreadUseError
from gzmq.green._state import State, state_for, waiting_here
from gzmq.green.poll import Poller

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Context", "Socket"]

_DONTWAIT = int(zmq.DONTWAIT)
_SNDMORE = int(zmq.SNDMORE)
_RCVMORE = int(zmq.RCVMORE)
_EVENTS = int(zmq.EVENTS)
_RCVTIMEO = int(zmq.RCVTIMEO)
_SNDTIMEO = int(zmq.SNDTIMEO)
_POLLIN = int(zmq.POLLIN)
_LIMIT = FAIRNESS_LIMIT

_Again = zmq.Again
_ZMQError = zmq.ZMQError
_Frame = zmq.Frame
_send = _BackendSocket.send
_gate_send = _native.gate_send
_gate_recv = _native.gate_recv
_recv = _BackendSocket.recv
_recv_into = _BackendSocket.recv_into
_get = _BackendSocket.get
_set = _BackendSocket.set
_get_ident = threading.get_ident

_OriginalSocket = zmq.Socket
_OriginalContext = zmq.Context

# Generic as pyzmq's classes are (``zmq.Context[zmq.Socket[bytes]]`` is evaluated
# at import by user code, and by libraries subclassing ``zmq.Context`` after
# gzmq.monkey.patch()): what recv() returns, and the context's socket class.
_Received_co = TypeVar("_Received_co", covariant=True)
_GreenSocket_co = TypeVar("_GreenSocket_co", bound="Socket[Any]", covariant=True)


def _no_getint(handle: int, option: int) -> int:
    """Without the C accelerator: -1 means "ask pyzmq"."""
    return -1


_getint = _native.getsockopt_int or _no_getint


def _more(sock: Any, handle: int) -> bool:
    """Whether the frame just received on ``sock`` has more after it."""
    value = _getint(handle, _RCVMORE)
    if value >= 0:
        return value != 0
    return bool(_get(sock, _RCVMORE))


def _remember(stash: dict[Any, Any], value: Any) -> None:
    """Store ``value`` for the current greenlet, forgetting dead greenlets' entries."""
    if stash:
        for glet in [glet for glet in stash if glet.dead]:
            del stash[glet]
    stash[getcurrent()] = value


def _send_rest(sock: Any, frames: Sequence[Any], flags: int) -> Any:
    """Send the frames after the first of a message; libzmq accepts them at once."""
    last = len(frames) - 1
    for index in range(1, last):
        _send_continued(sock, frames[index], _SNDMORE)
    return _send_continued(sock, frames[last], flags & ~_DONTWAIT)


def _send_continued(sock: Any, frame: Any, flags: int) -> Any:
    """Send a frame after the first of a message, never leaving the message partial."""
    while True:
        try:
            return _send(sock, frame, _DONTWAIT | flags)
        except _Again:
            # libzmq checks the high water mark at message boundaries only,
            # so this is not expected; wait without ever abandoning the message.
            gevent.sleep(0.001)


class Socket(_OriginalSocket[_Received_co]):
    """A :class:`zmq.Socket` whose blocking calls block only the calling greenlet.

    Same constructor as pyzmq's (``Socket(ctx, zmq.REQ)``, ``Socket(shadow=...)``,
    ``Socket.shadow(address)``); usually made by ``Context.socket()``.  Many
    greenlets may wait on one socket (first come, first served);
    RCVTIMEO/SNDTIMEO raise zmq.Again; ``close()`` wakes every waiter with
    :class:`gzmq.SocketClosedError`.  ``flags=zmq.NOBLOCK`` never waits.
    """

    _repr_cls = "gzmq.green.Socket"
    _poller_class = Poller
    _g: State

    def __init__(
        self: Socket[bytes],
        ctx_or_socket: Any = None,
        socket_type: int = 0,
        *,
        shadow: Any = 0,
        copy_threshold: int | None = None,
    ) -> None:
        if isinstance(ctx_or_socket, _BackendSocket):
            shadow, ctx_or_socket = ctx_or_socket, None
        shadow_context = shadow.context if isinstance(shadow, _BackendSocket) else None
        # pyzmq's overloads split what its one implementation accepts together.
        super().__init__(  # type: ignore[call-overload]
            ctx_or_socket, socket_type, shadow=shadow, copy_threshold=copy_threshold
        )
        if shadow_context is not None and self.context is None:
            self.context = shadow_context
        self.__dict__["_g"] = state_for(self.underlying, shadowing=bool(shadow))

    # -- lifecycle -----------------------------------------------------------------

    def close(self, linger: int | None = None) -> None:
        """Close the socket; every greenlet waiting on it gets SocketClosedError."""
        state: State | None = self.__dict__.get("_g")
        if state is None:
            super().close(linger)
            return
        if state.waiting.closed:
            # Closed through another green object on the same libzmq socket.
            if self.context:
                self.context._rm_socket(self)
            self._closed = True
            return
        if state.busy is not None:
            raise InvalidThreadUseError(state.busy)
        state.mark_closed()
        state.rstash.clear()
        state.sstash.clear()
        state.waiting.close(lambda: _OriginalSocket.close(self, linger))

    # -- endpoints and options: libzmq may consume ZMQ_FD's edge inside them --------

    def _after_call(self) -> None:
        """Re-check the waiters after a libzmq call that may have consumed the edge."""
        state: State | None = self.__dict__.get("_g")
        if state is not None:
            waiting = state.waiting
            if (waiting.readers or waiting.writers) and waiting.owner == _get_ident():
                waiting.refresh()

    def _check_free(self) -> None:
        """Raise while a proxy running in another thread owns the socket."""
        state: State | None = self.__dict__.get("_g")
        if state is not None and state.busy is not None:
            raise InvalidThreadUseError(state.busy)

    def bind(self, addr: str) -> Any:
        """Bind to ``addr`` (pyzmq's bind: returns a context manager that unbinds)."""
        self._check_free()
        try:
            return super().bind(addr)
        finally:
            self._after_call()

    def connect(self, addr: str) -> Any:
        """Connect to ``addr`` (pyzmq's connect: returns a context manager that disconnects)."""
        self._check_free()
        try:
            return super().connect(addr)
        finally:
            self._after_call()

    def unbind(self, addr: str | bytes) -> None:
        """Stop listening on ``addr``."""
        self._check_free()
        try:
            super().unbind(addr)
        finally:
            self._after_call()

    def disconnect(self, addr: str | bytes) -> None:
        """Disconnect from ``addr``."""
        self._check_free()
        try:
            super().disconnect(addr)
        finally:
            self._after_call()

    def set(self, option: int, optval: Any) -> None:
        """Set a socket option; RCVTIMEO/SNDTIMEO take effect on the green waits too."""
        state: State | None = self.__dict__.get("_g")
        if state is not None and state.busy is not None:
            raise InvalidThreadUseError(state.busy)
        try:
            _set(self, option, optval)
        finally:
            self._after_call()
        if state is not None:
            if option == _RCVTIMEO:
                state.waiting.receive_timeout = int(optval)
            elif option == _SNDTIMEO:
                state.waiting.send_timeout = int(optval)

    setsockopt = set

    def get(self, option: int) -> Any:
        """Get a socket option.

        Reading EVENTS consumes ZMQ_FD's edge, so waiters are re-checked after
        it.  RCVMORE answers for the calling greenlet's message.
        """
        state: State | None = self.__dict__.get("_g")
        if state is None:
            return _get(self, option)
        if state.busy is not None:
            raise InvalidThreadUseError(state.busy)
        if state.rstash and (option == _RCVMORE or option == _EVENTS):
            if state.rstash.get(getcurrent()):
                if option == _RCVMORE:
                    return 1
                return int(_get(self, _EVENTS)) | _POLLIN
        value = _get(self, option)
        if option == _EVENTS:
            waiting = state.waiting
            if (waiting.readers or waiting.writers) and waiting.owner == _get_ident():
                waiting.refresh()
        return value

    getsockopt = get

    # -- sending -------------------------------------------------------------------

    def send(
        self,
        data: Any,
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        routing_id: int | None = None,
        group: str | None = None,
    ) -> Any:
        """Send one frame, blocking only this greenlet (``flags=NOBLOCK``: never).

        As pyzmq's ``send``; ``routing_id`` (SERVER) and ``group`` (RADIO) are
        kept on every path.  Frames sent with SNDMORE are held until the last
        frame, then the message goes out whole.
        """
        if routing_id is not None or group is not None:
            data = self._addressed(data, copy, track, routing_id, group)
        state = self._g
        if flags & _SNDMORE or state.sstash:
            return self._send_frame(state, data, flags, copy, track)
        waiting = state.waiting
        if (
            data.__class__ is bytes
            and not flags & ~_DONTWAIT
            and copy is True
            and track is False
            and _gate_send is not None
            and _gate_send(waiting, data) == 0
        ):
            return None  # sent by the C accelerator (it declines, or fails, to the path below)
        if not waiting.writers and waiting.streak < _LIMIT:
            try:
                result = _send(self, data, flags | _DONTWAIT, copy, track)
            except _Again:
                if flags & _DONTWAIT:
                    if waiting.readers:
                        waiting.refresh()
                    raise
            except _ZMQError:
                if waiting.readers:
                    waiting.refresh()
                raise
            else:
                waiting.streak += 1
                if waiting.readers:
                    waiting.refresh()
                return result
        frame, _ = self._held(data, copy, track, snapshot=False)
        return self._send_waiting(state, [frame], flags)

    def send_multipart(
        self,
        msg_parts: Sequence[Any],
        flags: int = 0,
        copy: bool = True,
        track: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Send a multipart message whole, blocking only this greenlet.

        Waits (if it must) only before the first frame; the message is never
        interleaved with another greenlet's.
        """
        for index, part in enumerate(msg_parts):
            if not isinstance(part, (bytes, _Frame, memoryview)):
                try:
                    memoryview(part)
                except TypeError:
                    raise TypeError(
                        f"frame {index} of the message ({part!r:.40}) does not support "
                        "the buffer interface (use bytes, or send_string for str)"
                    ) from None
        if not msg_parts:
            raise ValueError("send_multipart needs at least one frame")
        state = self._g
        if flags & _SNDMORE or state.sstash:
            # Continue (or leave open) a message this greenlet sends frame by frame.
            result = None
            last = len(msg_parts) - 1
            for index, part in enumerate(msg_parts):
                more = _SNDMORE if index < last else 0
                result = self._send_frame(state, part, flags | more, copy, track)
            return result
        if copy:
            frames = list(msg_parts)
        else:
            threshold = self.copy_threshold
            frames = [
                part
                if isinstance(part, _Frame)
                else _Frame(part, track=track, copy_threshold=threshold)
                for part in msg_parts
            ]
        return self._send_message(state, frames, flags)

    def _addressed(
        self, data: Any, copy: bool, track: bool, routing_id: Any, group: Any
    ) -> zmq.Frame:
        """A Frame carrying the draft routing_id / group (pyzmq raises without draft)."""
        if not isinstance(data, _Frame):
            data = _Frame(data, track=track, copy=copy or None, copy_threshold=self.copy_threshold)
        if routing_id is not None:
            data.routing_id = routing_id
        if group is not None:
            data.group = group
        return data

    def _held(self, data: Any, copy: bool, track: bool, snapshot: bool) -> tuple[Any, Any]:
        """A frame that can be sent later, and what pyzmq's send would return for it.

        ``snapshot`` copies a mutable buffer now (copy=True means the caller
        may reuse it as soon as send returns).
        """
        if isinstance(data, _Frame):
            if track and not data.tracker:
                raise ValueError("Not a tracked message")
            return data, data.tracker
        if isinstance(data, str):
            raise TypeError("unicode not allowed, use send_string")
        if copy:
            if snapshot and type(data) is not bytes:
                data = memoryview(data).tobytes()
            else:
                memoryview(data)  # a clear TypeError for what has no buffer
            return data, None
        frame = _Frame(data, track=track, copy_threshold=self.copy_threshold)
        return frame, frame.tracker

    def _send_frame(self, state: State, data: Any, flags: int, copy: bool, track: bool) -> Any:
        """Frame-by-frame sending: hold SNDMORE frames, send the message on its last."""
        current = getcurrent()
        pending = state.sstash.get(current)
        frame, tracker = self._held(data, copy, track, snapshot=True)
        if flags & _SNDMORE:
            if pending is None:
                if self._closed:
                    raise _ZMQError(zmq.ENOTSOCK)
                if flags & _DONTWAIT and not self._writable_now(state):
                    raise _Again()
                pending = []
                _remember(state.sstash, pending)
            pending.append(frame)
            return tracker
        if pending is None:
            pending = []
        else:
            del state.sstash[current]
        pending.append(frame)
        return self._send_message(state, pending, flags)

    def _writable_now(self, state: State) -> bool:
        """Whether a message could be sent now (for NOBLOCK on a first SNDMORE frame)."""
        waiting = state.waiting
        if waiting.writers:
            return False
        try:
            return bool(waiting.events() & zmq.POLLOUT)
        finally:
            if waiting.readers and waiting.owner == _get_ident():
                waiting.refresh()

    def _send_message(self, state: State, frames: list[Any], flags: int) -> Any:
        """Send prepared frames as one message: try now, else wait in the queue."""
        waiting = state.waiting
        if not waiting.writers and waiting.streak < _LIMIT:
            try:
                if len(frames) == 1:
                    result = _send(self, frames[0], _DONTWAIT | flags)
                else:
                    _send(self, frames[0], _DONTWAIT | _SNDMORE)
                    result = _send_rest(self, frames, flags)
            except _Again:
                if flags & _DONTWAIT:
                    if waiting.readers:
                        waiting.refresh()
                    raise
            except _ZMQError:
                if waiting.readers:
                    waiting.refresh()
                raise
            else:
                waiting.streak += 1
                if waiting.readers:
                    waiting.refresh()
                return result
        return self._send_waiting(state, frames, flags)

    def _send_waiting(self, state: State, frames: list[Any], flags: int) -> Any:
        """The slow path: queue behind other senders and wait for room (or time out)."""
        waiting = waiting_here(state)
        timeout = 0 if flags & _DONTWAIT else None
        return waiting.wait_send(frames, 0, timeout)

    # -- receiving -----------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one frame, blocking only this greenlet (``flags=NOBLOCK``: never).

        As pyzmq's ``recv``.  The first frame of a multipart message brings
        the whole message out of libzmq; the next ``recv()`` calls of the same
        greenlet return its other frames, and RCVMORE says whether any are left.
        """
        state = self._g
        if state.rstash:
            rest = state.rstash.get(getcurrent())
            if rest:
                return self._pop_held(state, rest, copy)
        waiting = state.waiting
        if copy is True and _gate_recv is not None:
            message = _gate_recv(waiting)
            if message.__class__ is list:
                if len(message) > 1:
                    _remember(state.rstash, message[1:])
                return message[0]
            # None (it may not run now) or -errno: the path below tries, and raises.
        if not waiting.readers and waiting.streak < _LIMIT:
            frame: Any
            more: Any
            try:
                if copy:
                    frame = _recv(self, _DONTWAIT)
                    more = _getint(state.handle, _RCVMORE)
                    if more < 0:
                        more = _get(self, _RCVMORE)
                else:
                    frame = _recv(self, _DONTWAIT, False, track)
                    more = frame.more
            except _Again:
                if flags & _DONTWAIT:
                    if waiting.writers:
                        waiting.refresh()
                    raise
            except _ZMQError:
                if waiting.writers:
                    waiting.refresh()
                raise
            else:
                if more:
                    self._hold_rest(state, copy)
                waiting.streak += 1
                if waiting.writers:
                    waiting.refresh()
                return frame
        message = waiting_here(state).wait_recv(0 if flags & _DONTWAIT else None, copy)
        if len(message) > 1:
            _remember(state.rstash, message[1:])
        return message[0]

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        """Receive a whole multipart message, blocking only this greenlet."""
        state = self._g
        if track or (state.rstash and state.rstash.get(getcurrent())):
            # Finish a message started frame by frame (or track each frame).
            return super().recv_multipart(flags, copy, track)
        waiting = state.waiting
        if not waiting.readers and waiting.streak < _LIMIT and not waiting.closed:
            try:
                message = waiting.recv_now(copy)
            except _Again:
                if flags & _DONTWAIT:
                    if waiting.writers:
                        waiting.refresh()
                    raise
            except _ZMQError:
                if waiting.writers:
                    waiting.refresh()
                raise
            else:
                waiting.streak += 1
                if waiting.writers:
                    waiting.refresh()
                return message
        return waiting_here(state).wait_recv(0 if flags & _DONTWAIT else None, copy)

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive one frame into ``buffer``, blocking only this greenlet.

        Returns the frame's full size, which may exceed what fitted (truncated).
        """
        state = self._g
        rest = state.rstash.get(getcurrent()) if state.rstash else None
        if not rest:
            waiting = state.waiting
            if not waiting.readers and waiting.streak < _LIMIT:
                try:
                    size = _recv_into(self, buffer, nbytes=nbytes, flags=flags | _DONTWAIT)
                except _Again:
                    if flags & _DONTWAIT:
                        if waiting.writers:
                            waiting.refresh()
                        raise
                except _ZMQError:
                    if waiting.writers:
                        waiting.refresh()
                    raise
                else:
                    if _more(self, state.handle):
                        self._hold_rest(state, True)
                    waiting.streak += 1
                    if waiting.writers:
                        waiting.refresh()
                    return int(size)
            data = self.recv(flags)
        else:
            data = self._pop_held(state, rest, True)
        view = memoryview(buffer).cast("B")
        room = len(view) if nbytes <= 0 else min(nbytes, len(view))
        count = min(room, len(data))
        view[:count] = data[:count]
        return len(data)

    def _hold_rest(self, state: State, copy: bool) -> None:
        """Take the rest of the message just started, for the current greenlet."""
        rest: list[Any] = []
        if copy:
            handle = state.handle
            while True:
                rest.append(_recv(self, _DONTWAIT))
                if not _more(self, handle):
                    break
        else:
            while True:
                frame = _recv(self, _DONTWAIT, False)
                rest.append(frame)
                if not frame.more:
                    break
        _remember(state.rstash, rest)

    def _pop_held(self, state: State, rest: list[Any], copy: bool) -> Any:
        """The next held frame of the current greenlet's message."""
        frame = rest.pop(0)
        if not rest:
            del state.rstash[getcurrent()]
        if copy:
            return frame.bytes if isinstance(frame, _Frame) else frame
        if not isinstance(frame, _Frame):
            frame = _Frame(frame)
            frame.more = bool(rest)
        return frame


class Context(_OriginalContext[_GreenSocket_co]):
    """A :class:`zmq.Context` whose sockets are green :class:`Socket` objects.

    ``Context.instance()`` is separate from pyzmq's.  ``term()`` runs in
    gevent's threadpool when called from a greenlet, so lingering messages
    or sockets still open in other greenlets never block the hub (those
    greenlets get ContextTerminated and can close their sockets).
    """

    _socket_class = Socket  # type: ignore[assignment]  # as pyzmq's (a TypeVar's default)
    _repr_cls = "gzmq.green.Context"
    # Not shared with pyzmq's Context.instance().
    _instance = None
    _instance_pid = None
    _gzmq_direct_term = False

    if TYPE_CHECKING:
        # pyzmq's constructor, typed for this class: ``Context()`` makes green sockets.
        def __init__(
            self: Context[Socket[bytes]],
            io_threads: int | _OriginalContext[Any] = 1,
            shadow: _OriginalContext[Any] | int = 0,
        ) -> None: ...

    def term(self) -> None:
        """Terminate the context, blocking only the calling greenlet."""
        hub = get_hub_if_exists()
        if hub is None or getcurrent() is hub or self._gzmq_direct_term:
            super().term()
            return
        hub.threadpool.apply(super().term)

    def __del__(self) -> None:
        # Garbage collection may run anywhere (even in the hub): no switching.
        self.__dict__["_gzmq_direct_term"] = True
        super().__del__()
