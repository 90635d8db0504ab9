"""Binds the optional C accelerator to the libzmq that pyzmq loaded.

``Gate`` is the C fast path (gzmq._fastpath.Gate's twin) when the
accelerator is built and libzmq's functions are found, else the pure-Python
one; ``getsockopt_int``, ``recv_message``, ``Method`` and
``release_pending`` are then None and callers use pyzmq.
Set ``GZMQ_PURE_PYTHON=1`` (or true, yes, on) to force the pure-Python path;
``accelerated`` and ``reason`` tell which is in use and why.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import greenlet

from gzmq import _fastpath

__all__ = [
    "Gate",
    "Method",
    "Parked",
    "accelerated",
    "after_fork_in_child",
    "getsockopt_int",
    "pure_python_requested",
    "reason",
    "recv_message",
    "release_after_close",
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


#: The base class of gzmq._waiting.Waiting: the fast-path decision, in C with
#: the accelerator, else gzmq._fastpath's reference implementation.
if TYPE_CHECKING:
    Gate = _fastpath.Gate
else:
    Gate = _speedups.Gate if _speedups is not None else _fastpath.Gate

#: The C type of a parked greenlet's entry (gzmq._parking.Parked's twin), or None.
Parked: Any = _speedups.Parked if _speedups is not None else None

#: ``Method(function, kind)``: a socket class's recv() or send() that calls its
#: Gate without a Python frame (see gzmq.socket); None without the accelerator.
Method: Callable[[Callable[..., Any], str], Any] | None = (
    _speedups.Method if _speedups is not None else None
)

#: ``release_pending()``: drop the references to large frames that libzmq has
#: finished sending (they go out without a copy); every send and receive of
#: the accelerator does it first.  None without the accelerator.
release_pending: Callable[[], None] | None = (
    _speedups.release_pending if _speedups is not None else None
)

#: Per hub, the io watcher that releases large frames after a close.
_release_watchers: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def release_after_close(hub: Any) -> None:
    """After a socket's close: release its large frames as soon as libzmq drops them.

    libzmq closes sockets in the background; the frames it still holds are
    released when it is done, from its own threads.  If any are in flight,
    an io watcher on the accelerator's eventfd (in ``hub``, not keeping it
    alive) drops each reference once libzmq has, with no further call.
    """
    if _speedups is None:
        return
    fd = _speedups.want_release()
    if fd < 0:
        return
    watcher = _release_watchers.get(hub)
    if watcher is None or watcher.fd != fd:
        watcher = hub.loop.io(fd, 1)  # EV_READ
        watcher.ref = False  # never keeps the hub's loop (or the program) alive
        _release_watchers[hub] = watcher
    if not watcher.active:
        watcher.start(_released, watcher)


def _released(watcher: Any) -> None:
    """(In the hub.) libzmq released large frames: drop them; stop when none are left."""
    if _speedups is not None and not _speedups.on_release():
        watcher.stop()


def after_fork_in_child() -> None:
    """Renew the accelerator's lock and eventfd in a forked child."""
    _release_watchers.clear()
    if _speedups is not None:
        _speedups.after_fork()


def configure() -> None:
    """Tell the C fast path the queue type, the fairness budget and the pyzmq helpers."""
    if _speedups is not None:
        _speedups.configure(
            deque,
            _fastpath.FAIRNESS_LIMIT,
            _fastpath.COST_SHIFT,
            _fastpath.LARGE_MESSAGE,
            _fastpath.recv_frames,
            _fastpath.send_frames,
            _fastpath.cost_of,
            greenlet.getcurrent,
        )


configure()
