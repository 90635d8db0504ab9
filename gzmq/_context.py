"""Context, the default context, and the module values (version, capability, keys).

A :class:`Context` owns a libzmq context.  ``gzmq.context`` is the default
one, created on first use and created again, transparently, in a forked
child.  Closing a context closes its sockets and terminates libzmq's context
in gevent's threadpool, so the hub never blocks on lingering messages.

At interpreter exit gzmq closes the sockets that are still open and
terminates every context in a thread started with the first context (a
thread cannot be started during interpreter shutdown).  Exit waits at most
:data:`EXIT_GRACE` seconds for queued messages to be delivered (the sockets'
``linger``); if that takes longer than half a second it says so once,
through :mod:`warnings`, as zeromq.js does.
"""

from __future__ import annotations

import atexit
import os
import threading
import warnings
import weakref
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import zmq
from gevent import get_hub
from gevent.monkey import get_original
from zope.interface import implementer

from gzmq.errors import GzmqWarning
from gzmq.interfaces import IContext
from gzmq.options import READ, WRITE, Bool, Int32, Option, apply_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from gzmq._option_types import ContextOptions
    from gzmq.socket import Socket

__all__ = [
    "EXIT_GRACE",
    "Context",
    "KeyPair",
    "capability",
    "curve_keypair",
    "default_context",
    "version",
]

#: The libzmq version string, e.g. "4.3.5".
version: str = zmq.zmq_version()

#: Which optional features the linked libzmq has.
capability: Mapping[str, bool] = MappingProxyType(
    {
        name: bool(zmq.has(name))
        for name in ("ipc", "pgm", "tipc", "norm", "curve", "gssapi", "draft")
    }
)

#: Seconds that interpreter exit waits, at most, for queued messages.
EXIT_GRACE = 5.0
_EXIT_WARN_AFTER = 0.5


class KeyPair(NamedTuple):
    """A CURVE key pair as 40-character Z85 strings."""

    public: str
    secret: str


def curve_keypair() -> KeyPair:
    """Generate a new CURVE key pair (needs libzmq with CURVE)."""
    if not capability["curve"]:
        from gzmq.errors import NotSupportedError

        raise NotSupportedError(
            "curve_keypair() needs libzmq built with CURVE (libsodium); "
            "pyzmq's wheels include it"
        )
    public, secret = zmq.curve_keypair()
    return KeyPair(public.decode("ascii"), secret.decode("ascii"))


#: pyzmq's own Context, bound at import: gzmq.monkey may later replace
#: ``zmq.Context`` with the green one, which native sockets do not need.
_PyzmqContext = zmq.Context

#: The real thread primitives, even where gevent has patched them (for the exit thread).
_start_new_thread: Any = get_original("_thread", "start_new_thread")
_allocate_lock: Any = get_original("_thread", "allocate_lock")

_contexts: weakref.WeakSet[Context] = weakref.WeakSet()


@implementer(IContext)
class Context:
    """A ZeroMQ context: the I/O threads and the sockets made on it.

    Construct with keyword context options, e.g. ``Context(io_threads=2)``.
    Sockets use the default context (``gzmq.context``) unless given
    ``context=``.  Any thread may make sockets on a shared context; each
    socket belongs to the thread that made it.
    """

    __slots__ = ("__weakref__", "_closed", "_pid", "_sockets", "_zmq")

    io_threads = Option(
        zmq.ContextOption.IO_THREADS, Int32(minimum=0),
        doc="ZMQ_IO_THREADS: the size of libzmq's I/O thread pool (0 is enough for "
        "inproc only); set it before the first socket.",
    )
    max_sockets = Option(
        zmq.ContextOption.MAX_SOCKETS, Int32(minimum=1),
        doc="ZMQ_MAX_SOCKETS: the most sockets this context may have open at once (at most "
        "max_sockets_limit).",
    )
    max_sockets_limit = Option(
        zmq.ContextOption.SOCKET_LIMIT, Int32(), READ,
        doc="ZMQ_SOCKET_LIMIT: the largest value max_sockets accepts.",
    )
    max_message_size = Option(
        zmq.ContextOption.MAX_MSGSZ, Int32(minimum=0),
        doc="ZMQ_MAX_MSGSZ: the largest message size, in bytes, sockets of this context "
        "may send or receive.",
    )
    ipv6 = Option(
        zmq.SocketOption.IPV6, Bool(),
        doc="ZMQ_IPV6: whether sockets made afterwards on this context use IPv6 too.",
    )
    blocky = Option(
        zmq.SocketOption.BLOCKY, Bool(),
        doc="ZMQ_BLOCKY: whether sockets made afterwards linger forever by default (False: "
        "their linger is 0).",
    )
    thread_priority = Option(
        zmq.ContextOption.THREAD_PRIORITY, Int32(minimum=0), WRITE,
        doc="ZMQ_THREAD_PRIORITY: the scheduling priority of the I/O threads (see "
        "sched_setscheduler(2)); set it before the first socket, to a value the "
        "scheduling policy accepts, or libzmq aborts when it starts them.",
    )
    thread_scheduling_policy = Option(
        zmq.ContextOption.THREAD_SCHED_POLICY, Int32(minimum=0), WRITE,
        doc="ZMQ_THREAD_SCHED_POLICY: the scheduling policy of the I/O threads (SCHED_OTHER "
        "0, SCHED_FIFO 1, SCHED_RR 2, ...); set it before the first socket.",
    )

    def __init__(self, **options: Unpack[ContextOptions]) -> None:
        self._zmq: zmq.Context[Any] = _PyzmqContext()
        self._sockets: weakref.WeakSet[Socket] = weakref.WeakSet()
        self._closed = False
        self._pid = os.getpid()
        try:
            apply_options(self, options)
        except BaseException:
            self._closed = True
            self._zmq.term()  # no sockets yet: returns at once
            raise
        _contexts.add(self)
        _exit_worker.start()

    def __repr__(self) -> str:
        state = " closed" if self._closed else f" {len(self._sockets)} sockets"
        return f"<gzmq.Context{state} at {hex(id(self))}>"

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._closed

    @property
    def sockets(self) -> list[Socket]:
        """The sockets of this context that are still open."""
        return [socket for socket in self._sockets if not socket.closed]

    def _read_option(self, option: Option[Any]) -> Any:
        self._check_open()
        return self._zmq.get(option.id)

    def _write_option(self, option: Option[Any], value: Any) -> None:
        self._check_open()
        self._zmq.set(option.id, value)

    def _check_open(self) -> None:
        if self._closed:
            raise zmq.ZMQError(zmq.ETERM, "Context is closed")

    def _raw_socket(self, socket_type: int) -> zmq.Socket[Any]:
        """Make a pyzmq socket on this context (for gzmq.socket)."""
        self._check_open()
        return self._zmq.socket(socket_type)

    def _adopt(self, socket: Socket) -> None:
        self._sockets.add(socket)

    def close(self, linger: int | None = None) -> None:
        """Close every socket of this context, then terminate it.

        ``linger`` (ms), if given, overrides each socket's own.  libzmq's
        terminate call runs in gevent's threadpool: only the calling greenlet
        waits for lingering messages.  Idempotent.
        """
        if linger is not None and (isinstance(linger, bool) or not isinstance(linger, int)):
            raise TypeError(f"linger must be an int (ms), got {type(linger).__name__}")
        if self._closed:
            return
        self._closed = True
        for socket in list(self._sockets):
            socket.close(linger)
        if self._pid != os.getpid():
            return  # a forked child must not touch the parent's libzmq context
        get_hub().threadpool.apply(self._zmq.term)

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_default: Context | None = None
_default_lock = threading.Lock()


