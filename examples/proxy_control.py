"""A proxy paused, resumed and terminated from another greenlet, with its statistics.

Run: ``python examples/proxy_control.py``.  One process, a few greenlets, tcp.

    producer PUSH --> [PULL  gzmq.Proxy  PUSH] --> consumer PULL

``gzmq.Proxy`` runs libzmq's own steerable proxy in a thread of gevent's
threadpool: it forwards at libzmq's speed, and ``run()`` blocks only the
greenlet that calls it.  From another greenlet (here, the main one) we
pause it (messages wait in the front socket's queue, none is lost), read
its statistics, resume it (the held messages all come through, in order)
and terminate it.  A ticker greenlet measures the longest gap between its
ticks to show that the hub never stalled meanwhile.
"""

from __future__ import annotations

import time

import gevent

import gzmq
from gzmq.proxy import ProxyStatistics

MESSAGES = 60
INTERVAL = 0.01  # the producer sends one message every 10 ms
PAUSE = 0.3  # how long the proxy stays paused


def describe(stats: ProxyStatistics) -> str:
    """The statistics in one line (libzmq counts frames; here each message is one frame)."""
    front, back = stats.front_end, stats.back_end
    return (
        f"front received {front.received_messages} ({front.received_bytes} B), "
        f"back sent {back.sent_messages} ({back.sent_bytes} B)"
    )


def main() -> None:
    # The proxy's two sockets, bound on ports the system picks.
    front = gzmq.Pull(linger=0)
    front.bind("tcp://127.0.0.1:*")
    back = gzmq.Push(linger=0)
    back.bind("tcp://127.0.0.1:*")
    proxy = gzmq.Proxy(front, back)
    running = gevent.spawn(proxy.run)  # run() blocks this greenlet only, never the hub

    producer = gzmq.Push(linger=0)
    producer.connect(front.last_endpoint)
    consumer = gzmq.Pull(linger=0)
    consumer.connect(back.last_endpoint)

    started = time.monotonic()
    received: list[bytes] = []
    sent = 0
    longest_gap = 0.0

    def produce() -> None:
        nonlocal sent
        for number in range(MESSAGES):
            producer.send(b"message %d" % number)
            sent += 1
            gevent.sleep(INTERVAL)

    def consume() -> None:
        for _ in range(MESSAGES):
            received.append(consumer.recv(timeout=10)[0])

    def tick() -> None:
        # Asks the hub to wake it every 5 ms; a stalled hub would show as a long gap.
        nonlocal longest_gap
        last = time.monotonic()
        while True:
            gevent.sleep(0.005)
            now = time.monotonic()
            longest_gap = max(longest_gap, now - last)
            last = now

    def at() -> str:
        return f"[{time.monotonic() - started:4.2f} s]"

    workers = [gevent.spawn(produce), gevent.spawn(consume)]
    ticker = gevent.spawn(tick)

    # The controller: this greenlet steers the proxy while the others run.
    gevent.sleep(0.2)
    proxy.pause()  # returns once libzmq's proxy has paused
    held_from = proxy.statistics()
    # Let what the proxy forwarded before pausing reach the consumer.
    with gevent.Timeout(10):
        while len(received) < held_from.back_end.sent_messages:
            gevent.sleep(0.01)
    got_before = len(received)
    print(f"{at()} paused after {got_before} messages; {describe(held_from)}")
    gevent.sleep(PAUSE)
    held_to = proxy.statistics()
    read = held_to.front_end.received_messages - held_from.front_end.received_messages
    print(
        f"{at()} while paused for {PAUSE} s: {len(received) - got_before} messages came "
        f"through, the proxy read {read} more"
    )
    waiting = sent - held_to.front_end.received_messages
    proxy.resume()  # returns once libzmq's proxy forwards again
    print(f"{at()} resumed with {waiting} messages waiting in the front socket's queue")
    workers[1].get(timeout=10)  # the consumer has every message
    final = proxy.statistics()
    print(f"{at()} statistics: {describe(final)}")
    proxy.terminate()  # returns at once; run() ends and closes the proxy's sockets
    running.get(timeout=5)
    gevent.killall([*workers, ticker])

    in_order = received == [b"message %d" % n for n in range(MESSAGES)]
    print(f"consumer received {len(received)} of {MESSAGES} messages, in order: {in_order}")
    print(f"proxy sockets closed after terminate(): {front.closed and back.closed}")
    print(f"ticker: longest gap between 5 ms ticks: {longest_gap * 1000:.0f} ms")
    producer.close()
    consumer.close()


if __name__ == "__main__":
    main()
