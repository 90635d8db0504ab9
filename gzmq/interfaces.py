"""zope.interface contracts: the interface docstrings are the specification.

Small interfaces composed by inheritance.  Options appear only as readable
``Attribute`` objects (a write-only option cannot be read, so verifyObject would
fail on it).
"""

# ruff: noqa: N805 - zope.interface methods are declared without self
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from zope.interface import Attribute, Interface

__all__ = ["IContext", "IObserver", "IProxy", "IReadable", "ISocket", "IWritable"]


class ISocket(Interface):
    """A ZeroMQ socket: lifecycle, endpoints, events, common options.

    A socket belongs to the thread that made it; any other thread gets
    InvalidThreadUseError.  Every call on a closed socket raises
    SocketClosedError.
    """

    closed = Attribute("Whether the socket is closed (bool).")
    readable = Attribute(
        "Whether a message can be received right now, without waiting (bool, live): "
        "ZMQ_EVENTS and messages gzmq holds count; False when closed or when the class "
        "cannot receive.  Reading it consumes nothing and loses no wake-up."
    )
    writable = Attribute(
        "Whether a message can be queued right now, without waiting (bool, live); "
        "False when closed or when the class cannot send.  Reading it consumes nothing "
        "and loses no wake-up."
    )
    context = Attribute("The gzmq.Context the socket was made on.")
    events = Attribute("The socket's Observer, created on first access.")
    endpoints = Attribute("The endpoints bound or connected now (tuple of str).")
    type = Attribute("ZMQ_TYPE: the libzmq socket type number (read-only).")
    security = Attribute("ZMQ_MECHANISM: None, 'plain', 'curve' or 'gssapi' (read-only).")
    last_endpoint = Attribute("ZMQ_LAST_ENDPOINT: the last endpoint bound or connected.")
    thread_safe = Attribute("ZMQ_THREAD_SAFE: whether libzmq lets threads share it.")
    linger = Attribute("ZMQ_LINGER: ms close() keeps unsent messages.")

    def bind(endpoint: str) -> None:
        """Bind to ``endpoint``; errors name it (``.address``). Never blocks the hub."""

    def unbind(endpoint: str) -> None:
        """Stop listening on ``endpoint``."""

    def connect(endpoint: str) -> None:
        """Connect to ``endpoint``; libzmq connects and reconnects in the background."""

    def disconnect(endpoint: str) -> None:
        """Disconnect from ``endpoint``."""

    def close(linger: int | None = None) -> None:
        """Close; wake every waiter with SocketClosedError; idempotent."""

    def __enter__() -> Any:
        """Return the socket itself."""

    def __exit__(*exc_info: object) -> None:
        """Close the socket."""


class IReadable(Interface):
    """Receives messages, cooperatively."""

    readable = Attribute(
        "Whether the next recv() returns a message at once (live readiness, as zeromq.js; "
        "False when closed).  Whether a class can receive at all: IReadable.implementedBy, "
        "or hasattr(sock, 'recv')."
    )
    receive_buffer_size = Attribute("ZMQ_RCVBUF: kernel receive buffer size.")
    receive_high_water_mark = Attribute("ZMQ_RCVHWM: the most inbound messages queued.")
    receive_timeout = Attribute("ZMQ_RCVTIMEO: ms recv() waits (-1 forever, 0 once).")

    def recv(*, timeout: float | None = None, copy: bool = True) -> list[Any]:
        """Receive one whole message as a list of frames.

        Blocks only the calling greenlet.  Many greenlets may wait at once:
        first come, first served, one whole message each.  ``timeout``
        (seconds) overrides receive_timeout and raises zmq.Again on expiry,
        consuming nothing.  SocketClosedError when the socket is (or gets)
        closed.
        """

    def __iter__() -> Iterator[list[Any]]:
        """Yield messages until the socket is closed, then end."""

    def recv_string(*, encoding: str = "utf-8", timeout: float | None = None) -> str:
        """Receive a one-frame message as text; waits as recv().

        A multipart message, or one that does not decode, raises
        UnexpectedMessageError carrying every frame (nothing is lost).
        """

    def recv_json(*, timeout: float | None = None, **loads: Any) -> Any:
        """Receive a one-frame message of JSON and return the value; waits as recv().

        A multipart message, or one that is not JSON, raises
        UnexpectedMessageError carrying every frame.
        """


