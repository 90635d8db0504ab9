"""pyzmq's everyday helpers on typed sockets: ``send_string`` / ``recv_string``,
``send_json`` / ``recv_json``.

They encode and decode around the public ``send()`` / ``recv()`` (whose fast
path they use when no timeout is given) and take the same ``timeout=``.  A
helper receives single-frame messages only: a multipart message, or one that
does not decode, raises :class:`~gzmq.errors.UnexpectedMessageError`
carrying every frame, so nothing is lost.  There are no pickle helpers:
unpickling what arrives from the network runs whatever code the sender chose.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gzmq.errors import UnexpectedMessageError

if TYPE_CHECKING:
    from gzmq.socket import Message

__all__ = ["ReceivesEncoded", "SendsEncoded"]


class ReceivesEncoded:
    """Mixin of Readable: ``recv_string()`` and ``recv_json()``."""

    __slots__ = ()

    if TYPE_CHECKING:

        def recv(self, *, timeout: float | None = None, copy: bool = True) -> list[Any]: ...

    def _recv_single(self, timeout: float | None, helper: str) -> bytes:
        """One whole message of exactly one frame, or UnexpectedMessageError carrying it."""
        message = self.recv() if timeout is None else self.recv(timeout=timeout)
        if len(message) != 1:
            raise UnexpectedMessageError(
                f"{type(self).__name__}.{helper}() received a multipart message of "
                f"{len(message)} frames; it takes one-frame messages (recv() returns every "
                "frame).  The whole message is in this error's .frames",
                message,
            )
        frame: bytes = message[0]
        return frame

    def recv_string(self, *, encoding: str = "utf-8", timeout: float | None = None) -> str:
        """Receive a one-frame message as text (``encoding``, UTF-8 by default).

        Waits as recv() does (``timeout`` seconds: zmq.Again, nothing
        consumed).  A multipart message, or one that does not decode, raises
        UnexpectedMessageError carrying its frames.
        """
        frame = self._recv_single(timeout, "recv_string")
        try:
            return frame.decode(encoding)
        except UnicodeDecodeError as error:
            raise UnexpectedMessageError(
                f"{type(self).__name__}.recv_string() received a message that is not "
                f"{encoding} text ({error}); the message is in this error's .frames",
                [frame],
            ) from error

    def recv_json(self, *, timeout: float | None = None, **loads: Any) -> Any:
        """Receive a one-frame message of JSON (UTF-8) and return the decoded value.

        ``loads`` keywords go to :func:`json.loads`.  Waits as recv() does.  A
        multipart message, or one that is not JSON, raises
        UnexpectedMessageError carrying its frames.
        """
        frame = self._recv_single(timeout, "recv_json")
        try:
            return json.loads(frame, **loads)
        except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
            raise UnexpectedMessageError(
                f"{type(self).__name__}.recv_json() received a message that is not JSON "
                f"({error}); the message is in this error's .frames",
                [frame],
            ) from error


class SendsEncoded:
    """Mixin of Writable: ``send_string()`` and ``send_json()``."""

    __slots__ = ()

    if TYPE_CHECKING:

        def send(self, message: Message, *, timeout: float | None = None) -> None: ...

    def send_string(
        self, text: str, *, encoding: str = "utf-8", timeout: float | None = None
    ) -> None:
        """Send ``text`` as a one-frame message, encoded (UTF-8 by default).

        Anything but a str is a TypeError before anything is sent.  Waits as
        send() does (``timeout`` seconds: zmq.Again, nothing sent).
        """
        if not isinstance(text, str):
            raise TypeError(
                f"send_string() takes a str, got {type(text).__name__}: {text!r:.80} "
                "(send bytes with send())"
            )
        data = text.encode(encoding)
        if timeout is None:
            self.send(data)
        else:
            self.send(data, timeout=timeout)

    def send_json(self, obj: Any, *, timeout: float | None = None, **dumps: Any) -> None:
        """Send ``obj`` as one frame of JSON (UTF-8); ``dumps`` keywords go to json.dumps.

        A value JSON cannot represent is a TypeError (or ValueError) before
        anything is sent.  Waits as send() does.
        """
        data = json.dumps(obj, **dumps).encode("utf-8")
        if timeout is None:
            self.send(data)
        else:
            self.send(data, timeout=timeout)