def default_context() -> Context:
    """The default context (``gzmq.context``), made on first use and after fork."""
    global _default
    context = _default
    if context is None or context._closed:
        with _default_lock:
            context = _default
            if context is None or context._closed:
                context = _default = Context()
    return context


def _forget_after_fork() -> None:
    """In a forked child, the parent's contexts are unusable: start afresh."""
    global _default
    _default = None
    for context in list(_contexts):
        context._closed = True
        context._sockets = weakref.WeakSet()


os.register_at_fork(after_in_child=_forget_after_fork)


class _ExitWorker:
    """An OS thread, started with the first context, that terminates contexts at exit.

    Python 3.12 forbids starting a thread during interpreter shutdown, when
    atexit handlers run, so the thread that waits for libzmq's lingering
    sockets is started beforehand and sleeps on a lock until exit.  It is a
    real thread even when gevent has patched :mod:`threading`, so that exit
    can wait for it with a timeout without running the hub.
    """

    __slots__ = ("contexts", "done", "go", "lock", "started")

    def __init__(self) -> None:
        self.contexts: list[Context] = []
        self.lock = _allocate_lock()  # guards the start
        self.go = _allocate_lock()  # released by the exit handler
        self.done = _allocate_lock()  # released by the thread when every context ended
        self.started = False

    def start(self) -> None:
        """Start the thread unless it runs; during shutdown it cannot, and stays off."""
        if self.started:
            return
        with self.lock:
            if self.started:
                return
            self.go.acquire()
            self.done.acquire()
            parked = _allocate_lock()
            parked.acquire()
            try:
                _start_new_thread(self._run, (parked,))
            except RuntimeError:  # "can't create new thread at interpreter shutdown"
                self.go.release()
                self.done.release()
                return
            # Wait until the thread sleeps: its start must not steal the GIL
            # from whatever the caller does next.
            parked.acquire()
            self.started = True

    def _run(self, parked: Any) -> None:
        parked.release()
        self.go.acquire()
        try:
            for context in self.contexts:
                try:
                    context._zmq.term()
                except zmq.ZMQError:
                    pass  # nothing left to wait for on this one
        finally:
            self.done.release()

    def terminate(self, contexts: list[Context]) -> None:
        """Terminate ``contexts`` in the thread; wait at most EXIT_GRACE, warn after 0.5 s."""
        if not self.started:
            return  # no thread (first context made during shutdown): exit drops the queues
        self.contexts = contexts
        self.go.release()
        if self.done.acquire(timeout=_EXIT_WARN_AFTER):
            return
        warnings.warn(
            "gzmq: waiting for queued messages to be delivered before exit "
            f"(at most {EXIT_GRACE:g} s); set linger=0 on sockets to drop them",
            GzmqWarning,
            stacklevel=1,
        )
        self.done.acquire(timeout=EXIT_GRACE - _EXIT_WARN_AFTER)


_exit_worker = _ExitWorker()


def _new_exit_worker_after_fork() -> None:
    """A forked child has no exit thread: the next context starts its own."""
    global _exit_worker
    _exit_worker = _ExitWorker()


os.register_at_fork(after_in_child=_new_exit_worker_after_fork)


def _close_at_exit() -> None:
    """Close open sockets and terminate contexts; wait for queued messages, bounded."""
    pid = os.getpid()
    contexts = [c for c in list(_contexts) if not c._closed and c._pid == pid]
    if not contexts:
        return
    for context in contexts:
        context._closed = True
        for socket in list(context._sockets):
            try:
                socket.close()
            except Exception:  # noqa: BLE001 - exit must not fail on one broken socket
                pass
    _exit_worker.terminate(contexts)


atexit.register(_close_at_exit)
