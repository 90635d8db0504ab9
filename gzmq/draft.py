"""The draft socket classes: Server, Client, Radio, Dish, Gather, Scatter,
Datagram, Peer and Channel.

They need libzmq built with the draft API and pyzmq built against it with
``ZMQ_DRAFT_API=1``; elsewhere constructing one raises NotSupportedError
saying how to get such a build (``.ci/build-draft`` in a gzmq checkout, or
``tox -e draft``).  :func:`unsupported_reason` tells why without raising.

Shapes (zeromq.js v6's ``zeromq/draft``):

* ``Server.recv() -> (message, routing_id)`` and
  ``Server.send(message, routing_id=...)``; routing ids are libzmq's
  non-zero 32-bit ints.  ``Peer`` is the same, and its ``connect()``
  returns the routing id of the peer it connects to.
* ``Client``, ``Channel``: send/recv like a Dealer / a Pair.
* ``Radio.send(message, group=...)``; ``Dish.join(*groups)``,
  ``Dish.leave(*groups)``, ``Dish.recv() -> (message, group)``.  A group
  is str or bytes: at most 255 bytes of UTF-8, no NUL; it is received as
  bytes.
* ``Gather`` / ``Scatter``: like Pull / Push.
* ``Datagram``: udp only; messages are ``[address, payload]``, the address
  as ``b"host:port"`` (received from, or to send to).

Messages are single-part: libzmq refuses multipart messages on these types,
so a list or tuple of more than one frame raises ValueError before anything
is sent (a one-frame list is accepted).  Only Datagram's two frames are a
message of two parts.

The cooperative rules are those of every gzmq socket: many
waiters are served first come, first served, timeouts raise zmq.Again,
close() wakes waiters with SocketClosedError, the hub never blocks.  libzmq
makes these types (all but Datagram) thread-safe, but a gzmq socket still
belongs to the thread that made it.  Thread-safe sockets have no ZMQ_FD:
the core waits on the fd of a zmq_poller that pyzmq makes for the socket
(see gzmq._waiting).
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Iterator
from typing import Any, ClassVar

import zmq
from zmq import SocketOption as Z
from zope.interface import implementer

from gzmq._context import Context
from gzmq._readiness import POLLIN, POLLOUT, ready
from gzmq._socket_options import ReadableOptions, WritableOptions
from gzmq.errors import NotSupportedError, SocketClosedError
from gzmq.interfaces import IReadable, ISocket, IWritable
from gzmq.options import WRITE, Bool, Option
from gzmq.socket import Message, Readable, Socket, Writable, frames_of

__all__ = [
    "HOW_TO_GET_DRAFT",
    "Channel",
    "Client",
    "Datagram",
    "Dish",
    "Gather",
    "Peer",
    "Radio",
    "Scatter",
    "Server",
    "unsupported_reason",
]

#: How to get a libzmq and a pyzmq with the draft API (in NotSupportedError's message).
HOW_TO_GET_DRAFT = (
    "to get a draft build, run .ci/build-draft in a gzmq checkout (it builds libzmq with "
    "-DENABLE_DRAFTS=ON from Debian's zeromq3 source package and pyzmq from its sdist "
    "with ZMQ_PREFIX=... ZMQ_DRAFT_API=1 pip install --no-binary pyzmq pyzmq, into "
    ".draft/venv) and use .draft/venv/bin/python, or run tox -e draft"
)

#: The core waits on pyzmq's zmq_poller stand-in for ZMQ_FD: pyzmq 27, libzmq 4.3.2.
_MIN_LIBZMQ = (4, 3, 2)
_GROUP_MAX = 255  # ZMQ_GROUP_MAX_LENGTH
_ROUTING_ID_MAX = 2**32 - 1

_ZMQError = zmq.ZMQError


def _version(numbers: tuple[int, ...]) -> str:
    return ".".join(map(str, numbers))


def unsupported_reason(cls: type | None = None) -> str | None:
    """Why the draft socket class ``cls`` (default: any) cannot be used here; None if it can."""
    if not zmq.has("draft"):
        return f"the linked libzmq {zmq.zmq_version()} was built without the draft API"
    if not zmq.DRAFT_API:
        return (
            f"pyzmq {zmq.__version__} was built without the draft API "
            "(ZMQ_DRAFT_API=1), though libzmq has it"
        )
    if getattr(zmq.error, "DraftFDWarning", None) is None or zmq.zmq_version_info() < _MIN_LIBZMQ:
        return (
            "gzmq waits on draft sockets through pyzmq's zmq_poller fd, which needs pyzmq 27 "
            f"and libzmq {_version(_MIN_LIBZMQ)} or newer (here pyzmq {zmq.__version__}, "
            f"libzmq {zmq.zmq_version()})"
        )
    since: tuple[int, int, int] | None = getattr(cls, "_since", None)
    if since is not None and zmq.zmq_version_info() < since:
        name = getattr(cls, "__name__", "this class")
        return f"{name} needs libzmq {_version(since)} or newer, this is {zmq.zmq_version()}"
    return None


# -- checking what is sent ----------------------------------------------------------------


def _single(owner: object, message: Any) -> Any:
    """The one frame of a draft message (a frame, or a list/tuple of exactly one)."""
    if isinstance(message, (list, tuple)) and len(message) != 1:
        if not message:
            raise ValueError("a message needs a frame; send b'' for an empty one")
        raise ValueError(
            f"{type(owner).__name__} messages are single-part: libzmq's draft sockets do not "
            f"allow multipart messages, got {len(message)} frames"
        )
    return frames_of(message)[0]


def _routing_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"routing_id must be an int (the routing id received with a message), "
            f"got {type(value).__name__}: {value!r:.80}"
        )
    if not 1 <= value <= _ROUTING_ID_MAX:
        raise ValueError(f"routing_id must be between 1 and {_ROUTING_ID_MAX}, got {value}")
    return value


def _group(value: Any) -> bytes:
    """A RADIO/DISH group as libzmq takes it: 0 to 255 bytes of UTF-8 without NUL."""
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(
                f"a group must be UTF-8 (pyzmq decodes it), got {data!r:.80}"
            ) from None
    else:
        raise TypeError(f"a group must be str or bytes, got {type(value).__name__}: {value!r:.80}")
    if len(data) > _GROUP_MAX:
        raise ValueError(f"a group is at most {_GROUP_MAX} bytes, got {len(data)}")
    if b"\0" in data:
        raise ValueError(f"a group cannot contain NUL bytes, got {data!r:.80}")
    return data


def _check_udp_port(endpoint: Any) -> None:
    """libzmq binds udp://host:* and :0 but never reports the port: refuse them."""
    if isinstance(endpoint, str) and endpoint.startswith("udp://"):
        port = endpoint.rsplit(":", 1)[-1]
        if port in ("*", "0"):
            error = zmq.ZMQError(
                errno.EINVAL,
                f"bind {endpoint!r}: udp endpoints need an explicit port (libzmq does not "
                "report the port it would pick)",
            )
            error.address = endpoint  # type: ignore[attr-defined]
            raise error


