"""A legacy pyzmq application made cooperative by ``gzmq.monkey.patch()``, start to finish.

Run: ``python examples/legacy_demo.py``.

``examples/legacy_app.py`` is an ordinary WSGI application written with
plain ``import zmq``: each ``/work`` request blocks in ``sock.recv()`` until
a slow back end answers.  This script:

1. starts that back end (plain pyzmq, in a subprocess; 0.2 s per answer);
2. serves the unchanged application with gevent's WSGI server in this
   process, *without* patching, and sends it 5 requests at once: every
   ``recv()`` blocks the whole process, so they are answered one after the
   other (about 5 x 0.2 s);
3. calls ``gzmq.monkey.patch()`` and does the same again: now ``recv()``
   blocks only its request's greenlet, so all 5 are answered in about 0.2 s.

The application's code is the same in both runs; only ``patch()`` differs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import gevent
import gevent.socket
import zmq
from gevent.pywsgi import WSGIServer

from gzmq import monkey

HERE = Path(__file__).resolve().parent
REQUESTS = 5
DELAY = 0.2


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """A tiny cooperative HTTP/1.0 client on gevent's sockets: (status, body)."""
    with gevent.socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def serve_and_ask(application: object, label: str) -> float:
    """Serve ``application``, send REQUESTS concurrent /work requests, return the seconds taken."""
    server = WSGIServer(("127.0.0.1", 0), application, log=None)
    server.start()
    started = time.monotonic()
    calls = [gevent.spawn(http_get, server.server_port, f"/work?q=job{n}") for n in range(REQUESTS)]
    gevent.joinall(calls, raise_error=True)
    elapsed = time.monotonic() - started
    server.stop()
    answers = [body.decode() for status, body in (call.value for call in calls) if status == 200]
    print(f"{label}: {len(answers)}/{REQUESTS} answered in {elapsed:.2f} s: {', '.join(answers)}")
    return elapsed


def main() -> None:
    # 1. The back end: plain blocking pyzmq in another process; it prints its endpoint.
    backend = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "legacy_app.py"),
            "backend",
            "tcp://127.0.0.1:*",
            "--delay",
            str(DELAY),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        endpoint = backend.stdout.readline().strip() if backend.stdout else ""
        if not endpoint.startswith("tcp://"):
            raise RuntimeError("the back end did not start")
        print(f"back end at {endpoint}, {DELAY} s per answer")
        os.environ["LEGACY_APP_BACKEND"] = endpoint  # legacy_app reads it on import

        sys.path.insert(0, str(HERE))
        import legacy_app  # after the environment is set

        # 2. Unpatched: pyzmq's recv() blocks the hub, so requests wait in line.
        serial = serve_and_ask(legacy_app.application, "plain pyzmq  ")

        # 3. Patched: the same code, now cooperative.  Patch before any pyzmq
        # context exists (else gzmq warns): end the one the plain run made.
        zmq.Context.instance().term()
        monkey.patch()
        print(f"gzmq.monkey.patch(): zmq.Context is gzmq's now: {monkey.is_patched('Context')}")
        concurrent = serve_and_ask(legacy_app.application, "gzmq patched ")
        print(
            f"patched, the same {REQUESTS} requests took {concurrent:.2f} s instead of "
            f"{serial:.2f} s: they waited for the back end at the same time"
        )
    finally:
        backend.kill()
        backend.wait()


if __name__ == "__main__":
    main()
