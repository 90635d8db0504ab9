"""The twelve standard socket classes, in zeromq.js v6's shape.

Each class is a :class:`~gzmq.socket.Socket` plus :class:`Readable` and/or
:class:`Writable`, and declares the options zeromq.js gives it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import zmq
from zmq import SocketOption as Z
from zope.interface import implementer

from gzmq import _exchange
from gzmq._socket_options import routing_id_kind
from gzmq.interfaces import IReadable, ISocket, IWritable
from gzmq.options import WRITE, Binary, Bool, Choice, Option
from gzmq.socket import Message, Readable, Socket, Writable

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import Unpack

    from gzmq import _option_types as _t
    from gzmq._context import Context

__all__ = [
    "Dealer",
    "Pair",
    "Publisher",
    "Pull",
    "Push",
    "Reply",
    "Request",
    "Router",
    "Stream",
    "Subscriber",
    "XPublisher",
    "XSubscriber",
]


class _Verbosity(Option[Any]):
    """XPublisher.verbosity: one option over libzmq's ZMQ_XPUB_VERBOSE and ZMQ_XPUB_VERBOSER.

    libzmq: VERBOSE 1 passes every subscribe up; VERBOSER 1 also every
    unsubscribe; VERBOSER 0 (like VERBOSE 0) turns both off.
    """

    def __set__(self, instance: object, value: Any) -> None:
        wire = self.kind.encode(self, value)
        if wire == 1:
            instance._write_option(_XPUB_VERBOSE, 1)  # type: ignore[attr-defined]
        else:
            instance._write_option(self, 1 if wire else 0)  # type: ignore[attr-defined]


_XPUB_VERBOSE: Option[bool] = Option(
    Z.XPUB_VERBOSE, Bool(), WRITE, immediate=True, doc="ZMQ_XPUB_VERBOSE"
)
_XPUB_VERBOSE.name = "verbosity"


def _routing_id() -> Option[bytes]:
    return Option(
        Z.ROUTING_ID, routing_id_kind(),
        doc="ZMQ_ROUTING_ID: this socket's identity as a ROUTER peer sees it (1 to 255 bytes, "
        "not starting with NUL; b'' until set).",
    )


def _conflate() -> Option[bool]:
    return Option(
        Z.CONFLATE, Bool(), WRITE,
        doc="ZMQ_CONFLATE: keep only the last message in the queue (single-frame messages "
        "only; high water marks are ignored).",
    )


def _invert_matching(what: str) -> Option[bool]:
    return Option(
        Z.INVERT_MATCHING, Bool(),
        doc=f"ZMQ_INVERT_MATCHING: {what} (publishers and subscribers must agree).",
    )


def _probe_router() -> Option[bool]:
    return Option(
        Z.PROBE_ROUTER, Bool(), WRITE, immediate=True,
        doc="ZMQ_PROBE_ROUTER: send an empty message to each new ROUTER peer, announcing "
        "this socket (talk only to ROUTERs with it).",
    )


def _no_drop() -> Option[bool]:
    return Option(
        Z.XPUB_NODROP, Bool(), WRITE, immediate=True,
        doc="ZMQ_XPUB_NODROP: at a subscriber's high water mark, fail the send with "
        "zmq.Again (or wait) instead of dropping the message.",
    )


_ZMQError = zmq.ZMQError
_EFSM = zmq.EFSM


#: The base methods (the accelerated C methods when built), called positionally
#: when no keyword is given so that the C fast path runs.
_send = Writable.send
_recv = Readable.recv


def _efsm(error: zmq.ZMQError, state: Callable[[str], str], sock: object) -> zmq.ZMQError:
    """libzmq's EFSM as the same pyzmq class and errno, saying which call in which state."""
    return type(error)(error.errno, f"{state(type(sock).__name__)} ({error.strerror})")


def _prefixes(prefixes: tuple[Any, ...]) -> list[bytes]:
    if not prefixes:
        return [b""]
    result = []
    for prefix in prefixes:
        if isinstance(prefix, str):
            result.append(prefix.encode("utf-8"))
        elif isinstance(prefix, (bytes, bytearray, memoryview)):
            result.append(bytes(prefix))
        else:
            raise TypeError(
                f"a subscription prefix must be bytes or str, got {type(prefix).__name__}: "
                f"{prefix!r}"
            )
    return result


@implementer(ISocket, IReadable, IWritable)
class Pair(Socket, Readable, Writable):
    """ZMQ_PAIR: an exclusive two-way connection to one peer."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.PairOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.PAIR


@implementer(ISocket, IWritable)
class Publisher(Socket, Writable):
    """ZMQ_PUB: send to every subscriber whose subscription matches."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.PublisherOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.PUB
    no_drop = _no_drop()
    conflate = _conflate()
    invert_matching = _invert_matching(
        "send each message to the subscribers whose subscriptions do NOT match it"
    )


