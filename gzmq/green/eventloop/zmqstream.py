"""``zmq.green.eventloop.zmqstream``: pyzmq's ZMQStream (on tornado's IOLoop).

pyzmq's green variant only makes the stream default to ``IOLoop.instance()``,
which is what tornado's ``IOLoop.current()`` gives in tornado 5 and later, so
this is pyzmq's class itself; it works with gzmq.green sockets.
"""

from __future__ import annotations

from zmq.eventloop.zmqstream import ZMQStream as ZMQStream

__all__ = ["ZMQStream"]
