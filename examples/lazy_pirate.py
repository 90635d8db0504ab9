"""The lazy pirate pattern: reliable requests over REQ to a server that crashes and hangs.

Run: ``python examples/lazy_pirate.py``.  It starts its own flaky echo server
in a subprocess (``python examples/lazy_pirate.py --serve``), which kills
itself with SIGKILL at one request and sits on another for a second; a small
supervisor starts it again whenever it dies, as systemd would.

Why a fresh socket.  A REQ socket strictly alternates send and recv.  When a
reply does not come (the server died, or hangs), ``recv(timeout=...)``
raises ``zmq.Again`` and the socket is stuck: the next ``send()`` raises
EFSM, because libzmq still waits for the old reply.  The lazy pirate gives
up on that socket: it closes it with ``linger=0`` (dropping the request it
still queues), makes a new REQ, connects it to the same endpoint and sends the
request again, a bounded number of times.  libzmq's own reconnection brings
the new socket to the restarted server; a late reply to the old request goes
to the closed socket and is lost, so requests should be idempotent (or carry
an id the server remembers).

(``Request(relaxed=True, correlate=True)`` is libzmq's alternative: the same
socket may resend, and a late reply to an older request is dropped.)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import gevent
import gevent.subprocess
import zmq

import gzmq

REQUEST_TIMEOUT = 0.5  # seconds to wait for a reply before giving the socket up
RETRIES = 5  # attempts per request, each on a fresh socket after the first
REQUESTS = 10
CRASH_AT = 3  # the first server kills itself (SIGKILL) on its 3rd request
STALL_AT = 6  # ... the restarted one takes 1 s over request 6 (its 4th: it got 3 again)

START = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - START:5.2f} s] {text}", flush=True)


class ServerUnavailableError(Exception):
    """No reply after every attempt: the server is down (or too slow)."""


class LazyPirate:
    """A REQ client that survives a dead or hung server: time out, reconnect, resend.

    ``request(body)`` returns the reply frames, or raises ServerUnavailableError
    after ``retries`` attempts of ``timeout`` seconds each.  Only the calling
    greenlet waits.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        timeout: float = REQUEST_TIMEOUT,
        retries: int = RETRIES,
        context: gzmq.Context | None = None,
        log: Callable[[str], object] = say,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.attempts = retries
        self.context = context
        self.log = log
        self.retries = 0  # how many attempts were repeated, in all
        self._socket: gzmq.Request | None = None

    def _fresh_socket(self) -> gzmq.Request:
        # linger=0: closing must not wait for a request the dead server never took.
        socket = gzmq.Request(context=self.context, linger=0, reconnect_interval=100)
        socket.connect(self.endpoint)
        return socket

    def request(self, body: bytes | str) -> list[bytes]:
        """Send ``body`` and return the reply, resending on a fresh socket when none comes."""
        for attempt in range(1, self.attempts + 1):
            if self._socket is None:
                self._socket = self._fresh_socket()
            self._socket.send(body)
            try:
                return self._socket.recv(timeout=self.timeout)
            except zmq.Again:
                # The socket now waits for a reply that may never come: drop it.
                self._socket.close(linger=0)
                self._socket = None
                if attempt < self.attempts:
                    self.retries += 1
                    self.log(
                        f"client: no reply within {self.timeout} s, resending on a fresh "
                        f"socket (attempt {attempt + 1}/{self.attempts})"
                    )
        raise ServerUnavailableError(
            f"no reply from {self.endpoint} after {self.attempts} attempts of {self.timeout} s"
        )

    def close(self) -> None:
        """Close the current socket, if any."""
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None


def serve(port: int, crash_at: int, stall_at: int) -> None:
    """The flaky echo server: SIGKILL itself at request ``crash_at``, stall at ``stall_at``."""
    reply = gzmq.Reply(linger=0)
    reply.bind(f"tcp://127.0.0.1:{port}" if port else "tcp://127.0.0.1:*")
    print(reply.last_endpoint, flush=True)  # the supervisor reads the endpoint
    for number, request in enumerate(reply, 1):
        if number == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if number == stall_at:
            gevent.sleep(2 * REQUEST_TIMEOUT)  # the client gives up on this one
        reply.send(request)


class Supervisor:
    """Start the server; start it again (same port, no more faults) whenever it dies."""

    def __init__(self) -> None:
        self.process = self._start(0, CRASH_AT, 0)
        assert self.process.stdout is not None
        self.endpoint = self.process.stdout.readline().strip()
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self.stopping = False
        self.watcher = gevent.spawn(self._watch)

    @staticmethod
    def _start(port: int, crash_at: int, stall_at: int) -> subprocess.Popen[str]:
        command = [
            sys.executable, __file__, "--serve", str(port),
            "--crash-at", str(crash_at), "--stall-at", str(stall_at),
        ]
        server: subprocess.Popen[str] = gevent.subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True
        )
        return server

    def _watch(self) -> None:
        while not self.stopping:
            code = self.process.wait()
            if self.stopping:
                return
            say(f"supervisor: server crashed (SIGKILL, exit {code}); starting it again")
            self.process = self._start(self.port, 0, STALL_AT - CRASH_AT + 1)
            assert self.process.stdout is not None
            self.process.stdout.readline()  # it listens again

    def stop(self) -> None:
        self.stopping = True
        self.process.kill()
        self.process.wait()
        self.watcher.join(timeout=5)


def main() -> None:
    supervisor = Supervisor()
    say(f"server listening on {supervisor.endpoint}")
    client = LazyPirate(supervisor.endpoint)
    answered = 0
    try:
        for number in range(1, REQUESTS + 1):
            body = f"request {number}"
            reply = client.request(body)
            if reply == [body.encode()]:
                answered += 1
            say(f"client: {body!r} -> {reply[0].decode()!r}")
    finally:
        client.close()
        supervisor.stop()
    say(
        f"{answered}/{REQUESTS} requests answered; {client.retries} attempts were repeated "
        "on a fresh socket"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help="run the flaky server")
    parser.add_argument("--crash-at", type=int, default=0, help="SIGKILL at this request")
    parser.add_argument("--stall-at", type=int, default=0, help="stall at this request")
    arguments = parser.parse_args()
    if arguments.serve is not None:
        serve(arguments.serve, arguments.crash_at, arguments.stall_at)
    else:
        main()
