"""A load-balancing broker whose workers come and go: heartbeats, retries, Observer events.

Run: ``python examples/broker.py``.  One process, one thread, greenlets, tcp.

    client (DEALER) --> front ROUTER [broker] back ROUTER <-- workers (DEALER)

* A worker says READY, then sends a HEARTBEAT every 0.1 s, also while busy.
* The broker is one greenlet waiting on both ROUTERs at once with a
  ``gzmq.Poller``, the front end only while some worker is idle (the
  guide's load-balancing broker).  It hands each request to the worker that
  has been idle longest and forgets a worker it has not heard from for
  0.5 s (it hung), or whose connection is gone (sending to it fails:
  ``mandatory=True``).
* The client gives each request 0.5 s and sends it again if no answer came:
  a request held by a worker that crashed or hung is not lost.
* The broker prints its back-end socket's Observer events (a connection
  accepted, a peer disconnected) as they happen.

Script: workers w1 and w2 start; w3 joins at 0.3 s; w1 crashes at 0.5 s
(its socket closes: a "disconnect" event); w2 hangs at 0.8 s (connected but
silent: its heartbeats stop and the broker expires it); w4 joins at 1.1 s.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque

import gevent
import zmq

import gzmq

HEARTBEAT = 0.1  # seconds between a worker's heartbeats
EXPIRY = 0.5  # a worker silent this long is dead
WORK = 0.05  # seconds a worker takes per request
REQUEST_TIMEOUT = 0.5  # the client retries after this long
REQUESTS = 24

START = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - START:5.2f} s] {text}", flush=True)


class Broker:
    """Front ROUTER for clients, back ROUTER for workers, least-recently-used routing."""

    def __init__(self) -> None:
        self.front = gzmq.Router(linger=0)
        self.front.bind("tcp://127.0.0.1:*")
        # mandatory: sending to a worker whose connection is gone raises EHOSTUNREACH
        self.back = gzmq.Router(linger=0, mandatory=True)
        # Push mode: the Observer calls these from its own greenlet.  Access
        # ``events`` before bind() to see every event.
        self.back.events.on("accept", lambda e: say(f"event: {e} (a worker connected)"))
        self.back.events.on("disconnect", lambda e: say(f"event: {e} (a connection closed)"))
        self.back.bind("tcp://127.0.0.1:*")
        self.idle: OrderedDict[bytes, None] = OrderedDict()  # oldest first
        self.deadline: dict[bytes, float] = {}  # every live worker -> when it expires
        #: Requests read for a worker that turned out to be gone, waiting for the next one.
        self.waiting: deque[list[bytes]] = deque()
        self.greenlets = [gevent.spawn(self.run)]

    def run(self) -> None:
        """Wait on both sockets at once; read requests only while a worker is idle."""
        poller = gzmq.Poller()
        poller.register(self.back, gzmq.POLLIN)
        while True:
            # Registering with 0 flags unregisters: with no idle worker, requests
            # stay queued in the front end (and in the clients) until one is.
            poller.register(self.front, gzmq.POLLIN if self.idle else 0)
            ready = dict(poller.poll(HEARTBEAT * 1000))  # ms, as pyzmq's
            if ready.get(self.back, 0) & gzmq.POLLIN:
                self.from_worker(self.back.recv())
            if ready.get(self.front, 0) & gzmq.POLLIN:
                self.dispatch(self.front.recv())
            self.expire()

    def from_worker(self, message: list[bytes]) -> None:
        """READY, HEARTBEAT or REPLY from a worker."""
        worker, command, *rest = message
        if worker not in self.deadline:
            say(f"broker: worker {worker.decode()} is available")
            self.make_idle(worker)
        self.deadline[worker] = time.monotonic() + EXPIRY
        if command == b"REPLY":
            client, request_id, body = rest
            self.front.send([client, b"", request_id, body])
            self.make_idle(worker)

    def dispatch(self, request: list[bytes]) -> None:
        """Hand a client's request to the longest idle worker (or keep it for the next one)."""
        client, _empty, request_id, body = request
        while self.idle:
            worker, _ = self.idle.popitem(last=False)
            try:
                self.back.send([worker, b"REQUEST", client, request_id, body])
                return
            except zmq.ZMQError as error:
                if error.errno != zmq.EHOSTUNREACH:
                    raise
                self.forget(worker, "is unreachable")
        self.waiting.append(request)

    def expire(self) -> None:
        """Forget workers whose heartbeats stopped."""
        now = time.monotonic()
        for worker, deadline in list(self.deadline.items()):
            if deadline < now:
                self.forget(worker, f"sent no heartbeat for {EXPIRY} s: expired")

    def make_idle(self, worker: bytes) -> None:
        self.idle[worker] = None
        while self.waiting and self.idle:
            self.dispatch(self.waiting.popleft())

    def forget(self, worker: bytes, why: str) -> None:
        self.idle.pop(worker, None)
        if self.deadline.pop(worker, None) is not None:
            say(f"broker: worker {worker.decode()} {why}")

    def close(self) -> None:
        gevent.killall(self.greenlets)
        self.front.close()
        self.back.close()


