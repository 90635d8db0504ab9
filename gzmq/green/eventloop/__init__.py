"""tornado's IOLoop, where ``zmq.green.eventloop`` offers it (needs tornado).

pyzmq's ``zmq.green`` package has this subpackage, so gzmq.green has it too:
``import zmq.green.eventloop`` keeps working under :mod:`gzmq.monkey`.
pyzmq deprecated its eventloop integration in pyzmq 17; use tornado directly.
"""

from __future__ import annotations

from gzmq.green.eventloop.ioloop import IOLoop

__all__ = ["IOLoop"]