@implementer(ISocket, IReadable)
class Subscriber(Socket, Readable):
    """ZMQ_SUB: receive what publishers send under the subscribed prefixes."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.SubscriberOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.SUB
    conflate = _conflate()
    invert_matching = _invert_matching("receive the messages that match NO subscription")

    def subscribe(self, *prefixes: bytes | str) -> None:
        """Subscribe to messages starting with any of the prefixes (none: everything)."""
        values = _prefixes(prefixes)
        self._check_usable()
        try:
            for value in values:
                self._sock.setsockopt(zmq.SUBSCRIBE, value)
        finally:
            self._waiting.after_call()

    def unsubscribe(self, *prefixes: bytes | str) -> None:
        """Remove subscriptions made with subscribe() (none: the everything one)."""
        values = _prefixes(prefixes)
        self._check_usable()
        try:
            for value in values:
                self._sock.setsockopt(zmq.UNSUBSCRIBE, value)
        finally:
            self._waiting.after_call()


@implementer(ISocket, IReadable, IWritable)
class Request(Socket, Readable, Writable):
    """ZMQ_REQ: send a request, then receive its reply, strictly alternating.

    ``request(message)`` does both in one call that greenlets may share.
    """

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.RequestOptions]
        ) -> None: ...

    __slots__ = ("_turns",)
    _socket_type = zmq.REQ
    _turns: _exchange.Turns  # made by the first request()
    routing_id = _routing_id()
    probe_router = _probe_router()
    correlate = Option(
        Z.REQ_CORRELATE, Bool(), WRITE, immediate=True,
        doc="ZMQ_REQ_CORRELATE: tag requests with an id and drop replies that do not carry "
        "the id of the last request.",
    )
    relaxed = Option(
        Z.REQ_RELAXED, Bool(), WRITE, immediate=True,
        doc="ZMQ_REQ_RELAXED: allow a new request before the previous reply arrived (the "
        "old reply is then dropped; use with correlate).",
    )

    def send(self, message: Message, *, timeout: float | None = None) -> None:
        """Send a request (see Writable.send); then recv() its reply before the next send().

        A second send() before the reply raises zmq.ZMQError EFSM saying so
        (unless ``relaxed``).  Greenlets sharing the socket use request().
        """
        try:
            if timeout is None:
                _send(self, message)
            else:
                _send(self, message, timeout=timeout)
        except _ZMQError as error:
            if error.errno == _EFSM:
                raise _efsm(error, _request_sent_twice, self) from None
            raise

    def recv(self, *, timeout: float | None = None, copy: bool = True) -> list[Any]:
        """Receive the reply to the request sent (see Readable.recv).

        recv() before any send() raises zmq.ZMQError EFSM saying so.
        """
        try:
            if timeout is None and copy is True:
                return _recv(self)
            return _recv(self, timeout=timeout, copy=copy)
        except _ZMQError as error:
            if error.errno == _EFSM:
                raise _efsm(error, _request_recv_first, self) from None
            raise

    def request(self, message: Message, timeout: float | None = None) -> list[bytes]:
        """Send ``message`` and return its reply: one whole exchange, atomic among greenlets.

        Greenlets sharing this Request (the handlers of a WSGI server, say)
        queue and take turns first come, first served; each gets the reply to
        its own request.  ``timeout`` (seconds) bounds the whole call (turn,
        send and reply) and raises zmq.Again; None applies send_timeout and
        receive_timeout.  When an exchange is abandoned after its request
        went out (a timeout, a kill), the socket switches to ``relaxed`` and
        ``correlate``: the next request goes out at once and libzmq drops the
        late reply.  Plain send()/recv() keep libzmq's strict alternation
        until then.
        """
        try:
            turns = self._turns
        except AttributeError:
            turns = self._turns = _exchange.Turns()
        return _exchange.request(self, turns, message, timeout)


@implementer(ISocket, IReadable, IWritable)
class Reply(Socket, Readable, Writable):
    """ZMQ_REP: receive a request, then send its reply, strictly alternating."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.ReplyOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.REP
    routing_id = _routing_id()

    def recv(self, *, timeout: float | None = None, copy: bool = True) -> list[Any]:
        """Receive a request (see Readable.recv); send() its reply before the next recv().

        A second recv() before the reply raises zmq.ZMQError EFSM saying so.
        """
        try:
            if timeout is None and copy is True:
                return _recv(self)
            return _recv(self, timeout=timeout, copy=copy)
        except _ZMQError as error:
            if error.errno == _EFSM:
                raise _efsm(error, _reply_recv_twice, self) from None
            raise

    def send(self, message: Message, *, timeout: float | None = None) -> None:
        """Send the reply to the request received (see Writable.send).

        send() with no request to answer raises zmq.ZMQError EFSM saying so.
        """
        try:
            if timeout is None:
                _send(self, message)
            else:
                _send(self, message, timeout=timeout)
        except _ZMQError as error:
            if error.errno == _EFSM:
                raise _efsm(error, _reply_send_first, self) from None
            raise


def _request_sent_twice(name: str) -> str:
    return (
        f"{name}.send() a second time before recv() of the reply: a {name} alternates "
        "send() and recv() (request() does both; relaxed=True allows a new request)"
    )


def _request_recv_first(name: str) -> str:
    return f"{name}.recv() before send(): a {name} receives only the reply to a request it sent"