class Worker:
    """A DEALER worker: one greenlet answers requests, another sends heartbeats."""

    def __init__(self, name: str, endpoint: str) -> None:
        self.name = name
        self.sock = gzmq.Dealer(routing_id=name, linger=0)
        self.sock.connect(endpoint)
        self.sock.send(b"READY")
        self.greenlets = [gevent.spawn(self.serve), gevent.spawn(self.heartbeat)]
        say(f"{name}: started")

    def serve(self) -> None:
        for _command, client, request_id, body in self.sock:  # only REQUESTs come
            gevent.sleep(WORK)
            self.sock.send([b"REPLY", client, request_id, b"%s by %s" % (body, self.name.encode())])

    def heartbeat(self) -> None:
        while True:
            gevent.sleep(HEARTBEAT)
            self.sock.send(b"HEARTBEAT")  # many greenlets may send on one socket

    def crash(self) -> None:
        """Stop and close the socket: the broker sees the connection go."""
        say(f"{self.name}: crashes")
        gevent.killall(self.greenlets)
        self.sock.close()

    def hang(self) -> None:
        """Stop answering and heartbeating, but keep the connection open."""
        say(f"{self.name}: hangs (its connection stays open)")
        gevent.killall(self.greenlets)


def client(endpoint: str, answers: list[bytes]) -> int:
    """Send REQUESTS requests one after another, retrying each until answered; retries."""
    retries = 0
    with gzmq.Dealer(linger=0) as sock:
        sock.connect(endpoint)
        for number in range(REQUESTS):
            request_id = b"%d" % number
            while True:
                sock.send([b"", request_id, b"job %d" % number])
                try:
                    while True:
                        _empty, answered, body = sock.recv(timeout=REQUEST_TIMEOUT)
                        if answered == request_id:
                            break  # else a late answer to an earlier attempt: drop it
                except gzmq.Again:
                    retries += 1
                    say(f"client: no answer to job {number} within {REQUEST_TIMEOUT} s, resending")
                    continue
                answers.append(body)
                break
            gevent.sleep(0.03)
    return retries


def main() -> None:
    broker = Broker()
    endpoint = broker.back.last_endpoint
    workers = {name: Worker(name, endpoint) for name in ("w1", "w2")}
    answers: list[bytes] = []
    requests = gevent.spawn(client, broker.front.last_endpoint, answers)

    gevent.sleep(0.3)
    workers["w3"] = Worker("w3", endpoint)
    gevent.sleep(0.2)
    workers["w1"].crash()
    gevent.sleep(0.3)
    workers["w2"].hang()
    gevent.sleep(0.3)
    workers["w4"] = Worker("w4", endpoint)

    retries = requests.get(timeout=30)
    per_worker = Counter(answer.split()[-1].decode() for answer in answers)
    say(f"all {len(answers)} requests answered ({retries} resent after a worker failed)")
    say(f"answers per worker: {dict(sorted(per_worker.items()))}")
    for worker in workers.values():
        if not worker.sock.closed:
            gevent.killall(worker.greenlets)
            worker.sock.close()
    broker.close()


if __name__ == "__main__":
    main()
