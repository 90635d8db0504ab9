"""A real application under gzmq.monkey: examples/legacy_app.py with pywsgi and gunicorn.

The app uses plain ``import zmq`` (a blocking REQ per request) against a
back end that answers each request 0.2 s after it arrives.  Patched, 200
concurrent requests all succeed and ``/health`` stays responsive; the same
app unpatched handles its requests one at a time, which the test measures.
"""

from __future__ import annotations

import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import gevent.socket
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
APP = EXAMPLES / "legacy_app.py"
DELAY = 0.2  # seconds the back end takes per request


@contextmanager
def running(
    command: list[str], ready: str, env: dict[str, str] | None = None
) -> Iterator[re.Match[str]]:
    """Run ``command`` until the block ends; yield the match of ``ready`` in its output."""
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"{command} did not print {ready!r} in 30 s: {''.join(seen)}"
                ) from None
            seen.append(line)
            match = re.search(ready, line)
            if match:
                break
        yield match
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    """The slow ZeroMQ back end, in its own process; yields its endpoint."""
    with running(
        [sys.executable, str(APP), "backend", "tcp://127.0.0.1:*", "--delay", str(DELAY)],
        r"^(tcp://\S+)",
    ) as match:
        yield match.group(1)


def http_get(port: int, path: str) -> tuple[int, str]:
    """GET ``path`` (HTTP/1.1, Connection: close) with gevent sockets; (status, body)."""
    sock = gevent.socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        sock.close()
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode()


@dataclass
class Load:
    """What a burst of concurrent /work requests measured."""

    seconds: float = 0.0
    answers: list[tuple[int, str]] = field(default_factory=list)
    health: list[float] = field(default_factory=list)


def burst(port: int, count: int) -> Load:
    """Send ``count`` concurrent /work requests; probe /health every 50 ms meanwhile."""
    load = Load()
    start = time.monotonic()
    workers = [gevent.spawn(http_get, port, f"/work?q={number}") for number in range(count)]

    def probe() -> None:
        while not all(worker.ready() for worker in workers):
            begin = time.monotonic()
            status, body = http_get(port, "/health")
            assert (status, body) == (200, "ok")
            load.health.append(time.monotonic() - begin)
            gevent.sleep(0.05)

    prober = gevent.spawn(probe)
    gevent.joinall(workers, timeout=120, raise_error=True)
    load.seconds = time.monotonic() - start
    prober.get(timeout=60)
    load.answers = [worker.value for worker in workers]
    return load


def serve_command(server: str, patched: bool) -> tuple[list[str], str]:
    """The command line that serves the app, and the regex that gives its port."""
    prefix = [sys.executable, "-m", "gzmq.monkey"] if patched else [sys.executable]
    if server == "pywsgi":
        return [*prefix, str(APP), "serve", "--port", "0"], r"listening on (\d+)"
    options = ["-k", "gevent", "-w", "1", "-b", "127.0.0.1:0", "--chdir", str(EXAMPLES)]
    return [
        *prefix,
        "-m",
        "gunicorn",
        *options,
        "legacy_app:application",
    ], r"Listening at: \S+:(\d+)"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("server", ["pywsgi", "gunicorn"])
def test_legacy_app_concurrent_when_patched_serial_when_not(server: str, backend: str) -> None:
    """Patched: 200 concurrent requests succeed and /health stays fast; unpatched: one at a time."""
    if server == "gunicorn":
        pytest.importorskip("gunicorn", reason="gunicorn is in the test extra")
    env = {"LEGACY_APP_BACKEND": backend}

    command, ready = serve_command(server, patched=True)
    with running(command, ready, env) as match:
        port = int(match.group(1))
        http_get(port, "/health")  # the worker is up
        many = burst(port, 200)
        few_patched = burst(port, 10)
    assert many.answers == [(200, f"done:{number}") for number in range(200)]
    assert many.health, "no /health probe completed during the burst"
    assert statistics.median(many.health) < 0.5, f"/health latencies {many.health}"
    # 200 requests at 0.2 s each take 40 s one at a time; concurrently about 0.2 s.
    assert many.seconds < 20, f"200 patched requests took {many.seconds:.1f} s"

    command, ready = serve_command(server, patched=False)
    with running(command, ready, env) as match:
        port = int(match.group(1))
        http_get(port, "/health")
        few_unpatched = burst(port, 10)
    assert few_unpatched.answers == [(200, f"done:{number}") for number in range(10)]
    # Unpatched, each blocked recv() stops the whole server for DELAY seconds.
    assert few_unpatched.seconds >= 0.8 * 10 * DELAY, few_unpatched
    assert max(few_unpatched.health, default=0.0) >= 0.75 * DELAY, few_unpatched
    assert few_patched.seconds < few_unpatched.seconds / 2, (few_patched, few_unpatched)
