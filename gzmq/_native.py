"""Binds the optional C accelerator to the libzmq that pyzmq loaded.

``getsockopt_int``, ``recv_message``, ``send_frame`` and ``send_message`` are
None when the accelerator is not built or libzmq's functions cannot be found;
callers then use pyzmq.  Set ``GZMQ_PURE_PYTHON=1`` to force the pure-Python path.
"""

from __future__ import annotations

import ctypes
import importlib
import os
from collections.abc import Callable
from typing import Any

__all__ = ["getsockopt_int", "recv_message", "send_frame", "send_message"]

_FUNCTIONS = (
    "zmq_getsockopt",
    "zmq_msg_init",
    "zmq_msg_recv",
    "zmq_msg_close",
    "zmq_msg_data",
    "zmq_msg_size",
    "zmq_msg_more",
    "zmq_send",
)


def _bind() -> Any:
    """The bound accelerator module, or None."""
    if os.environ.get("GZMQ_PURE_PYTHON"):
        return None
    try:
        speedups: Any = importlib.import_module("gzmq._speedups")
    except ImportError:
        return None
    import zmq.backend.cython._zmq as backend

    try:
        # dlsym through pyzmq's extension finds the libzmq it was linked with.
        library = ctypes.CDLL(backend.__file__, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        addresses = [
            ctypes.cast(getattr(library, name), ctypes.c_void_p).value for name in _FUNCTIONS
        ]
    except (OSError, AttributeError):
        return None
    if not all(addresses):
        return None
    speedups.bind(*addresses)
    return speedups


_speedups = _bind()

#: ``getsockopt_int(handle, option)``: value, or -errno.
getsockopt_int: Callable[[int, int], int] | None = (
    _speedups.getsockopt_int if _speedups is not None else None
)
#: ``recv_message(handle)``: list of bytes, None on EAGAIN, or -errno.
recv_message: Callable[[int], Any] | None = (
    _speedups.recv_message if _speedups is not None else None
)
#: ``send_frame(handle, data, more)``: 0, None on EAGAIN, or -errno.
send_frame: Callable[[int, bytes, bool], Any] | None = (
    _speedups.send_frame if _speedups is not None else None
)
#: ``send_message(handle, frames)``: 0, None on EAGAIN, -errno, (sent, errno)
#: after a partial send, or NotImplemented unless a list/tuple of bytes.
send_message: Callable[[int, Any], Any] | None = (
    getattr(_speedups, "send_message", None) if _speedups is not None else None
)
