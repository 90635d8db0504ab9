"""Binds the optional C accelerator to the libzmq that pyzmq loaded.

``getsockopt_int(handle, option)`` is None when the accelerator is not built
or libzmq cannot be found; callers then use pyzmq's ``Socket.get``.  Set
``GZMQ_PURE_PYTHON=1`` to force the pure-Python path.
"""

from __future__ import annotations

import ctypes
import importlib
import os
from collections.abc import Callable
from typing import Any

__all__ = ["getsockopt_int"]

getsockopt_int: Callable[[int, int], int] | None = None


def _bind() -> Callable[[int, int], int] | None:
    if os.environ.get("GZMQ_PURE_PYTHON"):
        return None
    try:
        _speedups: Any = importlib.import_module("gzmq._speedups")
    except ImportError:
        return None
    import zmq.backend.cython._zmq as backend

    try:
        # dlsym through pyzmq's extension finds the libzmq it was linked with.
        library = ctypes.CDLL(backend.__file__, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        address = ctypes.cast(library.zmq_getsockopt, ctypes.c_void_p).value
    except (OSError, AttributeError):
        return None
    if not address:
        return None
    _speedups.bind_getsockopt(address)
    function: Callable[[int, int], int] = _speedups.getsockopt_int
    return function


getsockopt_int = _bind()
