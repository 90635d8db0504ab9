"""Socket events: :class:`EventType`, :class:`Event` and their error payloads.

An :class:`~gzmq.observer.Observer` turns libzmq's monitor messages into
:class:`Event` objects.  The event names are zeromq.js's, so code and
documentation written for zeromq.js's ``socket.events`` read the same here:

==========================  =============================  ======================
libzmq event                ``EventType``                  payload
==========================  =============================  ======================
CONNECTED                   ``connect``                    address
CONNECT_DELAYED             ``connect:delay``              address
CONNECT_RETRIED             ``connect:retry``              address, interval (ms)
LISTENING                   ``bind``                       address
BIND_FAILED                 ``bind:error``                 address, error (errno)
ACCEPTED                    ``accept``                     address
ACCEPT_FAILED               ``accept:error``               address, error (errno)
CLOSED                      ``close``                      address
CLOSE_FAILED                ``close:error``                address, error (errno)
DISCONNECTED                ``disconnect``                 address
MONITOR_STOPPED             ``end``                        --
HANDSHAKE_SUCCEEDED         ``handshake``                  address
HANDSHAKE_FAILED_PROTOCOL   ``handshake:error:protocol``   address, ProtocolError
HANDSHAKE_FAILED_AUTH       ``handshake:error:auth``       address, AuthError
HANDSHAKE_FAILED_NO_DETAIL  ``handshake:error:other``      address, error (errno)
anything else               ``unknown``                    address
==========================  =============================  ======================

An errno ``error`` is a plain :class:`zmq.ZMQError` with that ``errno`` (for
example ``errno.EADDRINUSE`` on ``bind:error``), as libzmq's own errors are
everywhere in gzmq.
"""

from __future__ import annotations

import enum
import errno as _errno
from dataclasses import dataclass
from typing import Any

import zmq
from zmq.utils.monitor import parse_monitor_message

__all__ = ["PROTOCOL_CODES", "AuthError", "Event", "EventType", "ProtocolError", "decode_event"]


class EventType(str, enum.Enum):
    """The kind of a socket event; the values are zeromq.js's event names.

    A member compares equal to its name, so ``event.type == "bind"`` works.
    """

    ACCEPT = "accept"
    ACCEPT_ERROR = "accept:error"
    BIND = "bind"
    BIND_ERROR = "bind:error"
    CONNECT = "connect"
    CONNECT_DELAY = "connect:delay"
    CONNECT_RETRY = "connect:retry"
    CLOSE = "close"
    CLOSE_ERROR = "close:error"
    DISCONNECT = "disconnect"
    END = "end"
    HANDSHAKE = "handshake"
    HANDSHAKE_ERROR_PROTOCOL = "handshake:error:protocol"
    HANDSHAKE_ERROR_AUTH = "handshake:error:auth"
    HANDSHAKE_ERROR_OTHER = "handshake:error:other"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, name: Any) -> EventType:
        """The member named ``name`` (a member or its string); ValueError naming the valid ones."""
        if isinstance(name, cls):
            return name
        if isinstance(name, str):
            try:
                return cls(name)
            except ValueError:
                pass
            valid = ", ".join(repr(member.value) for member in cls)
            raise ValueError(f"unknown event type {name!r}; the event types are {valid}")
        raise TypeError(
            f"an event type must be a str or gzmq.EventType, got {type(name).__name__}: {name!r}"
        )


#: The text zeromq.js gives each ZAP status code.
_AUTH_TEXT = {300: "Temporary error", 400: "Authentication failure", 500: "Internal error"}


class AuthError(zmq.ZMQError, PermissionError):  # type: ignore[misc]  # both define strerror
    """The ZAP handler refused a peer: ``status`` is the ZAP status code (300, 400 or 500).

    The payload of ``handshake:error:auth`` events.  300 is a temporary
    error, 400 an authentication failure, 500 an internal error of the
    handler.
    """

    status: int

    def __init__(self, status: int) -> None:
        text = _AUTH_TEXT.get(status, "Unknown error")
        super().__init__(_errno.EACCES, f"{text} (ZAP status {status})")
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status,))


def _protocol_codes() -> dict[int, str]:
    """ZMQ_PROTOCOL_ERROR_* values and zeromq.js's names for them (ERR_ZMTP_..., ERR_ZAP_...)."""
    codes: dict[int, str] = {}
    prefix = "PROTOCOL_ERROR_"
    for name in dir(zmq):
        if name.startswith((prefix + "ZMTP_", prefix + "ZAP_")):
            codes[int(getattr(zmq, name))] = "ERR_" + name[len(prefix):]
    return dict(sorted(codes.items()))


#: ZMQ_PROTOCOL_ERROR_* value -> code, e.g. 0x11000002 -> "ERR_ZMTP_MECHANISM_MISMATCH".
PROTOCOL_CODES: dict[int, str] = _protocol_codes()