# -- the base class -------------------------------------------------------------------------


class _DraftSocket(Socket):
    """A draft socket: checks for draft support, receives and sends frames with properties."""

    __slots__ = ()

    #: The libzmq version that has this type (beyond the draft lane's minimum).
    _since: ClassVar[tuple[int, int, int] | None] = None

    def __init__(self, *, context: Context | None = None, **options: Any) -> None:
        reason = unsupported_reason(type(self))
        if reason is not None:
            raise NotSupportedError(
                f"gzmq.{type(self).__name__} is a draft socket and {reason}; {HOW_TO_GET_DRAFT}"
            )
        super().__init__(context=context, **options)

    def bind(self, endpoint: str) -> None:
        """Bind to an endpoint (udp needs an explicit port); see Socket.bind."""
        _check_udp_port(endpoint)
        super().bind(endpoint)

    def _recv_frame(self, timeout: float | None) -> Any:
        """Receive one message as a zmq.Frame (which carries routing_id / group)."""
        return self._waiting.recv(timeout, False)[0]

    def _send_frame(self, frame: zmq.Frame, timeout: float | None) -> None:
        """Send one zmq.Frame (pyzmq copies it: a retry after EAGAIN resends it whole)."""
        self._waiting.send((frame,), timeout)


def _payload(frame: zmq.Frame, copy: bool) -> Any:
    return frame.bytes if copy else frame


