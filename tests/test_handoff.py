"""The hub's hand-off to many parked receivers, and the fairness yield that lets it run.

When a socket becomes readable, the hub receives a message for each parked
receiver in turn (first come, first served) and switches into them one
after the other; a served receiver's next recv() may take the fast path.
These tests look for what such a change could break: a lost, duplicated or
reordered message, a missed wake-up, a receiver that never runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import gevent
import pytest
import zmq

import gzmq
from gzmq._waiting import Waiting

PROMPTLY = 5.0


def _pull_push(
    context: gzmq.Context, address: str, unlimited: bool = False
) -> tuple[gzmq.Pull, gzmq.Push]:
    """A bound PULL and a PUSH connected to it (no high water marks if ``unlimited``)."""
    pull = gzmq.Pull(context=context, linger=0)
    push = gzmq.Push(context=context, linger=0)
    if unlimited:
        pull.receive_high_water_mark = 0
        push.send_high_water_mark = 0
    pull.bind(address)
    push.connect(pull.last_endpoint)
    return pull, push


def _pair_at_hwm_one(context: gzmq.Context, address: str) -> tuple[gzmq.Pair, gzmq.Pair]:
    """A bound PAIR ``near`` and a connected ``far``; near -> far holds one message each side."""
    near = gzmq.Pair(context=context, linger=0)
    far = gzmq.Pair(context=context, linger=0)
    near.send_high_water_mark = 1
    far.receive_high_water_mark = 1
    near.bind(address)
    far.connect(address)
    return near, far


def _number(frame: object) -> int:
    data = frame.bytes if isinstance(frame, zmq.Frame) else frame
    assert isinstance(data, bytes)
    return int(data)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("seed", [1, 2])
def test_many_receivers_each_message_once_in_order(
    seed: int, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """50 receivers (copy and no-copy, some with timeouts) get every message once, each in order."""
    rng = random.Random(seed)
    pull, push = _pull_push(context, endpoint())
    count = 6000
    got: list[list[int]] = [[] for _ in range(50)]
    done = gevent.event.Event()

    def receive(index: int) -> None:
        local = random.Random(seed * 100 + index)
        copy = index % 2 == 0
        mine = got[index]
        while not done.is_set():
            timeout = local.choice([None, None, 0.001, 0.01])
            try:
                message = pull.recv(timeout=timeout, copy=copy)
            except zmq.Again:
                continue
            except gzmq.SocketClosedError:
                return
            assert len(message) == 1
            if not copy:
                assert isinstance(message[0], zmq.Frame)
            number = _number(message[0])
            if number < 0:
                return
            mine.append(number)
            if local.random() < 0.05:
                gevent.sleep(0)

    receivers = [gevent.spawn(receive, index) for index in range(50)]
    gevent.sleep(0.01)  # all parked
    for number in range(count):
        push.send(b"%d" % number)
        if rng.random() < 0.01:
            gevent.sleep(0)
    with gevent.Timeout(30):
        while sum(len(mine) for mine in got) < count:
            gevent.sleep(0.005)
    done.set()
    for _ in receivers:
        push.send(b"-1")
    gevent.joinall(receivers, timeout=PROMPTLY, raise_error=True)
    assert all(receiver.ready() for receiver in receivers)
    everything = sorted(number for mine in got for number in mine)
    assert everything == list(range(count)), "lost or duplicated messages"
    for mine in got:
        assert mine == sorted(mine), "a receiver got messages out of order"
    assert sum(1 for mine in got if mine) > 1, "the other receivers never got a message"


@pytest.mark.parametrize("copy", [True, False])
def test_parked_receivers_are_served_first_come_first_served(
    copy: bool, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """Receivers parked in order r0..r9 get messages 0..9 in that order, in one hand-off."""
    pull, push = _pull_push(context, endpoint())
    results: dict[int, int] = {}

    def receive(index: int) -> None:
        results[index] = _number(pull.recv(copy=copy)[0])

    receivers = []
    for index in range(10):
        receivers.append(gevent.spawn(receive, index))
        gevent.sleep(0)  # r<index> parks before the next one starts
    for number in range(10):
        push.send(b"%d" % number)
    gevent.joinall(receivers, timeout=PROMPTLY, raise_error=True)
    assert results == {index: index for index in range(10)}


def test_served_receiver_may_take_the_fast_path(
    context: gzmq.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receiver served by the hand-off, with no one waiting, receives on without parking."""
    pull, push = _pull_push(context, "inproc://handoff-fast")
    parks = []
    original = Waiting._start_watching

    def counting_start(self: Waiting) -> None:
        # Every park starts the watcher (it stops once nobody waits).
        if self is pull._waiting:
            parks.append(self)
        original(self)

    monkeypatch.setattr(Waiting, "_start_watching", counting_start)
    received: list[int] = []

    def receive() -> None:
        for _ in range(100):
            received.append(_number(pull.recv()[0]))

    receiver = gevent.spawn(receive)
    gevent.sleep(0.01)
    assert len(parks) == 1
    for number in range(100):
        push.send(b"%d" % number)  # fills the queue without a switch
    receiver.get(timeout=PROMPTLY)
    assert received == list(range(100))
    assert len(parks) == 1, "the served receiver parked again although messages were queued"