class ProtocolError(zmq.ZMQError):
    """A peer broke the ZMTP or ZAP protocol during the handshake.

    The payload of ``handshake:error:protocol`` events.  ``code`` is
    zeromq.js's name for libzmq's ZMQ_PROTOCOL_ERROR_* value, e.g.
    ``"ERR_ZMTP_MECHANISM_MISMATCH"`` or ``"ERR_ZAP_MALFORMED_REPLY"``
    (``"ERR_UNKNOWN"`` for a value this table lacks); ``value`` is the
    number itself.  ``errno`` is EPROTO.
    """

    code: str
    value: int

    def __init__(self, value: int) -> None:
        code = PROTOCOL_CODES.get(value)
        if code is None:
            code = "ERR_UNKNOWN"
            message = f"Unknown protocol error {value:#x} ({code})"
        else:
            _, family, detail = code.split("_", 2)
            message = f"{family} protocol error: {detail.replace('_', ' ').lower()} ({code})"
        super().__init__(_errno.EPROTO, message)
        self.code = code
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.value,))


@dataclass(frozen=True)
class Event:
    """One socket event: its ``type`` and, where libzmq gives them, its details.

    ``address`` is the endpoint concerned (None when libzmq names none, as
    for ``end``); ``error`` is set on the ``*:error`` types (a
    :class:`zmq.ZMQError` with the errno, an :class:`AuthError` or a
    :class:`ProtocolError`); ``interval`` is the reconnect interval in ms of
    ``connect:retry``.
    """

    type: EventType
    address: str | None = None
    error: zmq.ZMQError | None = None
    interval: int | None = None

    def __str__(self) -> str:
        text = str(self.type)
        if self.address is not None:
            text += f" {self.address}"
        if self.interval is not None:
            text += f" (retry in {self.interval} ms)"
        if self.error is not None:
            text += f": {self.error}"
        return text


_TYPES: dict[int, EventType] = {
    int(zmq.EVENT_CONNECTED): EventType.CONNECT,
    int(zmq.EVENT_CONNECT_DELAYED): EventType.CONNECT_DELAY,
    int(zmq.EVENT_CONNECT_RETRIED): EventType.CONNECT_RETRY,
    int(zmq.EVENT_LISTENING): EventType.BIND,
    int(zmq.EVENT_BIND_FAILED): EventType.BIND_ERROR,
    int(zmq.EVENT_ACCEPTED): EventType.ACCEPT,
    int(zmq.EVENT_ACCEPT_FAILED): EventType.ACCEPT_ERROR,
    int(zmq.EVENT_CLOSED): EventType.CLOSE,
    int(zmq.EVENT_CLOSE_FAILED): EventType.CLOSE_ERROR,
    int(zmq.EVENT_DISCONNECTED): EventType.DISCONNECT,
    int(zmq.EVENT_MONITOR_STOPPED): EventType.END,
    int(zmq.EVENT_HANDSHAKE_SUCCEEDED): EventType.HANDSHAKE,
    int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL): EventType.HANDSHAKE_ERROR_PROTOCOL,
    int(zmq.EVENT_HANDSHAKE_FAILED_AUTH): EventType.HANDSHAKE_ERROR_AUTH,
    int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL): EventType.HANDSHAKE_ERROR_OTHER,
}

#: The types whose libzmq value is an errno.
_ERRNO_TYPES = frozenset(
    {
        EventType.BIND_ERROR,
        EventType.ACCEPT_ERROR,
        EventType.CLOSE_ERROR,
        EventType.HANDSHAKE_ERROR_OTHER,
    }
)


def decode_event(frames: list[bytes]) -> Event:
    """The Event of one monitor message (two frames), decoded by pyzmq's parser.

    A message that is not a monitor message gives an ``unknown`` event.
    """
    try:
        parsed = parse_monitor_message(frames)
    except (RuntimeError, ValueError, TypeError):
        return Event(EventType.UNKNOWN)
    # pyzmq unpacks the 16-bit id and the 32-bit value as signed numbers.
    event_id = int(parsed["event"]) & 0xFFFF
    value = int(parsed["value"]) & 0xFFFFFFFF
    endpoint = parsed["endpoint"]
    address = endpoint.decode("utf-8", "replace") if endpoint else None
    kind = _TYPES.get(event_id, EventType.UNKNOWN)
    if kind is EventType.CONNECT_RETRY:
        return Event(kind, address, interval=value)
    if kind in _ERRNO_TYPES:
        return Event(kind, address, error=zmq.ZMQError(value))
    if kind is EventType.HANDSHAKE_ERROR_AUTH:
        return Event(kind, address, error=AuthError(value))
    if kind is EventType.HANDSHAKE_ERROR_PROTOCOL:
        return Event(kind, address, error=ProtocolError(value))
    return Event(kind, address)
