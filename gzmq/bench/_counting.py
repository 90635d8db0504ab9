"""The programs ``gzmq bench --instructions`` counts: one case, one contender, N operations.

Run as a script, ``python .../gzmq/bench/_counting.py CASE CONTENDER N [ENDPOINT]``,
not as a module of the package, so that a contender imports only what it
uses (raw pyzmq and zmq.green never import gzmq).  The whole process is
counted; the caller runs it with N and 6N operations and takes the
difference, so start-up, imports and teardown cancel.  When done it prints
one JSON line: ``{"ops": N, "accelerated": true|false|null}`` (whether gzmq's
C accelerator was in use; null for contenders without gzmq).

``python .../_counting.py echo`` is the peer of the ``req`` case: a raw
blocking pyzmq REP bound to a free tcp port on 127.0.0.1, which prints
``{"endpoint": ...}`` and echoes every request until it is killed.  It runs
outside the measurement, in its own process, and replies ECHO_DELAY after
each request, so that the client always waits for its reply, as it does over
any real network: under valgrind the client runs ~50 times slower, and a
prompt reply would sometimes be there before ``recv()`` is called, which
would make the counts depend on timing (gzmq's waiting path costs more
instructions than its immediate one, and a blocking ``zmq_recv`` more
syscalls).

The cases:

``sendrecv``
    One PAIR pair over inproc, one greenlet (or thread): a 64-byte send, then
    the recv of it; nothing ever waits.  One operation = one send + one recv.
``pipe``
    A PAIR pair over inproc between two greenlets (two threads for raw pyzmq):
    the main one sends a 64-byte ping and waits for the pong, the other waits
    for the ping and sends it back.  Every message is waited for and woken:
    one operation = one round trip (two messages, two waits).
``req``
    A REQ connected over tcp to the echo process: one operation = one
    64-byte request and its reply.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

# Run as a script, this file's directory is sys.path[0]: the contenders'
# imports (done later, in _Api) must not find gzmq/bench/*.py as top-level modules.
if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

__all__ = ["CASES", "CONTENDERS", "main"]

PAYLOAD = b"x" * 64

#: Seconds the echo process waits before each reply.
ECHO_DELAY = 0.002

#: What each operation is, per case.
CASES: dict[str, str] = {
    "sendrecv": "a 64 B send then its recv on an inproc PAIR pair, no waiting",
    "pipe": "an inproc PAIR ping-pong between two greenlets (raw pyzmq: two threads), "
    "one round trip, every message waited for",
    "req": "a tcp REQ round trip against an echo process (only the client counted)",
}

#: The contenders; ``gzmq-pure`` is gzmq with GZMQ_PURE_PYTHON=1 (set by the caller).
CONTENDERS: tuple[str, ...] = ("gzmq", "gzmq-pure", "pyzmq", "zmq.green", "gzmq.green")


class _Api:
    """Sockets and concurrency of one contender, behind one small interface."""

    def __init__(self, contender: str) -> None:
        self.contender = contender
        self.typed = contender in ("gzmq", "gzmq-pure")
        if self.typed:
            import gzmq

            self.module: Any = gzmq
        elif contender == "pyzmq":
            import zmq

            self.module = zmq
        elif contender == "zmq.green":
            import zmq.green

            self.module = zmq.green
        elif contender == "gzmq.green":
            import gzmq.green

            self.module = gzmq.green
        else:
            raise ValueError(f"unknown contender {contender!r} (one of {', '.join(CONTENDERS)})")
        self.context: Any = self.module.Context()

    def socket(self, kind: str) -> Any:
        """A socket of type ``kind`` ("PAIR", "REQ") with linger 0."""
        if self.typed:
            classes = {"PAIR": self.module.Pair, "REQ": self.module.Request}
            return classes[kind](context=self.context, linger=0)
        sock = self.context.socket(getattr(self.module, kind))
        sock.linger = 0
        return sock

    def pair(self) -> tuple[Any, Any]:
        """Two PAIR sockets connected over inproc."""
        left = self.socket("PAIR")
        left.bind(f"inproc://gzmq-counting-{os.getpid()}")
        right = self.socket("PAIR")
        right.connect(f"inproc://gzmq-counting-{os.getpid()}")
        return left, right

    def spawn(self, target: Callable[[], None]) -> Callable[[], None]:
        """Run ``target`` in a greenlet (a thread for raw pyzmq); returns its join."""
        if self.contender == "pyzmq":
            import threading

            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            return thread.join
        import gevent

        greenlet = gevent.spawn(target)
        return lambda: greenlet.get()

    def close(self) -> None:
        """Close every socket (linger 0) and the context."""
        if self.typed:
            self.context.close(linger=0)
        else:
            self.context.destroy(linger=0)

    def accelerated(self) -> bool | None:
        """Whether gzmq's C accelerator is in use (None if gzmq was never imported)."""
        gzmq = sys.modules.get("gzmq")
        return None if gzmq is None else bool(gzmq.accelerated)


def _sendrecv(api: _Api, ops: int, endpoint: str | None) -> None:
    left, right = api.pair()
    send, recv = left.send, right.recv
    for _ in range(ops):
        send(PAYLOAD)
        recv()


def _pipe(api: _Api, ops: int, endpoint: str | None) -> None:
    left, right = api.pair()

    def echo() -> None:
        recv, send = right.recv, right.send
        for _ in range(ops):
            send(recv())

    join = api.spawn(echo)
    send, recv = left.send, left.recv
    for _ in range(ops):
        send(PAYLOAD)
        recv()
    join()


def _req(api: _Api, ops: int, endpoint: str | None) -> None:
    if not endpoint:
        raise ValueError("the req case needs the echo process's endpoint")
    req = api.socket("REQ")
    req.connect(endpoint)
    send, recv = req.send, req.recv
    for _ in range(ops):
        send(PAYLOAD)
        recv()


_RUN: dict[str, Callable[[_Api, int, str | None], None]] = {
    "sendrecv": _sendrecv,
    "pipe": _pipe,
    "req": _req,
}


def _echo() -> int:
    import zmq

    ctx = zmq.Context()
    rep = ctx.socket(zmq.REP)
    rep.linger = 0
    rep.bind("tcp://127.0.0.1:*")
    endpoint = rep.getsockopt_string(zmq.LAST_ENDPOINT)
    print(json.dumps({"endpoint": endpoint}), flush=True)
    recv, send = rep.recv, rep.send
    while True:
        request = recv()
        time.sleep(ECHO_DELAY)
        send(request)


def main(argv: list[str]) -> int:
    """``CASE CONTENDER N [ENDPOINT]``, or ``echo``."""
    if argv == ["echo"]:
        return _echo()
    if len(argv) not in (3, 4) or argv[0] not in _RUN or not argv[2].isdigit():
        print(
            "usage: _counting.py CASE CONTENDER N [ENDPOINT] | echo; "
            f"CASE is one of {', '.join(CASES)}",
            file=sys.stderr,
        )
        return 2
    case, contender, ops = argv[0], argv[1], int(argv[2])
    api = _Api(contender)
    try:
        _RUN[case](api, ops, argv[3] if len(argv) == 4 else None)
    finally:
        api.close()
    print(json.dumps({"ops": ops, "accelerated": api.accelerated()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