def test_readiness_waiter_among_receivers_is_woken(context: gzmq.Context) -> None:
    """A wait_readable() waiter queued between receivers is woken and does not block the queue."""
    pull, push = _pull_push(context, "inproc://handoff-ready")
    waiting = pull._waiting
    order: list[str] = []

    def receive(name: str) -> None:
        pull.recv()
        order.append(name)

    def ready() -> None:
        assert waiting.wait_readable(None)
        order.append("ready")

    first = gevent.spawn(receive, "first")
    gevent.sleep(0)
    waiter = gevent.spawn(ready)
    gevent.sleep(0)
    second = gevent.spawn(receive, "second")
    gevent.sleep(0.01)
    for _ in range(3):
        push.send(b"x")
    gevent.joinall([first, waiter, second], timeout=PROMPTLY, raise_error=True)
    assert sorted(order) == ["first", "ready", "second"]
    assert order[0] == "first"
    assert pull.recv(timeout=1) == [b"x"]  # the readiness waiter consumed nothing


def test_close_by_a_served_receiver_ends_every_receiver(context: gzmq.Context) -> None:
    """A served receiver that closes the socket: the others end promptly, no message twice."""
    pull, push = _pull_push(context, "inproc://handoff-close")
    outcome: dict[int, object] = {}

    def receive(index: int) -> None:
        try:
            outcome[index] = _number(pull.recv()[0])
        except gzmq.SocketClosedError as error:
            outcome[index] = error
            return
        if index == 0:
            pull.close()

    receivers = []
    for index in range(5):
        receivers.append(gevent.spawn(receive, index))
        gevent.sleep(0)
    for number in range(3):
        push.send(b"%d" % number)
    gevent.joinall(receivers, timeout=PROMPTLY)
    assert all(receiver.ready() for receiver in receivers)
    numbers = [value for value in outcome.values() if isinstance(value, int)]
    assert outcome[0] == 0
    assert sorted(numbers) == sorted(set(numbers))
    assert len(outcome) == 5


def test_receiver_interrupted_after_hand_off_passes_its_message_on(
    context: gzmq.Context,
) -> None:
    """A served receiver interrupted before it runs: the next recv() gets its message."""
    pull, push = _pull_push(context, "inproc://handoff-orphan")
    log: list[object] = []

    class InterruptError(Exception):
        pass

    def second() -> None:
        try:
            pull.recv()
        except InterruptError:
            log.append("second interrupted")
        # Back to the first receiver, which threw into us synchronously.
        first_glet.switch()

    def first() -> None:
        log.append(pull.recv()[0])
        second_glet.throw(InterruptError)  # while second holds the message handed to it
        log.append(pull.recv(timeout=1)[0])

    first_glet = gevent.spawn(first)
    gevent.sleep(0)
    second_glet = gevent.spawn(second)
    gevent.sleep(0.01)
    push.send(b"one")
    push.send(b"two")
    first_glet.get(timeout=PROMPTLY)
    assert log == [b"one", "second interrupted", b"two"]
    assert pull._waiting._held == 0
    push.send(b"three")
    assert pull.recv(timeout=1) == [b"three"]


def test_timeouts_and_kills_during_hand_off_lose_nothing(context: gzmq.Context) -> None:
    """Receivers killed or timing out while others are served: every message is received once."""
    pull, push = _pull_push(context, "inproc://handoff-kill")
    rng = random.Random(7)
    got: list[int] = []
    count = 3000

    def receive() -> None:
        while True:
            try:
                message = pull.recv(timeout=rng.choice([None, 0.0005, 0.002]))
            except zmq.Again:
                continue
            got.append(_number(message[0]))  # no switch between recv() and this

    receivers = [gevent.spawn(receive) for _ in range(20)]
    gevent.sleep(0.01)
    for number in range(count):
        push.send(b"%d" % number)
        if number % 97 == 0:
            gevent.sleep(0)
            victim = rng.randrange(len(receivers))
            receivers[victim].kill(block=False)
            receivers[victim] = gevent.spawn(receive)
    with gevent.Timeout(20):
        while len(got) < count:
            gevent.sleep(0.005)
    gevent.killall(receivers)
    assert sorted(got) == list(range(count))


@pytest.mark.parametrize("size", [64, 64 * 1024])
def test_fairness_yield_lets_a_parked_reader_run(size: int, context: gzmq.Context) -> None:
    """A sender that never blocks (no HWM) yields so that the parked reader runs before it ends."""
    pull, push = _pull_push(context, f"inproc://handoff-fair-{size}", unlimited=True)
    count = 3000 if size == 64 else 200
    progress: list[int] = []
    sent = [0]

    def receive() -> None:
        for _ in range(count):
            pull.recv()
            progress.append(sent[0])

    def send() -> None:
        payload = b"x" * size
        for _ in range(count):
            push.send(payload)
            sent[0] += 1

    receiver = gevent.spawn(receive)
    gevent.sleep(0.01)
    sender = gevent.spawn(send)
    gevent.joinall([receiver, sender], timeout=PROMPTLY, raise_error=True)
    assert len(progress) == count
    assert progress[0] < count, "the reader ran only after the sender had finished"


