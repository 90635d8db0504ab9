"""The twelve standard socket classes, in zeromq.js v6's shape.

Each class is a :class:`~gzmq.socket.Socket` plus :class:`Readable` and/or
:class:`Writable`, and declares the options zeromq.js gives it.
"""

from __future__ import annotations

from typing import Any

import zmq
from zope.interface import implementer

from gzmq.interfaces import IReadable, ISocket, IWritable
from gzmq.options import READ_WRITE, WRITE, Binary, Bool, Choice, Option
from gzmq.socket import Readable, Socket, Writable

__all__ = [
    "Pair",
    "Publisher",
    "Subscriber",
    "Request",
    "Reply",
    "Dealer",
    "Router",
    "Pull",
    "Push",
    "XPublisher",
    "XSubscriber",
    "Stream",
]


def _routing_id() -> Option[bytes]:
    return Option(
        zmq.ROUTING_ID, Binary(min_bytes=1, max_bytes=255), READ_WRITE,
        doc="ZMQ_ROUTING_ID: this socket's identity as seen by a ROUTER peer (bytes).",
    )


def _conflate() -> Option[bool]:
    return Option(
        zmq.CONFLATE, Bool(), WRITE,
        doc="ZMQ_CONFLATE: keep only the last message (single-frame messages only).",
    )


def _invert_matching() -> Option[bool]:
    return Option(
        zmq.INVERT_MATCHING, Bool(), READ_WRITE,
        doc="ZMQ_INVERT_MATCHING: deliver messages that do NOT match the subscriptions.",
    )


def _probe_router() -> Option[bool]:
    return Option(
        zmq.PROBE_ROUTER, Bool(), WRITE, immediate=True,
        doc="ZMQ_PROBE_ROUTER: send an empty message to a ROUTER peer on connect.",
    )


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

    __slots__ = ()
    _socket_type = zmq.PAIR


@implementer(ISocket, IWritable)
class Publisher(Socket, Writable):
    """ZMQ_PUB: send to every subscriber whose subscription matches."""

    __slots__ = ()
    _socket_type = zmq.PUB
    no_drop = Option(
        zmq.XPUB_NODROP, Bool(), WRITE, immediate=True,
        doc="ZMQ_XPUB_NODROP: block (EAGAIN) instead of dropping at the high water mark.",
    )
    conflate = _conflate()
    invert_matching = _invert_matching()


@implementer(ISocket, IReadable)
class Subscriber(Socket, Readable):
    """ZMQ_SUB: receive what publishers send under the subscribed prefixes."""

    __slots__ = ()
    _socket_type = zmq.SUB
    conflate = _conflate()
    invert_matching = _invert_matching()

    def subscribe(self, *prefixes: bytes | str) -> None:
        """Subscribe to messages starting with any of the prefixes (none: everything)."""
        values = _prefixes(prefixes)
        self._check_usable()
        for value in values:
            self._sock.setsockopt(zmq.SUBSCRIBE, value)

    def unsubscribe(self, *prefixes: bytes | str) -> None:
        """Remove subscriptions made with subscribe() (none: the everything one)."""
        values = _prefixes(prefixes)
        self._check_usable()
        for value in values:
            self._sock.setsockopt(zmq.UNSUBSCRIBE, value)


@implementer(ISocket, IReadable, IWritable)
class Request(Socket, Readable, Writable):
    """ZMQ_REQ: send a request, then receive its reply, strictly alternating."""

    __slots__ = ()
    _socket_type = zmq.REQ
    routing_id = _routing_id()
    probe_router = _probe_router()
    correlate = Option(
        zmq.REQ_CORRELATE, Bool(), WRITE, immediate=True,
        doc="ZMQ_REQ_CORRELATE: match replies to requests with a request id.",
    )
    relaxed = Option(
        zmq.REQ_RELAXED, Bool(), WRITE, immediate=True,
        doc="ZMQ_REQ_RELAXED: allow a new request before the previous reply arrived.",
    )


@implementer(ISocket, IReadable, IWritable)
class Reply(Socket, Readable, Writable):
    """ZMQ_REP: receive a request, then send its reply, strictly alternating."""

    __slots__ = ()
    _socket_type = zmq.REP
    routing_id = _routing_id()


@implementer(ISocket, IReadable, IWritable)
class Dealer(Socket, Readable, Writable):
    """ZMQ_DEALER: asynchronous requests, load-balanced over peers, fair-queued in."""

    __slots__ = ()
    _socket_type = zmq.DEALER
    routing_id = _routing_id()
    probe_router = _probe_router()
    conflate = _conflate()


