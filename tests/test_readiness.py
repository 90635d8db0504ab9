"""readable / writable are live readiness, as zeromq.js defines them (DESIGN §2.1, issue 16).

``readable``: a message can be received right now (the next recv() returns
at once); ``writable``: a message can be queued right now.  Both are False
when the socket is closed or its class cannot do it, consume nothing, and
lose no wake-up of a greenlet parked on the socket: the stress tests read
them in a loop while greenlets wait in recv()/send(), in both modes of the
core (C accelerator and pure Python, the latter in a subprocess).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import gevent
import pytest
import zmq

import gzmq
import gzmq._native

TESTS = Path(__file__).resolve().parent


def _pull_push(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str, hwm: int = 1000
) -> tuple[gzmq.Pull, gzmq.Push]:
    """A bound Pull and a Push connected to it, with high water marks ``hwm``."""
    bound = gzmq.Pull(context=context, linger=0, receive_high_water_mark=hwm)
    address = endpoint()
    bound.bind(address)
    connecting = gzmq.Push(context=context, linger=0, send_high_water_mark=hwm)
    connecting.connect(bound.last_endpoint if transport == "tcp" else address)
    return bound, connecting


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait (at most 10 s, yielding to the hub) until ``condition()`` holds."""
    with gevent.Timeout(10, AssertionError(f"never became true: {what}")):
        while not condition():
            gevent.sleep(0.001)