@pytest.mark.timeout(60)
def test_sender_and_receiver_parked_on_one_socket_both_progress(
    endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """A socket with a sender and a receiver parked at once (small HWMs): every message arrives."""
    near = gzmq.Pair(context=context, linger=0)
    far = gzmq.Pair(context=context, linger=0)
    for sock in (near, far):
        sock.send_high_water_mark = 2
        sock.receive_high_water_mark = 2
    near.bind(endpoint())
    far.connect(near.last_endpoint)
    count = 3000
    back: list[int] = []

    def send() -> None:
        for number in range(count):
            near.send(b"%d" % number)

    def receive() -> None:
        for _ in range(count):
            back.append(_number(near.recv()[0]))

    def echo() -> None:
        for _ in range(count):
            far.send(far.recv())

    tasks = [gevent.spawn(receive), gevent.spawn(send), gevent.spawn(echo)]
    gevent.joinall(tasks, timeout=30, raise_error=True)
    assert all(task.ready() for task in tasks), "a parked greenlet was never woken"
    assert back == list(range(count))


@pytest.mark.parametrize("first", ["recv", "send"])
def test_failed_call_does_not_swallow_the_other_directions_wake_up(
    first: str, context: gzmq.Context
) -> None:
    """A receive (send) that fails and parks passes on the edge a parked sender (receiver) needs."""
    near, far = _pair_at_hwm_one(context, f"inproc://handoff-edge-{first}")
    if first == "recv":
        # A sender parks on near (its queue is full) ...
        progress = [0]

        def send() -> None:
            while True:
                near.send(b"x")
                progress[0] += 1

        sender = gevent.spawn(send)
        gevent.sleep(0.05)
        before = progress[0]
        # ... the peer drains it without a switch (libzmq tells near: room again) ...
        drained = 0
        while True:
            try:
                far.recv(timeout=0)
                drained += 1
            except zmq.Again:
                break
        assert drained
        # ... and a receiver on near fails first, consuming that signal.
        receiver = gevent.spawn(near.recv, timeout=2)
        gevent.sleep(0.2)
        moved = progress[0] - before
        sender.kill()
        receiver.kill()
        assert moved > 0, "the parked sender was not woken"
    else:
        # A receiver parks on near (nothing to read) ...
        got: list[list[bytes]] = []
        receiver = gevent.spawn(lambda: got.append(near.recv()))
        gevent.sleep(0.05)
        # ... far sends without a switch (libzmq tells near: something to read) ...
        far.send(b"hello")
        # ... and a sender on near, whose peer's queue is full, fails first.
        near_full = 0
        while True:
            try:
                near.send(b"fill", timeout=0)
                near_full += 1
            except zmq.Again:
                break
        sender = gevent.spawn(near.send, b"more", timeout=2)
        gevent.sleep(0.2)
        sender.kill()
        receiver.kill()
        assert got == [[b"hello"]], "the parked receiver was not woken"


# -- the multipart fast path (send of a list or tuple of bytes) ---------------------


@pytest.mark.parametrize(
    "message",
    [[b"a"], [b"a", b"", b"c" * 1000], (b"t1", b"t2"), [b"x", "text", None, bytearray(b"y")]],
)
def test_list_and_tuple_messages_arrive_whole(
    message: list[Any] | tuple[Any, ...], endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """A list or tuple message (bytes or other frame types) arrives whole, frames in order."""
    near = gzmq.Dealer(context=context, linger=0)
    far = gzmq.Dealer(context=context, linger=0)
    near.bind(endpoint())
    far.connect(near.last_endpoint)
    expected = [
        frame.encode() if isinstance(frame, str) else bytes(frame or b"") for frame in message
    ]
    for _ in range(3):
        far.send(message)
        assert near.recv(timeout=PROMPTLY) == expected


def test_list_send_waits_for_room_then_goes_whole(context: gzmq.Context) -> None:
    """A list send on a full socket parks, then sends the whole message once there is room."""
    near, far = _pair_at_hwm_one(context, "inproc://handoff-list-full")
    filled = 0
    while True:
        try:
            near.send([b"fill", b"%d" % filled], timeout=0)
            filled += 1
        except zmq.Again:
            break
    sender = gevent.spawn(near.send, [b"last", b"one", b"two"])
    gevent.sleep(0.05)
    assert not sender.ready(), "a send to a full socket did not wait"
    received = [far.recv(timeout=PROMPTLY) for _ in range(filled + 1)]
    sender.get(timeout=PROMPTLY)
    assert received[:filled] == [[b"fill", b"%d" % number] for number in range(filled)]
    assert received[filled] == [b"last", b"one", b"two"]