@implementer(ISocket, IReadable, IWritable)
class Router(Socket, Readable, Writable):
    """ZMQ_ROUTER: messages are framed with the peer's routing id."""

    __slots__ = ()
    _socket_type = zmq.ROUTER
    routing_id = _routing_id()
    mandatory = Option(
        zmq.ROUTER_MANDATORY, Bool(), WRITE, immediate=True,
        doc="ZMQ_ROUTER_MANDATORY: raise EHOSTUNREACH for an unknown peer instead of dropping.",
    )
    probe_router = _probe_router()
    handover = Option(
        zmq.ROUTER_HANDOVER, Bool(), WRITE, immediate=True,
        doc="ZMQ_ROUTER_HANDOVER: a new peer with a known routing id takes over the old one.",
    )

    def connect(self, endpoint: str, routing_id: bytes | str | None = None) -> None:
        """Connect; ``routing_id`` names that peer for this side's sends."""
        self._connect_with_routing_id(endpoint, routing_id)


@implementer(ISocket, IReadable)
class Pull(Socket, Readable):
    """ZMQ_PULL: receive from pushers, fair-queued."""

    __slots__ = ()
    _socket_type = zmq.PULL
    conflate = _conflate()


@implementer(ISocket, IWritable)
class Push(Socket, Writable):
    """ZMQ_PUSH: send to pullers, load-balanced."""

    __slots__ = ()
    _socket_type = zmq.PUSH
    conflate = _conflate()


@implementer(ISocket, IReadable, IWritable)
class XPublisher(Socket, Readable, Writable):
    """ZMQ_XPUB: a publisher that receives subscriptions as b"\\x01topic" / b"\\x00topic"."""

    __slots__ = ()
    _socket_type = zmq.XPUB
    no_drop = Option(
        zmq.XPUB_NODROP, Bool(), WRITE, immediate=True,
        doc="ZMQ_XPUB_NODROP: block (EAGAIN) instead of dropping at the high water mark.",
    )
    manual = Option(
        zmq.XPUB_MANUAL, Bool(), WRITE, immediate=True,
        doc="ZMQ_XPUB_MANUAL: subscriptions are applied by the application, not libzmq.",
    )
    welcome_message = Option(
        zmq.XPUB_WELCOME_MSG, Binary(max_bytes=255), WRITE,
        doc="ZMQ_XPUB_WELCOME_MSG: a message sent to each new subscriber.",
    )
    invert_matching = _invert_matching()
    verbosity = Option(
        zmq.XPUB_VERBOSER,
        Choice({None: 0, "all_subs": 1, "all_subs_unsubs": 2}),
        WRITE,
        immediate=True,
        doc="ZMQ_XPUB_VERBOSER / ZMQ_XPUB_VERBOSE: which subscription messages are passed "
        "up: None (new subscriptions only), 'all_subs', 'all_subs_unsubs'.",
    )

    def _write_option(self, option: Option[Any], value: Any) -> None:
        if option.id == zmq.XPUB_VERBOSER:
            # libzmq: VERBOSE passes every subscribe only; VERBOSER also every
            # unsubscribe, and VERBOSER 0 turns both off.
            if value == 1:
                super()._write_option(_XPUB_VERBOSE, 1)
                return
            value = 1 if value else 0
        super()._write_option(option, value)


_XPUB_VERBOSE: Option[bool] = Option(
    zmq.XPUB_VERBOSE, Bool(), WRITE, immediate=True, doc="ZMQ_XPUB_VERBOSE"
)
_XPUB_VERBOSE.name = "verbosity"


@implementer(ISocket, IReadable, IWritable)
class XSubscriber(Socket, Readable, Writable):
    """ZMQ_XSUB: a subscriber that sends subscriptions as b"\\x01topic" / b"\\x00topic"."""

    __slots__ = ()
    _socket_type = zmq.XSUB


@implementer(ISocket, IReadable, IWritable)
class Stream(Socket, Readable, Writable):
    """ZMQ_STREAM: raw TCP; messages are [routing_id, data]."""

    __slots__ = ()
    _socket_type = zmq.STREAM
    notify = Option(
        zmq.STREAM_NOTIFY, Bool(), WRITE, immediate=True,
        doc="ZMQ_STREAM_NOTIFY: deliver an empty message on connect and disconnect.",
    )

    def connect(self, endpoint: str, routing_id: bytes | str | None = None) -> None:
        """Connect; ``routing_id`` names that peer for this side's sends."""
        self._connect_with_routing_id(endpoint, routing_id)

