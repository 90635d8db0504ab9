"""gzmq: ZeroMQ for gevent.

Typed socket classes whose blocking-looking ``send()`` / ``recv()`` block
only the calling greenlet.  ``gzmq.context`` is the default context.
"""

from typing import TYPE_CHECKING

from gzmq import _native, auth
from gzmq._context import (
    EXIT_GRACE,
    Context,
    KeyPair,
    capability,
    curve_keypair,
    default_context,
    version,
)
from gzmq.draft import Channel, Client, Datagram, Dish, Gather, Peer, Radio, Scatter, Server
from gzmq.errors import (
    Again,
    GzmqWarning,
    InvalidThreadUseError,
    LateOptionWarning,
    NotSupportedError,
    ObserverModeError,
    OptionValueError,
    ReadOnlyOptionError,
    SocketClosedError,
    UnexpectedMessageError,
    UnknownOptionError,
    WriteOnlyOptionError,
    ZMQError,
)
from gzmq.events import AuthError, Event, EventType, ProtocolError
from gzmq.interfaces import IContext, IObserver, IProxy, IReadable, ISocket, IWritable
from gzmq.observer import Observer
from gzmq.options import Access, Option, options
from gzmq.poll import POLLERR, POLLIN, POLLOUT, Poller, select
from gzmq.proxy import Proxy
from gzmq.socket import Readable, Socket, Writable
from gzmq.sockets import (
    Dealer,
    Pair,
    Publisher,
    Pull,
    Push,
    Reply,
    Request,
    Router,
    Stream,
    Subscriber,
    XPublisher,
    XSubscriber,
)

__version__ = "0.1.0"

#: Whether gzmq's C accelerator is in use (send+recv several times faster).
accelerated: bool = _native.accelerated
#: Why the C accelerator is not in use (None when it is).
accelerator_reason: str | None = _native.reason

__all__ = [
    "EXIT_GRACE",
    "POLLERR",
    "POLLIN",
    "POLLOUT",
    "Access",
    "Again",
    "AuthError",
    "Channel",
    "Client",
    "Context",
    "Datagram",
    "Dealer",
    "Dish",
    "Event",
    "EventType",
    "Gather",
    "GzmqWarning",
    "IContext",
    "IObserver",
    "IProxy",
    "IReadable",
    "ISocket",
    "IWritable",
    "InvalidThreadUseError",
    "KeyPair",
    "LateOptionWarning",
    "NotSupportedError",
    "Observer",
    "ObserverModeError",
    "Option",
    "OptionValueError",
    "Pair",
    "Peer",
    "Poller",
    "ProtocolError",
    "Proxy",
    "Publisher",
    "Pull",
    "Push",
    "Radio",
    "ReadOnlyOptionError",
    "Readable",
    "Reply",
    "Request",
    "Router",
    "Scatter",
    "Server",
    "Socket",
    "SocketClosedError",
    "Stream",
    "Subscriber",
    "UnexpectedMessageError",
    "UnknownOptionError",
    "Writable",
    "WriteOnlyOptionError",
    "XPublisher",
    "XSubscriber",
    "ZMQError",
    "__version__",
    "accelerated",
    "accelerator_reason",
    "auth",
    "capability",
    "context",
    "curve_keypair",
    "default_context",
    "options",
    "select",
    "version",
]

if TYPE_CHECKING:
    #: The default context (a module attribute made on first use, see __getattr__).
    context: Context


def __getattr__(name: str) -> Context:
    """``gzmq.context``: the default context, made on first use (and after fork)."""
    if name == "context":
        return default_context()
    raise AttributeError(f"module 'gzmq' has no attribute {name!r}")
