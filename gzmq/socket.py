"""The Socket base class and the Readable / Writable mixins.

A socket holds a pyzmq socket and the cooperative core (:mod:`gzmq._waiting`)
for it; it never subclasses pyzmq's.  ``send()`` and ``recv()`` look
blocking but block only the calling greenlet.  Classes get ``recv`` only
through :class:`Readable` and ``send`` only through :class:`Writable`, so a
class has only the methods it can use.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import gevent.socket
import zmq
from zmq.backend import Socket as _BackendSocket

from gzmq import _thread
from gzmq._context import Context, default_context
from gzmq._encoded import ReceivesEncoded, SendsEncoded
from gzmq._native import Method as _Method
from gzmq._readiness import POLLIN, POLLOUT, ready
from gzmq._socket_options import (
    ReadableOptions,
    SocketOptions,
    WritableOptions,
    routing_id_kind,
)
from gzmq._waiting import Waiting
from gzmq.errors import LateOptionWarning, SocketClosedError
from gzmq.options import Option, apply_options, read_socket_option, write_socket_option

if TYPE_CHECKING:
    # Never evaluated at run time (annotations are strings), so Python 3.10
    # needs no typing_extensions installed.
    from typing_extensions import Self

    from gzmq.observer import Observer

__all__ = ["Frame", "Message", "Readable", "Socket", "Writable"]

Frame = bytes | bytearray | memoryview | str | zmq.Frame | None
Message = Frame | list[Frame] | tuple[Frame, ...]

_ZMQError = zmq.ZMQError
_set = _BackendSocket.set
_get_ident = _thread.get_ident
_RCVTIMEO = int(zmq.RCVTIMEO)
_SNDTIMEO = int(zmq.SNDTIMEO)

_FRAME_TYPES = "bytes, bytearray, memoryview, str, zmq.Frame or None"


def _frame(frame: Any) -> Any:
    """Check and convert one frame to what pyzmq sends."""
    kind = type(frame)
    if kind is bytes or kind is zmq.Frame:
        return frame
    if kind is str:
        return frame.encode("utf-8")
    if frame is None:
        return b""
    if isinstance(frame, (bytes, bytearray, memoryview, zmq.Frame)):
        return frame
    if isinstance(frame, str):
        return frame.encode("utf-8")
    raise TypeError(
        f"a message frame must be {_FRAME_TYPES}, got {type(frame).__name__}: {frame!r:.80}"
    )


def frames_of(message: Any) -> list[Any]:
    """The frames of a message: a list/tuple is multipart, anything else one frame.

    Every frame is checked before anything is sent, so a bad frame raises
    TypeError and nothing of the message leaves.
    """
    if isinstance(message, (list, tuple)):
        if not message:
            raise ValueError("a message needs at least one frame; send [b''] for an empty one")
        return [_frame(frame) for frame in message]
    return [_frame(message)]


def _endpoint_text(endpoint: Any) -> str:
    if isinstance(endpoint, bytes):
        endpoint = endpoint.decode("utf-8")
    if not isinstance(endpoint, str):
        raise TypeError(
            f"an endpoint must be a str such as 'tcp://127.0.0.1:5555', "
            f"got {type(endpoint).__name__}: {endpoint!r}"
        )
    if endpoint.startswith("tcp://") and not _has_port(endpoint[6:]):
        error = zmq.ZMQError(
            zmq.EINVAL,
            f"{endpoint!r} has no port: a tcp endpoint is tcp://host:port "
            "(tcp://host:* binds a free port, read back from last_endpoint)",
        )
        error.address = endpoint  # type: ignore[attr-defined]
        raise error
    if endpoint.startswith(("tcp://", "ws://")):
        port = endpoint.rsplit(":", 1)[-1].split("/", 1)[0]
        if port.isdigit() and int(port) > 65535:
            # libzmq would silently truncate the port to 16 bits.
            error = zmq.ZMQError(
                zmq.EINVAL, f"{endpoint!r}: port {port} is out of range (0-65535)"
            )
            error.address = endpoint  # type: ignore[attr-defined]
            raise error
    return endpoint


def _has_port(address: str) -> bool:
    """Whether a tcp address (after ``tcp://``) ends in ``:port`` (or ``:*``)."""
    address = address.rpartition(";")[2]  # connect's "source;destination" form
    if address.startswith("["):
        address = address.partition("]")[2]  # an IPv6 literal's colons are not the port's
    _host, colon, port = address.rpartition(":")
    return bool(colon) and bool(port)


def _endpoint_error(error: zmq.ZMQError, endpoint: str, action: str) -> zmq.ZMQError:
    """The same libzmq error class, with a message and ``.address`` naming the endpoint."""
    hint = ""
    if "://" not in endpoint:
        hint = " (expected transport://address, e.g. tcp://127.0.0.1:5555)"
    message = f"{action} {endpoint!r} failed: {error.strerror}{hint}"
    try:
        enriched = type(error)(error.errno, message)
    except TypeError:
        enriched = zmq.ZMQError(error.errno, message)
    enriched.address = endpoint  # type: ignore[attr-defined]
    return enriched


def _resolve_bind_host(address: str) -> str:
    """A tcp bind endpoint with its host name resolved cooperatively (others unchanged).

    IP literals, ``*`` and interface names (libzmq looks those up locally) are
    left alone; anything else goes through gevent's resolver.
    """
    if not address.startswith("tcp://"):
        return address
    host, separator, port = address[6:].rpartition(":")
    if not separator or not host or host == "*" or host.startswith("[") or ";" in host:
        return address
    try:
        ipaddress.ip_address(host)
        return address
    except ValueError:
        pass
    if host in {name for _, name in socket.if_nameindex()}:
        return address
    try:
        infos = gevent.socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError as error:
        failure = zmq.ZMQError(
            errno.ENODEV, f"bind {address!r} failed: cannot resolve host {host!r} ({error})"
        )
        failure.address = address  # type: ignore[attr-defined]
        raise failure from None
    return f"tcp://{infos[0][4][0]}:{port}"


class Socket(SocketOptions):
    """A ZeroMQ socket whose blocking-looking calls yield to the gevent hub.

    Construct with keyword options only: ``Dealer(linger=0, routing_id=b"a")``.
    Unknown or read-only names raise UnknownOptionError.  A socket belongs to
    the thread that made it.
    """

    __slots__ = (
        "__weakref__", "_bound", "_closed_endpoints", "_context", "_endpoints", "_observer",
        "_sock", "_waiting",
    )

    _socket_type: ClassVar[int]

    # The options (linger, routing_id, ...) are declared in gzmq._socket_options.

    def __init__(self, *, context: Context | None = None, **options: Any) -> None:
        cls = type(self)
        if not hasattr(cls, "_socket_type"):
            raise TypeError(
                f"{cls.__name__} is abstract; use a socket class such as gzmq.Dealer"
            )
        if context is None:
            context = default_context()
        elif not isinstance(context, Context):
            raise TypeError(f"context must be a gzmq.Context, got {type(context).__name__}")
        self._context = context
        self._sock = context._raw_socket(cls._socket_type)
        self._waiting = Waiting(self._sock)
        self._waiting.describe = _describer(self)
        self._endpoints: list[str] = []
        #: The endpoints at close(), for SocketClosedError's message.
        self._closed_endpoints: tuple[str, ...] = ()
        #: bind() endpoint as given -> as libzmq knows it (resolved host, real port).
        self._bound: dict[str, str] = {}
        self._observer: Any = None
        try:
            apply_options(self, options)
        except BaseException:
            self.close(0)
            raise
        context._adopt(self)

    def __repr__(self) -> str:
        state = "closed" if self._waiting.closed else ", ".join(self._endpoints) or "unbound"
        return f"<gzmq.{type(self).__name__} {state} at {hex(id(self))}>"

    # -- options plumbing --------------------------------------------------------

    def _check_usable(self) -> None:
        waiting = self._waiting
        if _get_ident() != waiting.owner:  # also once closed (owner is then CLOSED)
            waiting.wrong_owner()

    def _read_option(self, option: Option[Any]) -> Any:
        self._check_usable()
        try:
            return read_socket_option(self._sock, option)
        except _ZMQError as error:
            self._waiting.fail(error)
            raise  # unreachable: fail() always raises
        finally:
            self._waiting.after_call()

    def _write_option(self, option: Option[Any], value: Any) -> None:
        self._check_usable()
        if self._endpoints and not option.immediate:
            warnings.warn(
                f"option {option.name!r} will not take effect until next connect/bind",
                LateOptionWarning,
                stacklevel=3,
            )
        try:
            write_socket_option(self._sock, option, value)
        except _ZMQError as error:
            self._waiting.fail(error)
        finally:
            self._waiting.after_call()
        if option.id == _RCVTIMEO:
            self._waiting.receive_timeout = value
        elif option.id == _SNDTIMEO:
            self._waiting.send_timeout = value

    # -- lifecycle ---------------------------------------------------------------

    def _describe(self) -> str:
        """Class and endpoints, as SocketClosedError names the socket: "gzmq.Pull (tcp://...)"."""
        endpoints = self._endpoints or self._closed_endpoints
        return f"gzmq.{type(self).__name__} ({', '.join(endpoints) or 'no endpoints'})"

    @property
    def readable(self) -> bool:
        """Whether a message can be received right now: the next recv() returns at once.

        zeromq.js's ``readable``: live readiness (ZMQ_EVENTS, and messages gzmq
        holds for a later recv()), not whether the class has recv() -- ask
        ``hasattr(sock, "recv")`` for that.  False when closed, and on classes
        that cannot receive.  Reading it consumes nothing and loses no wake-up
        of a greenlet parked on the socket (greenlets already parked in
        recv() are served first).
        """
        return isinstance(self, Readable) and ready(self._waiting, POLLIN)

    @property
    def writable(self) -> bool:
        """Whether a message can be queued right now: the next send() returns at once.

        zeromq.js's ``writable``: live readiness (ZMQ_EVENTS), not whether the
        class has send() -- ask ``hasattr(sock, "send")`` for that.  False when
        closed, and on classes that cannot send.  Reading it consumes nothing
        and loses no wake-up of a greenlet parked on the socket.
        """
        return isinstance(self, Writable) and ready(self._waiting, POLLOUT)

    @property
    def closed(self) -> bool:
        """Whether the socket is closed."""
        return self._waiting.closed

    @property
    def context(self) -> Context:
        """The context this socket was made on."""
        return self._context

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The endpoints this socket is bound or connected to now."""
        return tuple(self._endpoints)

    @property
    def events(self) -> Observer:
        """The socket's Observer of libzmq events, created on first access.

        Events that happened before the first access are not seen.  After
        the Observer's close(), the next access starts a new one.
        """
        self._check_usable()
        if self._observer is None or self._observer.closed:
            from gzmq.observer import Observer

            self._observer = Observer(self)
        return self._observer

    def close(self, linger: int | None = None) -> None:
        """Close the socket; wake every waiter with SocketClosedError. Idempotent.

        ``linger`` (ms) overrides the socket's linger option for this close.
        Called from a thread that does not own the socket, it asks the owning
        thread's hub to close it, which happens the next time that hub runs.
        """
        if linger is not None and (isinstance(linger, bool) or not isinstance(linger, int)):
            raise TypeError(f"linger must be an int (ms), got {type(linger).__name__}")
        waiting = self._waiting
        if waiting.closed:
            return
        if waiting.owned_elsewhere():
            # Another thread's hub owns the socket: it closes it (and wakes its
            # waiters) when it next runs; libzmq sockets are not thread-safe.
            waiting.call_in_owner(self.close, linger)
            return
        if waiting.holder is not None:
            # Lent to a running gzmq.Proxy: it ends, then closes the socket.
            waiting.holder._close_lent(self, linger)
            return
        observer = self._observer
        sock = self._sock
        self._closed_endpoints = tuple(self._endpoints)
        waiting.close(lambda: sock.close(linger))
        self._endpoints.clear()
        self._bound.clear()
        if observer is not None:
            observer._socket_closed()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints -----------------------------------------------------------------

    def bind(self, endpoint: str) -> None:
        """Bind to an endpoint; ``tcp://host:*`` picks a free port (see last_endpoint).

        A tcp host name is resolved through gevent's resolver first, so a slow
        DNS lookup blocks only the calling greenlet, never the hub (libzmq
        would resolve it synchronously inside bind).
        """
        address = _endpoint_text(endpoint)
        self._check_usable()
        target = _resolve_bind_host(address)
        self._check_usable()  # the socket may have been closed while resolving
        try:
            self._sock.bind(target)
        except _ZMQError as error:
            raise _endpoint_error(error, address, "bind") from None
        finally:
            self._waiting.after_call()
        bound = self.last_endpoint if target != address or "*" in address else address
        self._bound[address] = bound
        self._endpoints.append(bound)

    def unbind(self, endpoint: str) -> None:
        """Stop listening on an endpoint given to bind() (or read from last_endpoint)."""
        address = _endpoint_text(endpoint)
        self._check_usable()
        target = self._bound.get(address, address)
        try:
            self._sock.unbind(target)
        except _ZMQError as error:
            raise _endpoint_error(error, address, "unbind") from None
        finally:
            self._waiting.after_call()
        for given in [key for key, value in self._bound.items() if value == target]:
            del self._bound[given]
        if target in self._endpoints:
            self._endpoints.remove(target)

    def connect(self, endpoint: str) -> None:
        """Connect to an endpoint (libzmq connects in the background and reconnects)."""
        address = _endpoint_text(endpoint)
        self._check_usable()
        try:
            self._sock.connect(address)
        except _ZMQError as error:
            raise _endpoint_error(error, address, "connect") from None
        finally:
            self._waiting.after_call()
        self._endpoints.append(address)

    def disconnect(self, endpoint: str) -> None:
        """Disconnect from an endpoint given to connect()."""
        address = _endpoint_text(endpoint)
        self._check_usable()
        try:
            self._sock.disconnect(address)
        except _ZMQError as error:
            raise _endpoint_error(error, address, "disconnect") from None
        finally:
            self._waiting.after_call()
        if address in self._endpoints:
            self._endpoints.remove(address)

    def _connect_with_routing_id(self, endpoint: str, routing_id: Any) -> None:
        """connect() that names the peer (ZMQ_CONNECT_ROUTING_ID) for ROUTER/STREAM."""
        if routing_id is not None:
            value = _ROUTING_ID.encode(_CONNECT_ROUTING_ID, routing_id)
            self._check_usable()
            _set(self._sock, zmq.CONNECT_ROUTING_ID, value)
        Socket.connect(self, endpoint)


def _describer(sock: Socket) -> Callable[[], str]:
    """Names ``sock`` for its Waiting without keeping it alive (no reference cycle)."""
    ref = weakref.ref(sock)
    name = f"gzmq.{type(sock).__name__}"

    def describe() -> str:
        alive = ref()
        return name if alive is None else alive._describe()

    return describe


_ROUTING_ID = routing_id_kind()
_CONNECT_ROUTING_ID: Option[bytes] = Option(
    zmq.CONNECT_ROUTING_ID, _ROUTING_ID, doc="ZMQ_CONNECT_ROUTING_ID: the peer's routing id."
)
_CONNECT_ROUTING_ID.name = "routing_id"


class Readable(ReadableOptions, ReceivesEncoded):
    """Mixin: receiving messages (``recv``, iteration, ``recv_string``, ``recv_json``) and
    receive-side options."""

    __slots__ = ()
    _sock: zmq.Socket[Any]
    _waiting: Waiting

    def recv(self, *, timeout: float | None = None, copy: bool = True) -> list[Any]:
        """Receive one whole message as a list of frames (bytes).

        Blocks only the calling greenlet.  Any number of greenlets may wait
        on one socket; they are served in arrival order, each getting one
        whole message.  ``timeout`` (seconds) overrides receive_timeout; on
        expiry zmq.Again is raised and nothing is consumed.  A closed socket
        raises SocketClosedError, also in waiters when it is closed under them.
        ``copy=False`` returns zmq.Frame objects (zero-copy for large frames).
        """
        # With the accelerator, a C Method (end of this module) makes this call
        # without a Python frame.
        return self._waiting.recv(timeout, copy)

    def __iter__(self) -> Iterator[list[Any]]:
        """Yield messages until the socket is closed, then end cleanly."""
        while True:
            try:
                yield self.recv()
            except SocketClosedError:
                return


class Writable(WritableOptions, SendsEncoded):
    """Mixin: sending messages (``send``, ``send_string``, ``send_json``) and send-side
    options."""

    __slots__ = ()
    _sock: zmq.Socket[Any]
    _waiting: Waiting

    def send(self, message: Message, *, timeout: float | None = None) -> None:
        """Send one message: a frame, or a list/tuple of frames for multipart.

        A frame is bytes, bytearray, memoryview, str (UTF-8), zmq.Frame or None
        (empty).  Anything else raises TypeError before anything is sent.
        Blocks only the calling greenlet, and only before the first frame: a
        multipart message goes out whole or not at all.  ``timeout``
        (seconds) overrides send_timeout; on expiry zmq.Again is raised and
        nothing was sent.
        """
        # With the accelerator, a C Method (end of this module) makes this call
        # without a Python frame for a message of bytes.
        self._waiting.send(message if message.__class__ is bytes else frames_of(message), timeout)


if _Method is not None:
    # recv() and send() call the socket's Gate from C, with no Python frame
    # (about a third of a small message's cost); a message to convert, or an
    # argument the C method does not know, goes through the Python code above.
    Readable.recv = _Method(Readable.recv, "recv")  # type: ignore[method-assign]
    Writable.send = _Method(Writable.send, "send")  # type: ignore[method-assign]
