"""A legacy WSGI application that talks to a slow ZeroMQ back end with plain ``import zmq``.

Nothing in the application knows about gevent or gzmq: each ``/work``
request opens a REQ socket, sends the query, blocks in ``recv()`` for the
answer and closes the socket, as much pyzmq code does.  Served by a gevent
server as it is, every blocked ``recv()`` stops the whole process, so
requests are handled one at a time and ``/health`` waits behind them.  Run
under ``gzmq.monkey`` the same code blocks only its own greenlet::

    # the back end (plain pyzmq, answers each request after --delay seconds)
    python examples/legacy_app.py backend tcp://127.0.0.1:5555 --delay 0.2

    # the application, patched, with gevent's WSGI server
    LEGACY_APP_BACKEND=tcp://127.0.0.1:5555 \\
        python -m gzmq.monkey examples/legacy_app.py serve --port 8000

    # or with gunicorn's gevent worker
    LEGACY_APP_BACKEND=tcp://127.0.0.1:5555 \\
        python -m gzmq.monkey -m gunicorn -k gevent --chdir examples legacy_app:application

Endpoints: ``/work?q=TEXT`` (asks the back end; 200 with its answer, 504 if
it does not answer within 10 s) and ``/health`` (200 at once).
"""

from __future__ import annotations

import argparse
import heapq
import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import zmq

BACKEND = os.environ.get("LEGACY_APP_BACKEND", "tcp://127.0.0.1:5555")


def ask_backend(query: str) -> str:
    """One blocking request/reply with the back end, the way legacy pyzmq code does it."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
    sock = context.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10_000)
    sock.connect(BACKEND)
    try:
        sock.send_string(query)
        reply: str = sock.recv_string()
        return reply
    finally:
        sock.close()


def application(
    environ: dict[str, Any], start_response: Callable[[str, list[tuple[str, str]]], Any]
) -> Iterable[bytes]:
    """The WSGI application."""
    path = environ.get("PATH_INFO", "/")
    if path == "/health":
        status, body = "200 OK", "ok"
    elif path == "/work":
        query = parse_qs(environ.get("QUERY_STRING", "")).get("q", [""])[0]
        try:
            status, body = "200 OK", ask_backend(query)
        except zmq.Again:
            status, body = "504 Gateway Timeout", "the back end did not answer"
    else:
        status, body = "404 Not Found", "not found"
    data = body.encode("utf-8")
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    )
    return [data]


def backend(endpoint: str, delay: float) -> None:
    """Answer each request ``delay`` seconds after it arrives, many at a time (plain pyzmq).

    Prints the bound endpoint on the first line of stdout.
    """
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.bind(endpoint)
    print(router.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    poller = zmq.Poller()
    poller.register(router, zmq.POLLIN)
    pending: list[tuple[float, int, list[bytes]]] = []
    count = 0
    while True:
        timeout = None
        if pending:
            timeout = max(0, int((pending[0][0] - time.monotonic()) * 1000))
        if poller.poll(timeout):
            while True:
                try:
                    frames = router.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                count += 1
                heapq.heappush(pending, (time.monotonic() + delay, count, frames))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, frames = heapq.heappop(pending)
            *envelope, body = frames
            router.send_multipart([*envelope, b"done:" + body])


def serve(port: int) -> None:
    """Serve the application with gevent's WSGI server; print the port on stdout."""
    from gevent.pywsgi import WSGIServer

    server = WSGIServer(("127.0.0.1", port), application, log=None)
    server.start()
    print(f"listening on {server.server_port}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A legacy pyzmq WSGI app and its back end.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_backend = commands.add_parser("backend", help="run the slow ZeroMQ back end")
    run_backend.add_argument("endpoint", help="where to bind, e.g. tcp://127.0.0.1:*")
    run_backend.add_argument("--delay", type=float, default=0.2, help="seconds per answer")
    run_server = commands.add_parser("serve", help="serve the app with gevent.pywsgi")
    run_server.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    args = parser.parse_args(argv)
    if args.command == "backend":
        backend(args.endpoint, args.delay)
    else:
        serve(args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
