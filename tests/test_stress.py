"""Seeded randomized stress of the cooperative core: no lost, duplicated or torn message."""

from __future__ import annotations

import random
from collections.abc import Callable

import gevent
import pytest
import zmq

import gzmq

PAIRS = [(gzmq.Push, gzmq.Pull), (gzmq.Pair, gzmq.Pair), (gzmq.Dealer, gzmq.Dealer)]


def _message(pair: int, sender: int, seq: int, frames: int) -> list[bytes]:
    key = b"%d.%d.%d" % (pair, sender, seq)
    return [key + b"/%d/%d" % (index, frames) for index in range(frames)]


def _key(message: list[bytes]) -> bytes:
    """The message's identity, after checking it arrived whole and unmixed."""
    key = message[0].partition(b"/")[0]
    total = message[0].rsplit(b"/", 1)[1]
    assert len(message) == int(total), f"torn message {message!r}"
    for index, frame in enumerate(message):
        assert frame == key + b"/%d/%s" % (index, total), f"mixed frames in {message!r}"
    return key


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_randomized_send_recv_close_timeouts(
    seed: int, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """Random sends, receives, timeouts and closes: every message accounted for, in bounded time."""
    rng = random.Random(seed)
    sockets = []
    sent: list[set[bytes]] = []
    received: list[list[bytes]] = []
    closed_mid_flight: list[bool] = []
    senders_done: list[list[gevent.Greenlet]] = []
    receivers: list[gevent.Greenlet] = []

    def sender(pair: int, number: int, sock: gzmq.Socket, count: int) -> None:
        local = random.Random(seed * 1000 + pair * 10 + number)
        seq = 0
        while seq < count:
            message = _message(pair, number, seq, local.randint(1, 4))
            choice = local.random()
            try:
                if choice < 0.2:
                    sock.send(message, timeout=0)
                elif choice < 0.4:
                    sock.send(message, timeout=local.choice([0.001, 0.005]))
                elif choice < 0.5:
                    with gevent.Timeout(0.002, False):
                        sock.send(message)
                        sent[pair].add(message[0].partition(b"/")[0])
                        seq += 1
                    continue
                else:
                    sock.send(message)
            except zmq.Again:
                gevent.sleep(0)
                continue
            except gzmq.SocketClosedError:
                return
            sent[pair].add(message[0].partition(b"/")[0])
            seq += 1
            if local.random() < 0.1:
                gevent.sleep(0)

    def receiver(pair: int, sock: gzmq.Socket) -> None:
        local = random.Random(seed * 7 + pair)
        while True:
            choice = local.random()
            try:
                if choice < 0.3:
                    message = sock.recv(timeout=local.choice([0, 0.001, 0.01]))
                elif choice < 0.4:
                    message = None
                    with gevent.Timeout(0.002, False):
                        message = sock.recv()
                    if message is None:
                        continue
                else:
                    message = sock.recv()
            except zmq.Again:
                continue
            except gzmq.SocketClosedError:
                return
            received[pair].append(_key(message))

    for pair, (send_cls, recv_cls) in enumerate(PAIRS * 2):
        bound = recv_cls(context=context, linger=0, receive_high_water_mark=rng.randint(1, 50))
        bound.bind(endpoint())
        connecting = send_cls(context=context, linger=0, send_high_water_mark=rng.randint(1, 50))
        connecting.connect(bound.last_endpoint)
        sockets.append((connecting, bound))
        sent.append(set())
        received.append([])
        closed_mid_flight.append(rng.random() < 0.3)
        group = [
            gevent.spawn(sender, pair, number, connecting, rng.randint(200, 800))
            for number in range(rng.randint(1, 5))
        ]
        senders_done.append(group)
        receivers.extend(gevent.spawn(receiver, pair, bound) for _ in range(rng.randint(1, 5)))

    def chaos(pair: int) -> None:
        gevent.sleep(rng.uniform(0.01, 0.2))
        for sock in sockets[pair]:
            sock.close()

    chaos_greenlets = [gevent.spawn(chaos, pair) for pair, c in enumerate(closed_mid_flight) if c]
    for group in senders_done:
        gevent.joinall(group, timeout=60, raise_error=True)
        assert all(g.dead for g in group), "a sender hung"
    gevent.joinall(chaos_greenlets, timeout=10, raise_error=True)
    for pair in range(len(sockets)):
        if closed_mid_flight[pair]:
            continue
        deadline = gevent.Timeout(30)
        with deadline:
            while len(received[pair]) < len(sent[pair]):
                gevent.sleep(0.01)
    for connecting, bound in sockets:
        connecting.close()
        bound.close()
    gevent.joinall(receivers, timeout=10, raise_error=True)
    assert all(g.dead for g in receivers), "a receiver hung"
    for pair in range(len(sockets)):
        got = received[pair]
        assert len(got) == len(set(got)), f"pair {pair}: duplicated messages"
        assert set(got) <= sent[pair], f"pair {pair}: received what was never sent"
        if not closed_mid_flight[pair]:
            assert set(got) == sent[pair], f"pair {pair}: lost {len(sent[pair] - set(got))}"
            assert sent[pair], f"pair {pair}: nothing was sent"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", [4, 5])
def test_shared_socket_mixed_sizes_exactly_once(
    seed: int, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """Many receivers on one PULL, single-frame small and large (copy-free) messages and
    multipart ones, random per-call timeouts: every message exactly once and intact."""
    rng = random.Random(seed)
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=rng.randint(1, 20))
    pull.bind(endpoint())
    pushes = [
        gzmq.Push(context=context, linger=0, send_high_water_mark=rng.randint(1, 20))
        for _ in range(3)
    ]
    for push in pushes:
        push.connect(pull.last_endpoint)
    sizes = [0, 10, 1000, 64 * 1024, 200_000]
    sent: dict[bytes, list[bytes]] = {}
    received: list[list[bytes]] = []

    def payload(key: bytes, size: int) -> bytes:
        return (key + b"|" + key * (size // max(1, len(key)) + 1))[:max(size, len(key) + 1)]

    def sender(number: int, push: gzmq.Push) -> None:
        local = random.Random(seed * 100 + number)
        for seq in range(1000):
            key = b"%d.%d" % (number, seq)
            if local.random() < 0.7:
                message = [payload(key, local.choice(sizes))]
                frame_or_frames: object = message[0]  # one bytes frame: the C fast path
            else:
                message = [payload(key, local.choice(sizes)) for _ in range(local.randint(2, 4))]
                frame_or_frames = message
            sent[key] = message
            while True:
                try:
                    if local.random() < 0.2:
                        push.send(frame_or_frames, timeout=local.choice([0, 0.001]))
                    else:
                        push.send(frame_or_frames)
                except zmq.Again:
                    gevent.sleep(0)
                    continue
                break
            if local.random() < 0.05:
                gevent.sleep(0)

    def receiver(number: int) -> None:
        local = random.Random(seed * 1000 + number)
        while True:
            try:
                if local.random() < 0.3:
                    message = pull.recv(timeout=local.choice([0, 0.001, 0.01]))
                else:
                    message = pull.recv()
            except zmq.Again:
                continue
            except gzmq.SocketClosedError:
                return
            received.append(message)

    receivers = [gevent.spawn(receiver, number) for number in range(20)]
    senders = [gevent.spawn(sender, number, push) for number, push in enumerate(pushes)]
    gevent.joinall(senders, timeout=60, raise_error=True)
    assert all(g.dead for g in senders), "a sender hung"
    with gevent.Timeout(30, AssertionError("messages were lost: receivers never got them")):
        while len(received) < len(sent):
            gevent.sleep(0.01)
    pull.close()
    gevent.joinall(receivers, timeout=10, raise_error=True)
    assert all(g.dead for g in receivers), "a receiver hung"
    keys = [message[0].partition(b"|")[0] for message in received]
    assert len(keys) == len(set(keys)), "duplicated messages"
    assert set(keys) == set(sent), "lost or unknown messages"
    for message in received:
        assert message == sent[message[0].partition(b"|")[0]], "a message arrived altered"