def test_readable_says_whether_recv_would_return_at_once(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """readable is False with nothing queued, True once a message waits, False again after recv."""
    pull, push = _pull_push(context, endpoint, transport)
    assert pull.readable is False
    push.send([b"one", b"message"])
    _until(lambda: pull.readable, "pull.readable after a send")
    for _ in range(3):
        assert pull.readable is True  # asking consumes nothing
    assert pull.recv(timeout=0) == [b"one", b"message"]  # and recv() indeed returns at once
    assert pull.readable is False


def test_writable_says_whether_send_would_queue_at_once(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """A Push with no peer is not writable; with a peer it is, until its high water mark."""
    lonely = gzmq.Push(context=context, linger=0)
    assert lonely.writable is False  # send() would wait for a peer
    with pytest.raises(zmq.Again):
        lonely.send(b"x", timeout=0)
    pull, push = _pull_push(context, endpoint, transport, hwm=1)
    _until(lambda: push.writable, "push.writable once connected")
    queued = 0
    while push.writable:
        push.send(b"%d" % queued, timeout=0)  # writable means this cannot raise Again
        queued += 1
        assert queued < 10_000, "writable never turned False at the high water mark"
    with pytest.raises(zmq.Again):
        push.send(b"over", timeout=0)
    assert pull.recv(timeout=5) == [b"0"]
    _until(lambda: push.writable, "push.writable once the peer took a message")


def test_closed_socket_is_neither_readable_nor_writable(context: gzmq.Context) -> None:
    """After close(), readable and writable are False (even with a message queued before)."""
    pair_a = gzmq.Pair(context=context, linger=0)
    pair_a.bind("inproc://readiness-closed")
    pair_b = gzmq.Pair(context=context, linger=0)
    pair_b.connect("inproc://readiness-closed")
    pair_a.send(b"queued")
    _until(lambda: pair_b.readable, "pair_b.readable")
    assert pair_b.writable is True
    pair_b.close()
    assert pair_b.readable is False and pair_b.writable is False


@pytest.mark.parametrize(
    ("cls", "direction"),
    [(gzmq.Publisher, "readable"), (gzmq.Push, "readable"),
     (gzmq.Subscriber, "writable"), (gzmq.Pull, "writable")],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_class_that_cannot_is_never_ready(cls: type, direction: str, context: gzmq.Context) -> None:
    """A class without recv() is never readable, one without send() never writable."""
    with cls(context=context, linger=0) as sock:
        assert getattr(sock, direction) is False
        assert not hasattr(sock, "recv" if direction == "readable" else "send")


def test_router_reports_writable_and_request_alternates(context: gzmq.Context) -> None:
    """A Request is writable before its request and readable once the reply waits."""
    rep = gzmq.Reply(context=context, linger=0)
    rep.bind("inproc://readiness-req")
    req = gzmq.Request(context=context, linger=0)
    req.connect("inproc://readiness-req")
    assert req.writable is True and req.readable is False and rep.writable is False
    req.send(b"question")
    assert req.writable is False  # a second send() would fail: not queueable
    _until(lambda: rep.readable, "rep.readable")
    rep.recv()
    assert rep.writable is True
    rep.send(b"answer")
    _until(lambda: req.readable, "req.readable")
    assert req.recv(timeout=0) == [b"answer"]


def test_readiness_from_another_thread_raises(context: gzmq.Context) -> None:
    """Reading readable from a thread that does not own the socket is an InvalidThreadUseError."""
    pull = gzmq.Pull(context=context, linger=0)
    caught: list[BaseException] = []

    def other() -> None:
        try:
            pull.readable  # noqa: B018 - the read is the test
        except gzmq.InvalidThreadUseError as error:
            caught.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(10)
    assert caught and "belongs to another thread" in str(caught[0])


def _poke(sockets: list[gzmq.Socket], rng: random.Random, stop: list[bool]) -> int:
    """Read readable and writable of every socket in a loop until ``stop``; count the reads."""
    reads = 0
    while not stop:
        for sock in sockets:
            sock.readable  # noqa: B018 - each read consumes ZMQ_FD's edge
            sock.writable  # noqa: B018
            reads += 2
        if rng.random() < 0.8:
            gevent.sleep(0)
        else:
            gevent.sleep(rng.random() / 2000)
    return reads


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("direction", ["recv", "send"])
def test_stress_parked_greenlets_are_woken_while_readiness_is_read(
    direction: str, context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """Greenlets parked in recv() (or send()) all finish while others read readable/writable
    in a loop: every EVENTS read that consumes the edge re-checks the parked greenlets."""
    rng = random.Random(f"{direction}-{transport}")
    total, workers = 3000, 20
    pull, push = _pull_push(context, endpoint, transport, hwm=1)
    received: list[bytes] = []
    stop: list[bool] = []
    pokers = [gevent.spawn(_poke, [pull, push], random.Random(n), stop) for n in range(3)]

    def receive(count: int) -> None:
        for _ in range(count):
            received.extend(pull.recv())
            if direction == "send" and rng.random() < 0.3:
                gevent.sleep(rng.random() / 1000)  # a slow reader: senders park at the HWM

    def send(first: int, count: int) -> None:
        for number in range(first, first + count):
            push.send(b"%d" % number)
            if direction == "recv" and rng.random() < 0.3:
                gevent.sleep(rng.random() / 1000)  # a slow writer: receivers park

    share = total // workers
    if direction == "recv":
        parked = [gevent.spawn(receive, share) for _ in range(workers)]
        others = [gevent.spawn(send, 0, total)]
    else:
        parked = [gevent.spawn(send, n * share, share) for n in range(workers)]
        others = [gevent.spawn(receive, total)]
    try:
        finished = gevent.joinall(parked + others, timeout=90, raise_error=True)
        assert len(finished) == len(parked) + len(others), (
            f"a wake-up was lost: {len(received)} of {total} messages after 90 s"
        )
    finally:
        stop.append(True)
        gevent.joinall(pokers, timeout=5)
        gevent.killall(parked + others)
    assert sorted(received, key=int) == [b"%d" % n for n in range(total)]
    assert all(poker.value > 0 for poker in pokers)


def test_mode_is_the_one_asked_for() -> None:
    """Under GZMQ_PURE_PYTHON=1 the C accelerator is off (the subprocess run checks this)."""
    if gzmq._native.pure_python_requested():
        assert gzmq.accelerated is False
    else:
        assert gzmq.accelerated is (gzmq.accelerator_reason is None)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_stress_in_pure_python_mode() -> None:
    """The stress tests pass with GZMQ_PURE_PYTHON=1 too (the pure-Python core)."""
    env = dict(os.environ, GZMQ_PURE_PYTHON="1")
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            str(TESTS / "test_readiness.py"), "-k", "parked_greenlets or mode_is",
        ],
        env=env, capture_output=True, text=True, timeout=280, cwd=TESTS.parent,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
