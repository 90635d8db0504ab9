"""``zmq.green.eventloop.ioloop``: pyzmq's (deprecated) tornado IOLoop module, as it is."""

from __future__ import annotations

from zmq.eventloop.ioloop import *  # noqa: F403 - the same names as pyzmq's module
from zmq.eventloop.ioloop import IOLoop as IOLoop