def _reply_recv_twice(name: str) -> str:
    return (
        f"{name}.recv() a second time before send() of the reply: a {name} alternates "
        "recv() and send()"
    )


def _reply_send_first(name: str) -> str:
    return f"{name}.send() before recv(): a {name} sends only the reply to a request received"


@implementer(ISocket, IReadable, IWritable)
class Dealer(Socket, Readable, Writable):
    """ZMQ_DEALER: asynchronous requests, load-balanced over peers, fair-queued in."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.DealerOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.DEALER
    routing_id = _routing_id()
    probe_router = _probe_router()
    conflate = _conflate()


@implementer(ISocket, IReadable, IWritable)
class Router(Socket, Readable, Writable):
    """ZMQ_ROUTER: messages are framed with the peer's routing id."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.RouterOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.ROUTER
    routing_id = _routing_id()
    mandatory = Option(
        Z.ROUTER_MANDATORY, Bool(), WRITE, immediate=True,
        doc="ZMQ_ROUTER_MANDATORY: fail a send to an unknown peer with EHOSTUNREACH, and "
        "wait at a peer's high water mark, instead of dropping.",
    )
    probe_router = _probe_router()
    handover = Option(
        Z.ROUTER_HANDOVER, Bool(), WRITE, immediate=True,
        doc="ZMQ_ROUTER_HANDOVER: a new peer with a routing id already in use takes the "
        "connection over (default: it is refused).",
    )
    notify = Option(
        Z.ROUTER_NOTIFY,
        Choice({
            None: 0,
            "connect": zmq.NOTIFY_CONNECT,
            "disconnect": zmq.NOTIFY_DISCONNECT,
            "all": zmq.NOTIFY_CONNECT | zmq.NOTIFY_DISCONNECT,
        }),
        capability="draft",
        doc="ZMQ_ROUTER_NOTIFY: deliver [routing_id, b''] when a peer connects and/or "
        "disconnects: None, 'connect', 'disconnect' or 'all' (draft libzmq).",
    )

    def connect(self, endpoint: str, routing_id: bytes | str | None = None) -> None:
        """Connect; ``routing_id`` names that peer for this side's sends."""
        self._connect_with_routing_id(endpoint, routing_id)


@implementer(ISocket, IReadable)
class Pull(Socket, Readable):
    """ZMQ_PULL: receive from pushers, fair-queued."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.PullOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.PULL
    conflate = _conflate()


@implementer(ISocket, IWritable)
class Push(Socket, Writable):
    """ZMQ_PUSH: send to pullers, load-balanced."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.PushOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.PUSH
    conflate = _conflate()


@implementer(ISocket, IReadable, IWritable)
class XPublisher(Socket, Readable, Writable):
    """ZMQ_XPUB: a publisher receiving subscriptions as ``b"\\x01topic"`` / ``b"\\x00topic"``."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.XPublisherOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.XPUB
    no_drop = _no_drop()
    manual = Option(
        Z.XPUB_MANUAL, Bool(), WRITE, immediate=True,
        doc="ZMQ_XPUB_MANUAL: the application applies subscriptions itself (by sending "
        "b'\\x01topic' / b'\\x00topic' after receiving them), not libzmq.",
    )
    welcome_message = Option(
        Z.XPUB_WELCOME_MSG, Binary(max_bytes=255), WRITE,
        doc="ZMQ_XPUB_WELCOME_MSG: a message sent to each new subscriber (which must "
        "subscribe to it); b'' sends none.",
    )
    invert_matching = _invert_matching(
        "send each message to the subscribers whose subscriptions do NOT match it"
    )
    verbosity = _Verbosity(
        Z.XPUB_VERBOSER,
        Choice({None: 0, "all_subs": 1, "all_subs_unsubs": 2}),
        WRITE,
        immediate=True,
        doc="ZMQ_XPUB_VERBOSER / ZMQ_XPUB_VERBOSE: which subscription messages recv() "
        "sees: None (unique ones), 'all_subs' (every subscribe), 'all_subs_unsubs' "
        "(every subscribe and unsubscribe).",
    )


@implementer(ISocket, IReadable, IWritable)
class XSubscriber(Socket, Readable, Writable):
    """ZMQ_XSUB: a subscriber that sends subscriptions as ``b"\\x01topic"`` / ``b"\\x00topic"``."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.XSubscriberOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.XSUB


@implementer(ISocket, IReadable, IWritable)
class Stream(Socket, Readable, Writable):
    """ZMQ_STREAM: raw TCP; messages are [routing_id, data]."""

    if TYPE_CHECKING:

        def __init__(
            self, *, context: Context | None = None, **options: Unpack[_t.StreamOptions]
        ) -> None: ...

    __slots__ = ()
    _socket_type = zmq.STREAM
    notify = Option(
        Z.STREAM_NOTIFY, Bool(), WRITE,
        doc="ZMQ_STREAM_NOTIFY: deliver [routing_id, b''] when a peer connects or "
        "disconnects (default True).",
    )

    def connect(self, endpoint: str, routing_id: bytes | str | None = None) -> None:
        """Connect; ``routing_id`` names that peer for this side's sends."""
        self._connect_with_routing_id(endpoint, routing_id)

