"""An HTTP gateway: gevent.pywsgi turns HTTP requests into ZeroMQ requests to a pool of workers.

Run: ``python examples/gateway.py``.  One process, one thread, greenlets.

    HTTP clients --> pywsgi (one greenlet per request)
                       |  one shared DEALER, replies matched by request id
                       v
                     broker: ROUTER (front) <-> DEALER (back)
                       |  the DEALER spreads requests over the workers
                       v
                     4 REP workers, each taking 0.1 s per request

Every request handler blocks in ``AsyncResult.get()`` waiting for its reply,
and every worker blocks in ``recv()``; each blocks only its own greenlet, so
the gateway serves 20 concurrent HTTP requests with 4 workers in about
20 / 4 x 0.1 s = 0.5 s.  The example sends its own HTTP requests
concurrently, prints the answers and exits.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import gevent
import gevent.socket
from gevent.event import AsyncResult
from gevent.pywsgi import WSGIServer

import gzmq

WORKERS = 4
REQUESTS = 20
WORK_SECONDS = 0.1


def worker(name: str, endpoint: str) -> None:
    """A REP worker: answer each request after WORK_SECONDS of 'work'."""
    with gzmq.Reply(linger=0) as rep:
        rep.connect(endpoint)
        for request_id, body in rep:
            gevent.sleep(WORK_SECONDS)  # pretend to compute
            rep.send([request_id, b"%s handled %s" % (name.encode(), body)])


def broker(front: gzmq.Router, back: gzmq.Dealer) -> None:
    """Forward whole messages both ways, in two greenlets, until the sockets close."""

    def forward(source: gzmq.Router | gzmq.Dealer, sink: gzmq.Router | gzmq.Dealer) -> None:
        for message in source:  # ends when the socket is closed
            sink.send(message)

    gevent.joinall([gevent.spawn(forward, front, back), gevent.spawn(forward, back, front)])


class Gateway:
    """The WSGI application: one DEALER shared by all request greenlets."""

    def __init__(self, endpoint: str) -> None:
        self.dealer = gzmq.Dealer(linger=0)
        self.dealer.connect(endpoint)
        self.pending: dict[bytes, AsyncResult] = {}
        self.ids = itertools.count()
        self.reader = gevent.spawn(self.read_replies)

    def read_replies(self) -> None:
        """Hand each reply to the greenlet that waits for it."""
        for _empty, request_id, body in self.dealer:
            waiter = self.pending.pop(request_id, None)
            if waiter is not None:  # else: that request gave up already
                waiter.set(body)

    def ask(self, body: bytes, timeout: float) -> bytes:
        """Send one request through the broker and wait (this greenlet only) for its reply."""
        request_id = b"%d" % next(self.ids)
        waiter = self.pending[request_id] = AsyncResult()
        # The empty frame makes the envelope look like a REQ socket's, as the REP workers expect.
        self.dealer.send([b"", request_id, body])
        try:
            reply: bytes = waiter.get(timeout=timeout)
            return reply
        finally:
            self.pending.pop(request_id, None)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ["PATH_INFO"].encode()
        try:
            status, body = "200 OK", self.ask(path, timeout=5)
        except gevent.Timeout:
            status, body = "504 Gateway Timeout", b"no worker answered in time"
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    def close(self) -> None:
        self.dealer.close()  # read_replies() ends
        self.reader.join(1)


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """A tiny cooperative HTTP/1.0 client on gevent's sockets: (status, body)."""
    with gevent.socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def main() -> None:
    front = gzmq.Router(linger=0)
    front.bind("tcp://127.0.0.1:*")
    back = gzmq.Dealer(linger=0)
    events = back.events  # observe before bind(), to see every event
    back.bind("tcp://127.0.0.1:*")
    broker_greenlet = gevent.spawn(broker, front, back)
    workers = [gevent.spawn(worker, f"worker-{n}", back.last_endpoint) for n in range(WORKERS)]

    gateway = Gateway(front.last_endpoint)
    server = WSGIServer(("127.0.0.1", 0), gateway, log=None)
    server.start()
    print(
        f"gateway listening on http://127.0.0.1:{server.server_port}/, broker {front.last_endpoint}"
    )
    # Wait until every worker has connected, so that the DEALER spreads over all of them.
    handshakes = 0
    while handshakes < WORKERS:
        if events.recv(timeout=5).type == "handshake":
            handshakes += 1
    events.close()
    print(f"{handshakes} workers connected")

    started = time.monotonic()
    calls = [gevent.spawn(http_get, server.server_port, f"/job/{n}") for n in range(REQUESTS)]
    gevent.joinall(calls, raise_error=True)
    elapsed = time.monotonic() - started

    answers = [call.value for call in calls]
    for status, body in answers:
        print(f"  {status} {body.decode()}")
    ok = sum(1 for status, _ in answers if status == 200)
    per_worker = Counter(body.split()[0].decode() for _, body in answers)
    print(
        f"{ok}/{REQUESTS} HTTP requests answered in {elapsed:.2f} s "
        f"(one at a time would take {REQUESTS * WORK_SECONDS:.1f} s)"
    )
    print("requests per worker:", dict(sorted(per_worker.items())))

    server.stop()
    gateway.close()
    front.close()
    back.close()  # the broker and the workers' loops end
    broker_greenlet.join(1)
    gevent.killall(workers)


if __name__ == "__main__":
    main()