class _Routed(_DraftSocket, ReadableOptions, WritableOptions):
    """Server and Peer: messages come with, and go to, a peer's routing id."""

    __slots__ = ()

    @property
    def readable(self) -> bool:
        """Whether a message can be received right now (recv() returns (message, routing_id)).

        Live readiness, as Socket.readable; False when closed.
        """
        return ready(self._waiting, POLLIN)

    @property
    def writable(self) -> bool:
        """Whether a message can be queued right now (send(message, routing_id=...)).

        Live readiness, as Socket.writable; False when closed.
        """
        return ready(self._waiting, POLLOUT)

    def recv(self, *, timeout: float | None = None, copy: bool = True) -> tuple[Any, int]:
        """Receive one message and the routing id of the peer that sent it.

        Returns ``(message, routing_id)``: the message as bytes (a zmq.Frame
        with ``copy=False``), the routing id an int to give to send().
        Blocks only the calling greenlet; many greenlets may wait, first come,
        first served.  ``timeout`` (seconds) overrides receive_timeout and
        raises zmq.Again on expiry; SocketClosedError when closed.
        """
        frame = self._recv_frame(timeout)
        return _payload(frame, copy), frame.routing_id

    def send(self, message: Message, *, routing_id: int, timeout: float | None = None) -> None:
        """Send one single-part message to the peer with ``routing_id``.

        An unknown (or gone) routing id raises zmq.ZMQError EHOSTUNREACH.  A
        list of more than one frame raises ValueError (no multipart here).
        Blocks only the calling greenlet while that peer's queue is full;
        ``timeout`` (seconds) overrides send_timeout and raises zmq.Again.
        """
        rid = _routing_id(routing_id)
        frame = zmq.Frame(_single(self, message))
        frame.routing_id = rid
        self._send_frame(frame, timeout)

    def __iter__(self) -> Iterator[tuple[Any, int]]:
        """Yield (message, routing_id) until the socket is closed, then end cleanly."""
        while True:
            try:
                yield self.recv()
            except SocketClosedError:
                return


class _SinglePart(Writable):
    """Writable whose messages are single-part (Client, Scatter, Channel)."""

    __slots__ = ()

    def send(self, message: Message, *, timeout: float | None = None) -> None:
        """Send one single-part message (a frame, or a list/tuple of one frame).

        A list or tuple of more than one frame raises ValueError: libzmq's
        draft sockets do not allow multipart messages.  Blocks only the
        calling greenlet; ``timeout`` (seconds) overrides send_timeout and
        raises zmq.Again, having sent nothing.
        """
        if type(message) is not bytes:
            message = _single(self, message)
        Writable.send(self, message, timeout=timeout)


def _conflate() -> Option[bool]:
    return Option(
        Z.CONFLATE, Bool(), WRITE,
        doc="ZMQ_CONFLATE: keep only the last message in the queue (high water marks are "
        "ignored).",
    )


# -- the classes ---------------------------------------------------------------------------


@implementer(ISocket)
class Server(_Routed):
    """ZMQ_SERVER: replies to many Clients, addressing each by routing id (draft).

    ``recv() -> (message, routing_id)``; ``send(message, routing_id=...)``.
    Not IReadable/IWritable: the routing id is part of every call.
    """

    __slots__ = ()
    _socket_type = zmq.SERVER


@implementer(ISocket, IReadable, IWritable)
class Client(_DraftSocket, Readable, _SinglePart):
    """ZMQ_CLIENT: talks to Servers, load-balanced out and fair-queued in, like a Dealer (draft).

    ``recv()`` returns ``[message]``; messages are single-part.
    """

    __slots__ = ()
    _socket_type = zmq.CLIENT


