"""Exceptions and warnings raised by gzmq.

libzmq's own errors pass through as pyzmq's (:class:`zmq.ZMQError`,
:class:`zmq.Again`, ...), never wrapped, so ``except zmq.Again`` keeps
working.  The classes here are gzmq's own; each also subclasses the builtin
it really is.
"""

from __future__ import annotations

import errno

import zmq

__all__ = [
    "Again",
    "GzmqWarning",
    "InvalidThreadUseError",
    "LateOptionWarning",
    "NotSupportedError",
    "ObserverModeError",
    "OptionValueError",
    "ReadOnlyOptionError",
    "SocketClosedError",
    "UnexpectedMessageError",
    "UnknownOptionError",
    "WriteOnlyOptionError",
    "ZMQError",
]

ZMQError = zmq.ZMQError
Again = zmq.Again


class SocketClosedError(zmq.ZMQError):
    """The socket was used after close, or closed while a caller waited on it."""

    def __init__(self, msg: str = "Socket is closed") -> None:
        super().__init__(errno.ENOTSOCK, msg)


class UnexpectedMessageError(ValueError):
    """A received message that recv_string() / recv_json() cannot return as asked.

    More than one frame, or not text / JSON in the encoding asked.  The
    message was taken from the socket; ``frames`` holds all of it (a list of
    bytes), so nothing is lost.
    """

    def __init__(self, msg: str, frames: list[bytes]) -> None:
        super().__init__(msg)
        #: Every frame of the message, as received.
        self.frames = frames

    def __reduce__(self) -> tuple[type[UnexpectedMessageError], tuple[str, list[bytes]]]:
        return type(self), (str(self), self.frames)


class UnknownOptionError(TypeError):
    """An option name that this class does not have (or cannot be set)."""


class ReadOnlyOptionError(AttributeError):
    """An attempt to set an option that can only be read."""


class WriteOnlyOptionError(AttributeError):
    """An attempt to read an option that can only be written."""


class OptionValueError(ValueError):
    """An option value of the right type but outside what the option accepts."""


class ObserverModeError(RuntimeError):
    """An Observer used in pull mode and push mode at once."""


class NotSupportedError(zmq.ZMQError, NotImplementedError):
    """A capability that the linked libzmq lacks (the message says how to get it)."""

    def __init__(self, msg: str) -> None:
        super().__init__(errno.ENOTSUP, msg)


class InvalidThreadUseError(RuntimeError):
    """A socket used from a thread (or a forked process) that does not own it."""


class GzmqWarning(RuntimeWarning):
    """Base class of gzmq's warnings."""


class LateOptionWarning(GzmqWarning):
    """An option set after bind/connect that only affects future connections."""
