"""One socket of a scenario, typed (gzmq.Push, ...) or green (gzmq.green), behind one small API.

:class:`Wire` sends and receives in the forms the plan names (see
plan.SEND_FORMS / plan.RECV_FORMS), always through the public API, and
hands received messages back as lists of bytes.  Errors are the library's
own: zmq.Again, zmq.ZMQError, gzmq.SocketClosedError.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import zmq
from greenlet import getcurrent

import gzmq
import gzmq.green

__all__ = ["Contexts", "Wire", "endpoint"]

_TYPED = {
    "PUSH": gzmq.Push, "PULL": gzmq.Pull, "DEALER": gzmq.Dealer, "ROUTER": gzmq.Router,
    "PAIR": gzmq.Pair, "REQ": gzmq.Request, "REP": gzmq.Reply,
}
_names = itertools.count()


class Contexts:
    """The typed and the green context of one scenario (closed together)."""

    def __init__(self) -> None:
        self.typed = gzmq.Context()
        self.green = gzmq.green.Context()

    def close(self) -> None:
        """Close every socket (linger 0) and terminate both contexts."""
        self.typed.close(linger=0)
        self.green.destroy(linger=0)


def endpoint(transport: str, directory: str, name: str) -> str:
    """A bind endpoint of ``transport`` (tcp picks its port; read it back from the socket)."""
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    if transport == "ipc":
        return f"ipc://{directory}/{name}-{next(_names)}.ipc"
    return f"inproc://{name}-{os.getpid()}-{next(_names)}"


class Wire:
    """A typed or green socket with the scenario's send and receive forms."""

    def __init__(self, contexts: Contexts, layer: str, kind: str, hwm: int, **options: Any) -> None:
        self.layer = layer
        self.kind = kind
        self._iterators: dict[Any, Iterator[list[Any]]] = {}
        if layer == "typed":
            cls = _TYPED[kind]
            for name in ("send_high_water_mark", "receive_high_water_mark"):
                if hasattr(cls, name):  # the class's own options (Pull has no send side)
                    options[name] = hwm
            self.socket: Any = cls(context=contexts.typed, linger=0, **options)
        else:
            sock = contexts.green.socket(getattr(zmq, kind))
            sock.linger = 0
            sock.sndhwm = hwm
            sock.rcvhwm = hwm
            for name, value in options.items():
                setattr(sock, _GREEN_OPTIONS.get(name, name), value)
            self.socket = sock

    # -- lifecycle --------------------------------------------------------------

    def bind(self, address: str) -> str:
        """Bind; the endpoint peers connect to."""
        self.socket.bind(address)
        if self.layer == "typed":
            return str(self.socket.last_endpoint)
        return str(self.socket.last_endpoint.decode())

    def connect(self, address: str) -> None:
        """Connect to a bound endpoint."""
        self.socket.connect(address)

    def close(self) -> None:
        """Close with linger 0 (what was queued is dropped)."""
        self.socket.close(linger=0)

    def set_timeouts(self, milliseconds: int) -> None:
        """The socket's receive and send timeout options (the rcvtimeo/sndtimeo forms)."""
        if self.layer == "typed":
            for name in ("receive_timeout", "send_timeout"):
                if hasattr(type(self.socket), name):
                    setattr(self.socket, name, milliseconds)
        else:
            self.socket.rcvtimeo = milliseconds
            self.socket.sndtimeo = milliseconds

    # -- sending ------------------------------------------------------------------

    def send(self, frames: list[bytes], form: str, timeout: float | None = None) -> None:
        """Send ``frames`` as one message in ``form`` (``timeout``: the timeout forms' value)."""
        sock = self.socket
        if self.layer == "green":
            if form == "noblock":
                sock.send_multipart(frames, zmq.NOBLOCK)
            elif form == "frames":
                for frame in frames[:-1]:
                    sock.send(frame, zmq.SNDMORE)
                sock.send(frames[-1])
            else:  # multipart, sndtimeo (the option does the timing)
                sock.send_multipart(frames)
            return
        message: Any
        if form == "bytes" and len(frames) == 1:
            message = frames[0]
        elif form == "tuple":
            message = tuple(frames)
        elif form == "str":
            text = [frame.decode("ascii") for frame in frames]
            message = text[0] if len(text) == 1 else text
        elif form == "bytearray":
            message = [bytearray(frame) for frame in frames]
        elif form == "memoryview":
            message = [memoryview(frame) for frame in frames]
        elif form == "mixed":
            kinds = (bytes, bytearray, memoryview, lambda frame: frame.decode("ascii"))
            message = [kinds[index % 4](frame) for index, frame in enumerate(frames)]
        else:
            message = list(frames)
        if form in ("timeout", "short", "once"):
            sock.send(message, timeout=timeout)
        else:
            sock.send(message)

    # -- receiving ----------------------------------------------------------------

    def recv(self, form: str, timeout: float | None = None) -> list[bytes]:
        """Receive one message in ``form``, as bytes frames.

        Raises StopIteration when the "iter" form's iteration ended (the
        socket was closed).
        """
        sock = self.socket
        if self.layer == "green":
            if form == "noblock":
                return list(sock.recv_multipart(zmq.NOBLOCK))
            if form == "nocopy":
                return [frame.bytes for frame in sock.recv_multipart(copy=False)]
            if form == "frames":
                frames = [sock.recv()]
                while sock.rcvmore:
                    frames.append(sock.recv())
                return frames
            return list(sock.recv_multipart())
        if form == "iter":
            current = getcurrent()  # each greenlet iterates the socket itself
            iterator = self._iterators.get(current)
            if iterator is None:
                iterator = self._iterators[current] = iter(sock)
            try:
                return list(next(iterator))
            except StopIteration:
                raise
            except BaseException:
                # An exception thrown into the generator (a kill, a Timeout) ended it.
                del self._iterators[current]
                raise
        if form == "nocopy":
            return [_as_bytes(frame) for frame in sock.recv(copy=False)]
        if form in ("timeout", "short", "once"):
            return list(sock.recv(timeout=timeout))
        return list(sock.recv())


#: gzmq.green's (pyzmq's) names for the typed options the scenarios set.
_GREEN_OPTIONS = {"mandatory": "router_mandatory", "routing_id": "identity"}


def _as_bytes(frame: Any) -> bytes:
    """A received frame (bytes, zmq.Frame or memoryview) as bytes."""
    if isinstance(frame, bytes):
        return frame
    if isinstance(frame, zmq.Frame):
        return frame.bytes
    return bytes(frame)