@implementer(ISocket)
class Radio(_DraftSocket, WritableOptions):
    """ZMQ_RADIO: sends each message to the Dishes that joined its group (draft).

    ``send(message, group=...)``.  Over udp, connect() to the Dish's
    ``udp://host:port`` (or a multicast address).
    """

    __slots__ = ()
    _socket_type = zmq.RADIO

    @property
    def writable(self) -> bool:
        """Whether a message can be queued right now (send(message, group=...)).

        Live readiness, as Socket.writable; False when closed.
        """
        return ready(self._waiting, POLLOUT)

    def send(self, message: Message, *, group: str | bytes, timeout: float | None = None) -> None:
        """Send one single-part message to ``group`` (str or bytes, at most 255 bytes).

        Dishes that have not joined the group never see it.  Blocks only the
        calling greenlet; ``timeout`` (seconds) overrides send_timeout.
        """
        name = _group(group)
        frame = zmq.Frame(_single(self, message))
        frame.group = name
        self._send_frame(frame, timeout)


@implementer(ISocket)
class Dish(_DraftSocket, ReadableOptions):
    """ZMQ_DISH: receives what Radios send to the groups it joined (draft).

    ``join(*groups)`` / ``leave(*groups)``; ``recv() -> (message, group)``.
    Over udp, bind() ``udp://host:port`` with an explicit port (or a
    multicast address).
    """

    __slots__ = ()
    _socket_type = zmq.DISH

    @property
    def readable(self) -> bool:
        """Whether a message can be received right now (recv() returns (message, group)).

        Live readiness, as Socket.readable; False when closed.
        """
        return ready(self._waiting, POLLIN)

    def join(self, *groups: str | bytes) -> None:
        """Join one or more groups (str or bytes, at most 255 bytes of UTF-8 each).

        Joining a group already joined raises zmq.ZMQError EINVAL.
        """
        self._membership(groups, "join")

    def leave(self, *groups: str | bytes) -> None:
        """Leave groups joined before; a group not joined raises zmq.ZMQError EINVAL."""
        self._membership(groups, "leave")

    def _membership(self, groups: tuple[Any, ...], action: str) -> None:
        if not groups:
            raise TypeError(f"Dish.{action}() needs at least one group")
        names = [_group(group) for group in groups]
        self._check_usable()
        call = self._sock.join if action == "join" else self._sock.leave
        try:
            for name in names:
                try:
                    call(name)
                except _ZMQError as error:
                    if error.errno != errno.EINVAL or self._waiting.closed:
                        self._waiting.fail(error)
                    state = "already joined" if action == "join" else "not joined"
                    raise zmq.ZMQError(
                        errno.EINVAL, f"Dish.{action}({name!r}): the group is {state}"
                    ) from None
        finally:
            self._waiting.after_call()

    def recv(self, *, timeout: float | None = None, copy: bool = True) -> tuple[Any, bytes]:
        """Receive one message and the group it was sent to: ``(message, group)``.

        The message is bytes (a zmq.Frame with ``copy=False``), the group
        bytes.  Blocks only the calling greenlet; many greenlets may wait,
        first come, first served.  ``timeout`` (seconds) overrides
        receive_timeout and raises zmq.Again; SocketClosedError when closed.
        """
        frame = self._recv_frame(timeout)
        return _payload(frame, copy), frame.group.encode("utf-8")

    def __iter__(self) -> Iterator[tuple[Any, bytes]]:
        """Yield (message, group) until the socket is closed, then end cleanly."""
        while True:
            try:
                yield self.recv()
            except SocketClosedError:
                return


@implementer(ISocket, IReadable)
class Gather(_DraftSocket, Readable):
    """ZMQ_GATHER: receives from Scatters, fair-queued, like Pull (draft)."""

    __slots__ = ()
    _socket_type = zmq.GATHER
    conflate = _conflate()