class IWritable(Interface):
    """Sends messages, cooperatively."""

    writable = Attribute(
        "Whether the next send() queues its message at once (live readiness, as zeromq.js; "
        "False when closed).  Whether a class can send at all: IWritable.implementedBy, "
        "or hasattr(sock, 'send')."
    )
    send_buffer_size = Attribute("ZMQ_SNDBUF: kernel send buffer size.")
    send_high_water_mark = Attribute("ZMQ_SNDHWM: the most outbound messages queued.")
    send_timeout = Attribute("ZMQ_SNDTIMEO: ms send() waits (-1 forever, 0 once).")

    def send(message: Any, *, timeout: float | None = None) -> None:
        """Send one message (a frame, or a list/tuple of frames).

        Bad frame types raise TypeError before anything is sent.  Waits only
        before the first frame; a multipart message goes whole or not at all.
        ``timeout`` (seconds) overrides send_timeout and raises zmq.Again on
        expiry, having sent nothing.  SocketClosedError when closed.
        """

    def send_string(text: str, *, encoding: str = "utf-8", timeout: float | None = None) -> None:
        """Send ``text`` encoded as one frame; waits as send(). Not a str: TypeError."""

    def send_json(obj: Any, *, timeout: float | None = None, **dumps: Any) -> None:
        """Send ``obj`` as one frame of UTF-8 JSON; waits as send()."""


class IObserver(Interface):
    """The libzmq events of one socket, delivered to greenlets.

    Two exclusive modes: pull (recv, iteration) and push (on/off); mixing
    them raises ObserverModeError.
    """

    closed = Attribute("Whether the observer is closed.")

    def recv(*, timeout: float | None = None) -> Any:
        """The next Event; blocks only the calling greenlet."""

    def __iter__() -> Iterator[Any]:
        """Yield events until the observer or its socket is closed."""

    def on(type: str, callback: Callable[[Any], None]) -> None:
        """Call ``callback(event)`` for every event of ``type`` (push mode)."""

    def off(type: str, callback: Callable[[Any], None]) -> None:
        """Stop calling ``callback`` for ``type``."""

    def wait_for(type: str, *, timeout: float | None = None) -> Any:
        """Block until the first event of ``type`` and return it."""

    def close() -> None:
        """Stop observing; a pending recv() ends cleanly."""


class IProxy(Interface):
    """Forwards messages between two sockets at libzmq speed, off the hub."""

    front_end = Attribute("The front-end socket.")
    back_end = Attribute("The back-end socket.")

    def run() -> None:
        """Forward until terminate(); blocks only the calling greenlet."""

    def pause() -> None:
        """Hold messages until resume()."""

    def resume() -> None:
        """Forward again after pause()."""

    def terminate() -> None:
        """End run(); both sockets are then closed."""

    def statistics() -> Any:
        """Messages and bytes in and out per side."""


class IContext(Interface):
    """A ZeroMQ context."""

    closed = Attribute("Whether close() was called.")
    io_threads = Attribute("ZMQ_IO_THREADS: size of libzmq's I/O thread pool.")
    max_sockets = Attribute("ZMQ_MAX_SOCKETS: the most sockets allowed.")
    max_sockets_limit = Attribute("ZMQ_SOCKET_LIMIT: the largest max_sockets allowed.")
    max_message_size = Attribute("ZMQ_MAX_MSGSZ: the largest message allowed.")
    ipv6 = Attribute("ZMQ_IPV6: whether new sockets use IPv6.")
    blocky = Attribute("ZMQ_BLOCKY: whether new sockets linger forever by default.")

    def close(linger: int | None = None) -> None:
        """Close every socket, then terminate off the hub thread; idempotent."""

    def __enter__() -> Any:
        """Return the context itself."""

    def __exit__(*exc_info: object) -> None:
        """Close the context."""
