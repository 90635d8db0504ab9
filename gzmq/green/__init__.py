"""A drop-in for ``zmq.green`` on gzmq's cooperative core.

Use it where you would use pyzmq's gevent module::

    import gzmq.green as zmq

    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ)

Every name of ``zmq.__all__`` is here.  ``Context``, ``Socket``, ``Poller``,
``select``, ``zmq_poll``, ``device``, ``proxy`` and ``proxy_steerable`` are
green: they block only the calling greenlet, never the hub.  Unlike
``zmq.green``, any number of greenlets may wait on one socket (first come,
first served), RCVTIMEO/SNDTIMEO work (set as options or attributes),
``close()`` wakes the waiters, ``routing_id``/``group`` are kept, the Poller
never spins or re-polls periodically, the proxy runs off the hub thread,
reading EVENTS never loses a wake-up, and unclosed sockets are garbage
collected.  ``Context`` and ``Socket`` are generic classes, as pyzmq's are
(``Context[Socket[bytes]]``), and the package has the modules of pyzmq's
(``core``, ``poll``, ``device``, ``eventloop``).  To make code that does
``import zmq`` or ``import zmq.green`` run on it unchanged, see
:mod:`gzmq.monkey`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import zmq as _zmq

if TYPE_CHECKING:
    # Bound before the star import so that type checkers see gzmq's classes and
    # functions under these names (they would keep pyzmq's otherwise), as explicit
    # re-exports (``import gzmq.green as zmq; zmq.Context()`` under mypy --strict).
    from gzmq.green.core import Context as Context
    from gzmq.green.core import Socket as Socket
    from gzmq.green.device import device as device
    from gzmq.green.device import proxy as proxy
    from gzmq.green.device import proxy_steerable as proxy_steerable
    from gzmq.green.poll import Poller as Poller
    from gzmq.green.poll import select as select
    from gzmq.green.poll import zmq_poll as zmq_poll

from zmq import *  # type: ignore[assignment]  # noqa: F403 - a drop-in re-exports all of pyzmq

from gzmq.green.core import Context as Context
from gzmq.green.core import Socket as Socket
from gzmq.green.device import device as device
from gzmq.green.device import proxy as proxy
from gzmq.green.device import proxy_steerable as proxy_steerable
from gzmq.green.poll import Poller as Poller
from gzmq.green.poll import select as select
from gzmq.green.poll import zmq_poll as zmq_poll

#: pyzmq's aliases for the synchronous classes; here they are the green ones.
SyncContext = Context  # type: ignore[misc]
SyncSocket = Socket  # type: ignore[misc]

#: The names that differ from pyzmq's (what gzmq.monkey patches).
GREEN_NAMES = (
    "Context",
    "Socket",
    "SyncContext",
    "SyncSocket",
    "Poller",
    "select",
    "zmq_poll",
    "device",
    "proxy",
    "proxy_steerable",
)

__all__: list[str] = list(dict.fromkeys(_zmq.__all__))
