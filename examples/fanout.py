"""Pub/sub fan-out: many subscribers keep up, a slow one loses messages at its high-water mark.

Run: ``python examples/fanout.py``.  One process, one thread, greenlets.

A PUB socket never waits for a slow subscriber: each subscriber has its own
queue, bounded by the high-water marks (HWM), and when that queue is full
new messages *for that subscriber only* are dropped.  Over inproc the
queue between PUB and one SUB holds the publisher's ``send_high_water_mark``
plus that subscriber's ``receive_high_water_mark`` messages.

Here ten subscribers read as fast as messages come and receive every one;
an eleventh handles one message every 2 ms, so its queue (100 + 100
messages) fills and it sees gaps, while the publisher and the others never
slow down.
"""

from __future__ import annotations

import itertools
import time

import gevent
from gevent.event import Event

import gzmq

MESSAGES = 5000  # published after the warm-up
FAST = 10  # subscribers that keep up
BATCH = 50  # the publisher pauses for 5 ms after each batch
ENDPOINT = "inproc://fanout-example"


def fast_subscriber(sub: gzmq.Subscriber, ready: Event, counts: list[int]) -> None:
    """Count data messages until the last sequence number arrives."""
    for topic, body in sub:
        if topic == b"warmup":
            ready.set()
            continue
        counts.append(int(body))
        if int(body) == MESSAGES - 1:
            return


def slow_subscriber(sub: gzmq.Subscriber, ready: Event, got: list[int]) -> None:
    """Handle one message every 2 ms; stop after 0.5 s without any message."""
    while True:
        try:
            topic, body = sub.recv(timeout=0.5)
        except gzmq.Again:
            return
        if topic == b"warmup":
            ready.set()
            continue
        got.append(int(body))
        gevent.sleep(0.002)  # the "slow work"


def main() -> None:
    # The publisher's own queue per subscriber is 100 messages.
    pub = gzmq.Publisher(send_high_water_mark=100, linger=0)
    pub.bind(ENDPOINT)

    # Fast subscribers keep the default receive HWM (1000); the slow one 100.
    subs = [gzmq.Subscriber(linger=0) for _ in range(FAST)]
    slow = gzmq.Subscriber(receive_high_water_mark=100, linger=0)
    for sub in [*subs, slow]:
        sub.connect(ENDPOINT)
        sub.subscribe()  # everything

    ready = [Event() for _ in range(FAST + 1)]
    counts: list[list[int]] = [[] for _ in range(FAST)]
    slow_got: list[int] = []
    readers = [
        gevent.spawn(fast_subscriber, sub, ready[i], counts[i]) for i, sub in enumerate(subs)
    ]
    readers.append(gevent.spawn(slow_subscriber, slow, ready[FAST], slow_got))

    # Subscriptions travel to the publisher asynchronously ("slow joiner"):
    # publish warm-up messages until every subscriber has seen one.
    while not all(event.is_set() for event in ready):
        pub.send([b"warmup", b""])
        gevent.sleep(0.01)

    started = time.monotonic()
    for number in range(MESSAGES):
        pub.send([b"data", b"%d" % number])  # never blocks: PUB drops instead
        if number % BATCH == BATCH - 1:
            gevent.sleep(0.005)  # a steady rate: 10,000 messages/s
    published = time.monotonic() - started
    print(f"published {MESSAGES} messages in {published:.2f} s, never waiting for a subscriber")

    gevent.joinall(readers, timeout=20, raise_error=True)

    complete = sum(1 for got in counts if got == list(range(MESSAGES)))
    print(f"fast subscribers: {complete} of {FAST} received all {MESSAGES} messages in order")
    gaps = sum(1 for a, b in itertools.pairwise(slow_got) if b != a + 1)
    print(
        f"slow subscriber: received {len(slow_got)} of {MESSAGES}, "
        f"{MESSAGES - len(slow_got)} dropped at its high-water mark ({gaps} gaps in the sequence)"
    )
    for sock in [pub, *subs, slow]:
        sock.close()


if __name__ == "__main__":
    main()
