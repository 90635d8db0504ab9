"""The calling OS thread's ident, as libzmq and the C accelerator see it.

``gevent.monkey.patch_all()`` makes ``threading.get_ident`` return the
current greenlet's id; a socket belongs to an OS thread, so gzmq takes the
original function, whether gzmq is imported before or after patching.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from gevent import monkey

__all__ = ["get_ident", "is_running"]

#: The OS thread ident (``_thread.get_ident`` as it was before any monkey patch).
get_ident: Callable[[], int] = monkey.get_original("_thread", "get_ident")


def is_running(ident: int) -> bool:
    """Whether the OS thread ``ident`` of this process is still running."""
    return ident in sys._current_frames()