@implementer(ISocket, IWritable)
class Scatter(_DraftSocket, _SinglePart):
    """ZMQ_SCATTER: sends to Gathers, load-balanced, like Push (draft)."""

    __slots__ = ()
    _socket_type = zmq.SCATTER
    conflate = _conflate()


@implementer(ISocket, IReadable, IWritable)
class Datagram(_DraftSocket, Readable, Writable):
    """ZMQ_DGRAM: raw UDP datagrams as ``[address, payload]`` (draft; udp only).

    recv() returns ``[b"host:port", payload]`` (where it came from);
    send([address, payload]) sends payload to ``host:port``.  Bind with an
    explicit port; libzmq sends from a port of its own choosing.
    """

    __slots__ = ()
    _socket_type = zmq.DGRAM

    def recv(self, *, timeout: float | None = None, copy: bool = True) -> list[Any]:
        """Receive one datagram as ``[address, payload]``; see Readable.recv."""
        message = Readable.recv(self, timeout=timeout, copy=copy)
        address = message[0]
        if copy and address[-1:] == b"\0":
            message[0] = address[:-1]  # libzmq NUL-terminates the address
        return message

    def send(self, message: Message, *, timeout: float | None = None) -> None:
        """Send ``[address, payload]``: payload as one datagram to ``address`` (host:port)."""
        if not isinstance(message, (list, tuple)) or len(message) != 2:
            raise ValueError(
                "a Datagram message is [address, payload], e.g. [b'127.0.0.1:5555', b'data'], "
                f"got {message!r:.80}"
            )
        Writable.send(self, message, timeout=timeout)


@implementer(ISocket)
class Peer(_Routed):
    """ZMQ_PEER: many-to-many, each peer addressed by routing id (draft, libzmq 4.3.3).

    ``connect(endpoint)`` returns the new peer's routing id; ``recv() ->
    (message, routing_id)``; ``send(message, routing_id=...)``.
    """

    __slots__ = ()
    _socket_type = zmq.PEER
    _since = (4, 3, 3)

    def connect(self, endpoint: str) -> int:  # type: ignore[override]
        """Connect to a Peer; returns its routing id (zmq_connect_peer), for send()."""
        if not isinstance(endpoint, str):
            raise TypeError(
                f"an endpoint must be a str such as 'tcp://127.0.0.1:5555', "
                f"got {type(endpoint).__name__}: {endpoint!r}"
            )
        self._check_usable()
        function = _connect_peer()
        try:
            routing_id = function(self._sock.underlying, endpoint.encode("utf-8"))
            if routing_id == 0:
                failure = zmq.ZMQError(ctypes.get_errno())
                error = zmq.ZMQError(
                    failure.errno, f"connect {endpoint!r} failed: {failure.strerror}"
                )
                error.address = endpoint  # type: ignore[attr-defined]
                raise error
        finally:
            self._waiting.after_call()
        self._endpoints.append(endpoint)
        return int(routing_id)


@implementer(ISocket, IReadable, IWritable)
class Channel(_DraftSocket, Readable, _SinglePart):
    """ZMQ_CHANNEL: a thread-safe Pair, single-part messages (draft, libzmq 4.3.3)."""

    __slots__ = ()
    _socket_type = zmq.CHANNEL
    _since = (4, 3, 3)


# -- zmq_connect_peer, which pyzmq does not wrap --------------------------------------------

_library: Any = None


def _libzmq() -> Any:
    """The libzmq that pyzmq loaded (dlsym through pyzmq's extension)."""
    global _library
    if _library is None:
        import zmq.backend.cython._zmq as backend

        _library = ctypes.CDLL(
            backend.__file__, mode=os.RTLD_NOLOAD | os.RTLD_LAZY, use_errno=True
        )
    return _library


def _connect_peer() -> Any:
    try:
        function = _libzmq().zmq_connect_peer
    except (ImportError, OSError, AttributeError) as error:
        raise NotSupportedError(
            f"Peer.connect() needs zmq_connect_peer from pyzmq's libzmq ({error})"
        ) from None
    function.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    function.restype = ctypes.c_uint32
    return function
