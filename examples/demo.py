"""A short tour of gzmq: many greenlets on one socket, pub/sub, timeouts.

Run: ``python examples/demo.py``.  Everything runs in one process over tcp
and inproc; it prints what happened and exits 0.
"""

from __future__ import annotations

import time

import gevent

import gzmq


def many_clients_one_server() -> None:
    """100 greenlets share one DEALER; a ROUTER echoes; each gets its own reply."""
    with gzmq.Router(linger=0) as server, gzmq.Dealer(linger=0) as client:
        server.bind("tcp://127.0.0.1:*")
        client.connect(server.last_endpoint)

        def echo() -> None:
            for routing_id, *body in server:
                server.send([routing_id, *body])

        replies: list[bytes] = []

        def ask(number: int) -> None:
            client.send(b"%d" % number)

        def collect() -> None:
            for _ in range(100):
                replies.extend(client.recv(timeout=5))

        echoer = gevent.spawn(echo)
        collector = gevent.spawn(collect)  # many greenlets may wait in recv()
        gevent.joinall([gevent.spawn(ask, n) for n in range(100)])
        collector.get(timeout=10)
        server.close()
        echoer.join(1)
        print(f"router/dealer: {len(replies)} replies, all distinct: {len(set(replies)) == 100}")


def publish_subscribe() -> None:
    """A subscriber filters by prefix; iteration ends when the socket closes."""
    with gzmq.Publisher(linger=0) as pub, gzmq.Subscriber(linger=0) as sub:
        pub.bind("inproc://demo-pubsub")
        sub.connect("inproc://demo-pubsub")
        sub.subscribe("weather")
        got: list[list[bytes]] = []

        def listen() -> None:
            for message in sub:
                got.append(message)

        listener = gevent.spawn(listen)
        gevent.sleep(0.05)
        for topic in ("weather", "sports", "weather"):
            pub.send([topic, b"report"])
        gevent.sleep(0.05)
        sub.close()
        listener.join(1)
        print(f"pub/sub: received {[frames[0].decode() for frames in got]}")


def timeouts_and_heartbeat() -> None:
    """recv(timeout=) raises zmq.Again; a ticking greenlet never stalls meanwhile."""
    ticks: list[float] = []
    def tick() -> None:
        for _ in range(20):
            gevent.sleep(0.01)
            ticks.append(time.monotonic())

    ticker = gevent.spawn(tick)
    with gzmq.Pull(linger=0) as pull:
        pull.bind("inproc://demo-timeout")
        try:
            pull.recv(timeout=0.15)
        except gzmq.Again:
            print(f"timeout: zmq.Again after 0.15 s; a ticker ticked {len(ticks)} times meanwhile")
    ticker.kill()


if __name__ == "__main__":
    print(f"gzmq {gzmq.__version__} on libzmq {gzmq.version}")
    many_clients_one_server()
    publish_subscribe()
    timeouts_and_heartbeat()
