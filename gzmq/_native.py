"""Binds the optional C accelerator to the libzmq that pyzmq loaded.

``getsockopt_int``, ``recv_message``, ``gate_recv``, ``gate_send``,
``Method`` and ``release_pending`` are None when the accelerator is not built or libzmq's functions
cannot be found (``Gate`` is then a plain class); callers then use pyzmq.
Set ``GZMQ_PURE_PYTHON=1`` (or true, yes, on) to force the pure-Python path;
``accelerated`` and ``reason`` tell which is in use and why.
"""

from __future__ import annotations

import ctypes
import importlib
import os
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = [
    "Gate",
    "Method",
    "accelerated",
    "after_fork_in_child",
    "gate_recv",
    "gate_send",
    "getsockopt_int",
    "pure_python_requested",
    "reason",
    "recv_message",
    "release_pending",
]

_FUNCTIONS = (
    "zmq_getsockopt",
    "zmq_msg_init",
    "zmq_msg_recv",
    "zmq_msg_close",
    "zmq_msg_data",
    "zmq_msg_size",
    "zmq_msg_more",
    "zmq_send",
    "zmq_msg_init_data",
    "zmq_msg_send",
)


#: Values of GZMQ_PURE_PYTHON that turn the accelerator off (any case).
_TRUE = frozenset({"1", "true", "yes", "on"})


def pure_python_requested() -> bool:
    """Whether GZMQ_PURE_PYTHON asks for the pure-Python core (1, true, yes or on)."""
    return os.environ.get("GZMQ_PURE_PYTHON", "").strip().lower() in _TRUE


def _bind() -> tuple[Any, str | None]:
    """The bound accelerator module and None, or None and why it is not in use."""
    if pure_python_requested():
        return None, "GZMQ_PURE_PYTHON is set"
    try:
        speedups: Any = importlib.import_module("gzmq._speedups")
    except ImportError as error:
        return None, f"the C extension gzmq._speedups is not built ({error})"
    import zmq.backend.cython._zmq as backend

    try:
        # dlsym through pyzmq's extension finds the libzmq it was linked with.
        library = ctypes.CDLL(backend.__file__, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        addresses = [
            ctypes.cast(getattr(library, name), ctypes.c_void_p).value for name in _FUNCTIONS
        ]
    except (OSError, AttributeError) as error:
        return None, f"libzmq's functions were not found through pyzmq ({error})"
    if not all(addresses):
        return None, "libzmq's functions were not found through pyzmq"
    speedups.bind(*addresses)
    return speedups, None


_speedups, reason = _bind()

#: Whether the C accelerator is in use; ``reason`` says why not when it is not.
accelerated: bool = _speedups is not None

#: ``getsockopt_int(handle, option)``: value, or -errno.
getsockopt_int: Callable[[int, int], int] | None = (
    _speedups.getsockopt_int if _speedups is not None else None
)
#: ``recv_message(handle)``: list of bytes, None on EAGAIN, or -errno.
recv_message: Callable[[int], Any] | None = (
    _speedups.recv_message if _speedups is not None else None
)


class _PythonGate:
    """The fields of the cooperative core's fast paths, without the accelerator."""

    __slots__ = ("handle", "owner", "readers", "streak", "writers")

    handle: int  # the libzmq socket's address
    owner: int  # the owning thread's ident, or a negative sentinel (closed, lent)
    readers: deque[Any]  # parked receivers
    writers: deque[Any]  # parked senders
    streak: int  # consecutive immediate completions


#: The base class of gzmq._waiting.Waiting: C fields with the accelerator.
if TYPE_CHECKING:
    Gate = _PythonGate
else:
    Gate = _speedups.Gate if _speedups is not None else _PythonGate
#: ``gate_recv(waiting)``: the fast path of recv(): a list of bytes; None
#: when it may not run; -errno on failure (-EAGAIN too).
gate_recv: Callable[[Any], Any] | None = (
    _speedups.gate_recv if _speedups is not None else None
)
#: ``gate_send(waiting, data)``: the fast path of send() for bytes or a list or
#: tuple of bytes: 0 when sent; None when it may not run; -errno on failure,
#: nothing sent (-EAGAIN too); (sent, errno) if a frame after the first failed.
gate_send: Callable[[Any, Any], Any] | None = (
    _speedups.gate_send if _speedups is not None else None
)

#: ``Method(function, after, kind)``: a socket class's recv() or send() whose
#: calls without keywords run the gate in C (see gzmq.socket); None without
#: the accelerator.
Method: Callable[[Callable[..., Any], Callable[..., Any], str], Any] | None = (
    _speedups.Method if _speedups is not None else None
)

#: ``release_pending()``: drop the references to large frames that libzmq has
#: finished sending (they go out without a copy); every send and receive of
#: the accelerator does it first.  None without the accelerator.
release_pending: Callable[[], None] | None = (
    _speedups.release_pending if _speedups is not None else None
)


def after_fork_in_child() -> None:
    """Renew the accelerator's lock in a forked child (another thread may have held it)."""
    if _speedups is not None:
        _speedups.after_fork()


def configure(queue_type: type, fairness_limit: int, cost_shift: int, large_message: int) -> None:
    """Tell the fast paths the queue type and the fairness budget (gzmq._waiting's)."""
    if _speedups is not None:
        _speedups.configure(queue_type, fairness_limit, cost_shift, large_message)
