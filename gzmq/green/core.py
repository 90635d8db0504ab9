"""The green ``Socket`` and ``Context``: pyzmq's classes on gzmq's cooperative core.

:class:`Socket` is a :class:`zmq.Socket` subclass whose blocking calls
block only the calling greenlet.  Every libzmq call is made with DONTWAIT;
one that can complete now completes now, without a switch to the hub; one
that gets EAGAIN waits in the socket's :class:`~gzmq._waiting.Waiting`
(FIFO, any number of greenlets, RCVTIMEO/SNDTIMEO honoured, woken by
``close()``).

Frame-by-frame use (``send(a, SNDMORE); send(b)``, ``recv()`` then
``RCVMORE``) never interleaves messages of different greenlets: a send waits
at its first frame, as libzmq's does, then keeps the head of the send queue
and the frames until its last one, and sends them as one message; a
``recv()`` that gets a first frame with more to come keeps the head of the
receive queue, the rest staying in libzmq for that greenlet, ``RCVMORE``
answering for it (see gzmq._reservations).  So a message is never half-sent
and never split between greenlets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import zmq
from gevent._hub_local import get_hub_if_exists
from greenlet import getcurrent
from zmq.backend import Socket as _BackendSocket

from gzmq import _native, _thread
from gzmq._ownership import LENT
from gzmq.green._state import State, state_for
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

_Again = zmq.Again
_Frame = zmq.Frame
_get = _BackendSocket.get
_set = _BackendSocket.set
_get_ident = _thread.get_ident

_OriginalSocket = zmq.Socket
_OriginalContext = zmq.Context

# Generic as pyzmq's classes are (``zmq.Context[zmq.Socket[bytes]]`` is evaluated
# at import by user code, and by libraries subclassing ``zmq.Context`` after
# gzmq.monkey.patch()): what recv() returns, and the context's socket class.
_Received_co = TypeVar("_Received_co", covariant=True)
_GreenSocket_co = TypeVar("_GreenSocket_co", bound="Socket[Any]", covariant=True)


class Socket(_OriginalSocket[_Received_co]):
    """A :class:`zmq.Socket` whose blocking calls block only the calling greenlet.

    Same constructor as pyzmq's (``Socket(ctx, zmq.REQ)``, ``Socket(shadow=...)``,
    ``Socket.shadow(address)``); usually made by ``Context.socket()``.  Many
    greenlets may wait on one socket (first come, first served);
    RCVTIMEO/SNDTIMEO raise zmq.Again; ``close()`` wakes every waiter with
    :class:`gzmq.SocketClosedError`.  ``flags=zmq.NOBLOCK`` never waits.
    Every send and receive goes through the socket's cooperative core
    (``waiting.send`` / ``waiting.recv``, gzmq._fastpath).
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
        """Close the socket; every greenlet waiting on it gets SocketClosedError.

        From a thread that does not own the socket while greenlets wait on it,
        the owning thread's hub closes it the next time it runs.
        """
        state: State | None = self.__dict__.get("_g")
        if state is None:
            super().close(linger)
            return
        waiting = state.waiting
        if waiting.closed:
            # Closed through another green object on the same libzmq socket.
            if self.context:
                self.context._rm_socket(self)
            self._closed = True
            return
        if waiting.owner == LENT:
            waiting.wrong_owner()  # in use by a running proxy: raises
        if waiting.owned_elsewhere():
            if waiting.readers or waiting.writers:
                waiting.call_in_owner(self.close, linger)
                return
            waiting.adopt()  # idle: pyzmq lets any thread close it
        state.mark_closed()
        state.sstash.clear()
        waiting.close(lambda: _OriginalSocket.close(self, linger))

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
        if state is not None and state.waiting.owner == LENT:
            state.waiting.wrong_owner()

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
        self._check_free()
        try:
            _set(self, option, optval)
        finally:
            self._after_call()
        state: State | None = self.__dict__.get("_g")
        if state is not None:
            if option == _RCVTIMEO:
                state.waiting.receive_timeout = int(optval)
            elif option == _SNDTIMEO:
                state.waiting.send_timeout = int(optval)

    setsockopt = set

    def get(self, option: int) -> Any:
        """Get a socket option.

        EVENTS is the core's readiness: reading it loses no wake-up of a
        parked greenlet.  RCVMORE answers for the calling greenlet's own
        message (1 while it reads one frame by frame and more frames are its):
        libzmq's answers for the socket's last frame, which may be another
        greenlet's, received for it by the hand-off.
        """
        state: State | None = self.__dict__.get("_g")
        if state is None:
            return _get(self, option)
        if option == _EVENTS:
            waiting = state.waiting
            if waiting.owner != _get_ident():
                waiting.wrong_owner()  # closed, lent, forked, or another thread's (adopts if idle)
            return waiting.readiness()
        self._check_free()
        if option == _RCVMORE and not state.waiting.closed:
            return int(state.waiting.reading())
        return _get(self, option)

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
        kept on every path.  A message sent frame by frame (SNDMORE) waits, as
        with libzmq, at its first frame until the socket can take it; its
        frames are held and go out whole with the last one.
        """
        if routing_id is not None or group is not None:
            data = self._addressed(data, copy, track, routing_id, group)
        state = self._g
        if flags & _SNDMORE or state.sstash:
            return self._send_frame(state, data, flags, copy, track)
        timeout = 0 if flags & _DONTWAIT else None
        if data.__class__ is bytes and not track:
            state.waiting.send(data, timeout)
            return None
        frame, tracker = self._held(data, copy, track, snapshot=False)
        state.waiting.send((frame,), timeout)
        return tracker

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
        if flags & _SNDMORE or state.sstash.get(getcurrent()):
            # Continue (or leave open) a message this greenlet sends frame by frame.
            result = None
            last = len(msg_parts) - 1
            for index, part in enumerate(msg_parts):
                more = _SNDMORE if index < last else 0
                result = self._send_frame(state, part, (flags & ~_SNDMORE) | more, copy, track)
            return result
        if copy:
            frames = list(msg_parts)
            tracker = None
        else:
            threshold = self.copy_threshold
            frames = [
                part
                if isinstance(part, _Frame)
                else _Frame(part, track=track, copy_threshold=threshold)
                for part in msg_parts
            ]
            tracker = frames[-1].tracker if track else None
        state.waiting.send(frames, 0 if flags & _DONTWAIT else None)
        return tracker

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
        """Frame-by-frame sending: wait at the first frame, send the message whole at the last.

        The first SNDMORE frame waits until the socket can take a message and
        keeps the head of the send queue for this greenlet (so nobody else
        fills the queue meanwhile); the frames are held; the last one sends
        them whole.  If that last send raises zmq.Again (NOBLOCK, a timeout),
        the earlier frames stay held for the retry of the last one.
        """
        current = getcurrent()
        stash = state.sstash
        frame, tracker = self._held(data, copy, track, snapshot=True)
        waiting = state.waiting
        timeout = 0 if flags & _DONTWAIT else None
        pending = stash.get(current)
        if pending is None:
            if not flags & _SNDMORE:
                # One frame, while other greenlets have messages open.
                waiting.send((frame,), timeout)
                return tracker
            if stash:
                for glet in [glet for glet in stash if glet.dead]:
                    del stash[glet]  # died mid-message: its frames never reached libzmq
            reservation = waiting.reserve_send(timeout)
            stash[current] = (reservation, [frame])
            return tracker
        reservation, frames = pending
        frames.append(frame)
        if flags & _SNDMORE:
            return tracker
        try:
            waiting.send_reserved(reservation, frames, timeout)
        except _Again:
            frames.pop()  # the earlier frames stay held for the retry of this one
            raise
        except BaseException:
            del stash[current]
            raise
        del stash[current]
        return tracker

    # -- receiving -----------------------------------------------------------------

    def recv(self, flags: int = 0, copy: bool = True, track: bool = False) -> Any:
        """Receive one frame, blocking only this greenlet (``flags=NOBLOCK``: never).

        As pyzmq's ``recv``.  The first frame of a multipart message waits as
        a whole message would; the greenlet then keeps the socket's receive
        queue until it has read the last frame (RCVMORE 0), so other
        greenlets' frames never interleave with its own.
        """
        return self._g.waiting.recv_part(0 if flags & _DONTWAIT else None, copy)

    def recv_multipart(self, flags: int = 0, copy: bool = True, track: bool = False) -> list[Any]:
        """Receive a whole multipart message, blocking only this greenlet.

        After recv() of the first frames of a message, the rest of it.
        """
        waiting = self._g.waiting
        timeout = 0 if flags & _DONTWAIT else None
        if waiting.reading():
            frames = []
            while waiting.reading():
                frames.append(waiting.recv_part(timeout, copy))
            return frames
        return waiting.recv(timeout, copy)

    def recv_into(self, buffer: Any, /, *, nbytes: int = 0, flags: int = 0) -> int:
        """Receive one frame into ``buffer``, blocking only this greenlet.

        Returns the frame's full size, which may exceed what fitted (truncated).
        The buffer is checked before anything is received, as pyzmq does.
        """
        if nbytes < 0:
            raise ValueError(f"{nbytes=} must be non-negative")
        view = memoryview(buffer)  # TypeError for what has no buffer
        if view.readonly:
            raise BufferError("recv_into needs a writable buffer, got a read-only one")
        if not view.c_contiguous:
            raise BufferError("recv_into needs a contiguous buffer")
        view = view.cast("B")
        if nbytes > len(view):
            raise ValueError(f"{nbytes=} too big for memoryview of {len(view)}B")
        data = self.recv(flags)
        room = nbytes or len(view)
        count = min(room, len(data))
        view[:count] = data[:count]
        return len(data)

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


if _native.Method is not None:
    # recv() and send() of one bytes frame call the socket's Gate from C, with
    # no Python frame (what the Python methods above do first, and all they do
    # for such a call); anything else goes through the Python methods.
    Socket.recv = _native.Method(Socket.recv, "green_recv")  # type: ignore[method-assign]
    Socket.send = _native.Method(Socket.send, "green_send")  # type: ignore[method-assign]
