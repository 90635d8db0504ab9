"""The parking path (gzmq._parking): hand-off, close, cut messages, released frames.

Each test here failed on the core before "Core v2" (issue 15's defects 4, 5,
7 and 9); tests/test_native.py runs this file again with GZMQ_PURE_PYTHON=1.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import gevent
import pytest
import zmq

import gzmq
import gzmq.green

PROMPTLY = 5.0


# -- defect 4: an exception in one served receiver never affects another ---------------


def test_a_raw_greenlet_failing_after_recv_does_not_strand_the_others(
    context: gzmq.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gevent.spawn_raw receiver that raises right after recv(): the next receivers
    parked behind it still get their messages."""
    hub = gevent.get_hub()
    reported: list[BaseException] = []
    monkeypatch.setattr(
        hub, "handle_error", lambda context, kind, value, tb: reported.append(value)
    )
    pull = gzmq.Pull(context=context, linger=0)
    push = gzmq.Push(context=context, linger=0)
    pull.bind("inproc://raw-failing")
    push.connect("inproc://raw-failing")
    got: list[list[bytes]] = []

    def failing() -> None:
        pull.recv()
        raise RuntimeError("raised right after recv()")

    gevent.spawn_raw(failing)
    gevent.sleep(0)
    receivers = [gevent.spawn(lambda: got.append(pull.recv())) for _ in range(2)]
    gevent.sleep(0.01)
    assert len(pull._waiting.readers) == 3, "the three receivers did not all park"
    for number in range(3):
        push.send(b"%d" % number)
    gevent.joinall(receivers, timeout=PROMPTLY)
    assert sorted(got) == [[b"1"], [b"2"]], "a receiver after the failing one lost its message"
    assert any(isinstance(error, RuntimeError) for error in reported), "the error was hidden"


# -- defect 5: close() from a thread that does not own the socket ----------------------


@pytest.mark.parametrize("layer", ["typed", "green"])
def test_close_from_another_thread_wakes_the_owners_waiters(
    layer: str, context: gzmq.Context
) -> None:
    """close() called from another thread closes the socket in its owner's hub, whose
    parked recv() gets SocketClosedError within a second."""
    if layer == "typed":
        sock: object = gzmq.Pull(context=context, linger=0)
    else:
        sock = gzmq.green.Context.shadow(context._zmq.underlying).socket(zmq.PULL)
        sock.linger = 0  # type: ignore[attr-defined]
    sock.bind("inproc://close-elsewhere-" + layer)  # type: ignore[attr-defined]
    waiter = gevent.spawn(sock.recv)  # type: ignore[attr-defined]
    gevent.sleep(0.01)
    closer = threading.Thread(target=sock.close)  # type: ignore[attr-defined]
    closer.start()
    closer.join(PROMPTLY)
    with gevent.Timeout(1.0, AssertionError("the owner's parked recv() was not woken")):
        with pytest.raises(gzmq.SocketClosedError):
            waiter.get()
    assert sock.closed  # type: ignore[attr-defined]


def test_context_close_from_another_thread_wakes_the_owners_waiters() -> None:
    """Context.close() from another thread closes each socket in its owner's hub (waking
    its waiters) and terminates the context."""
    ctx = gzmq.Context()
    pull = gzmq.Pull(context=ctx, linger=0)
    pull.bind("inproc://context-close-elsewhere")
    waiter = gevent.spawn(pull.recv)
    gevent.sleep(0.01)
    closer = threading.Thread(target=ctx.close)
    closer.start()
    with gevent.Timeout(1.0, AssertionError("the owner's parked recv() was not woken")):
        with pytest.raises(gzmq.SocketClosedError):
            waiter.get()
    with gevent.Timeout(PROMPTLY, AssertionError("Context.close() did not return")):
        while closer.is_alive():
            gevent.sleep(0.01)
    assert ctx.closed and pull.closed


# -- defect 7: a message cut by a peer that leaves mid-message ------------------------------


FRAMES = 64
FRAME = 16 * 1024


def _message(number: int) -> list[bytes]:
    return [b"%d/%d/" % (number, index) + b"x" * FRAME for index in range(FRAMES)]


def _whole(message: list[bytes]) -> int:
    """The message's number, after checking it arrived whole (every frame, in order)."""
    number = message[0].split(b"/", 1)[0]
    expected = [int(number)]
    assert len(message) == FRAMES, f"a torn message of {len(message)} frames: {message[0][:20]!r}"
    for index, frame in enumerate(message):
        assert frame.startswith(b"%s/%d/" % (number, index)), f"frame {index} of {number!r}"
    return expected[0]


@pytest.mark.timeout(120)
def test_a_message_cut_by_a_leaving_peer_never_arrives_as_a_tail(context: gzmq.Context) -> None:
    """A PAIR's peer leaves while a large multipart message goes out: the send ends within
    its timeout, and the next peer gets whole messages only, never the cut message's tail."""
    sender = gzmq.Pair(context=context, linger=0, send_high_water_mark=4)
    sender.bind("tcp://127.0.0.1:*")
    address = sender.last_endpoint
    received: list[list[bytes]] = []
    stop = threading.Event()

    def peers() -> None:
        plain = zmq.Context()
        try:
            while not stop.is_set():
                peer = plain.socket(zmq.PAIR)
                peer.linger = 0
                peer.rcvhwm = 4
                peer.connect(address)
                if peer.poll(2000):
                    received.append(peer.recv_multipart())
                time.sleep(0.002)
                peer.close()  # mid-message, often: the sender is sending all the time
                time.sleep(0.02)
        finally:
            plain.term()

    thread = threading.Thread(target=peers, daemon=True)
    thread.start()
    longest = 0.0
    deadline = time.monotonic() + 6
    number = 0
    try:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                sender.send(_message(number), timeout=1.0)
            except zmq.Again:
                pass
            longest = max(longest, time.monotonic() - started)
            number += 1
    finally:
        stop.set()
        thread.join(PROMPTLY)
    assert longest < 3.0, f"a send with timeout=1.0 took {longest:.1f} s"
    assert received, "no peer received anything"
    for message in received:
        _whole(message)


# -- defect 9: large frames libzmq still holds when a socket closes ---------------------


def _refcounts(objects: list[bytes]) -> list[int]:
    return [sys.getrefcount(item) for item in objects]


def _released_after_close(context: gzmq.Context, seconds: float) -> bool:
    """Queue 50 frames of 1 MiB (sent by reference) on a PUSH whose peer never accepts,
    close it with linger 0, and wait with no call into gzmq: whether every frame was
    released within ``seconds``."""
    push = gzmq.Push(context=context, linger=0)
    push.connect("tcp://127.0.0.1:9")  # the pipe exists at once; nothing ever accepts
    payloads = [bytes([index]) * (1 << 20) for index in range(50)]
    baseline = _refcounts(payloads)
    for payload in payloads:
        push.send(payload)
    del payload
    push.close()
    deadline = time.monotonic() + seconds
    while _refcounts(payloads) != baseline:  # nothing but the hub runs meanwhile
        if time.monotonic() > deadline:
            return False
        gevent.sleep(0.01)
    return True


def test_large_frames_are_released_after_close_without_another_call(
    context: gzmq.Context,
) -> None:
    """Large frames queued (by reference) on a socket closed with linger 0 are released once
    libzmq drops them, with no later call into gzmq."""
    assert _released_after_close(context, 10), "closed-over large frames were never released"


@pytest.mark.timeout(120)
def test_large_frames_of_many_closed_sockets_are_all_released() -> None:
    """Forty times, a socket of a fresh context closes with large frames in flight: each
    time every frame is released once libzmq drops it, the last ones too (libzmq's
    release of them races the hub collecting the earlier ones; 16 of 100 were left
    behind before the fix)."""
    stuck = 0
    for _ in range(40):
        ctx = gzmq.Context()
        try:
            stuck += not _released_after_close(ctx, 1)
        finally:
            ctx.close(linger=0)
    assert stuck == 0, f"{stuck} of 40 closes left large frames unreleased"


# -- the suspected ones: nothing held or received is lost on an exception ---------------------


def test_a_message_received_when_the_recheck_fails_is_kept(
    context: gzmq.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If re-checking the parked senders fails after a message was received (MemoryError),
    the error reaches the caller and the message waits for the next recv()."""
    from gzmq._waiting import Waiting

    dealer = gzmq.Dealer(context=context, linger=0, send_high_water_mark=1)
    peer = gzmq.Dealer(context=context, linger=0, receive_high_water_mark=1)
    dealer.bind("inproc://refresh-fails")
    peer.connect("inproc://refresh-fails")
    peer.send(b"kept")
    while True:  # fill dealer -> peer so that a sender parks
        try:
            dealer.send(b"fill", timeout=0)
        except zmq.Again:
            break
    parked = gevent.spawn(dealer.send, b"parked")
    gevent.sleep(0.01)
    assert dealer._waiting.writers, "no sender parked"
    original = Waiting.refresh

    def failing(self: Waiting) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(Waiting, "refresh", failing)
    with pytest.raises(MemoryError):
        dealer._waiting.recv(None, True)  # the Gate itself: the C path when accelerated
    monkeypatch.setattr(Waiting, "refresh", original)
    assert dealer.recv(timeout=PROMPTLY) == [b"kept"]
    parked.kill()


# -- receivers of different kinds parked on one socket --------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_a_no_copy_receiver_parked_behind_a_copying_one_is_served(
    transport: str, context: gzmq.Context, tmp_path: Any
) -> None:
    """recv() parked first and recv(copy=False) parked behind it: one wake-up that serves
    the first still serves the second (the hand-off never stops at a receiver it cannot
    serve itself without passing it on)."""
    address = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/kinds.ipc",
               "inproc": "inproc://kinds"}[transport]
    pull = gzmq.Pull(context=context, linger=0)
    push = gzmq.Push(context=context, linger=0)
    pull.bind(address)
    push.connect(pull.last_endpoint)
    got: dict[str, bytes] = {}

    def receive(name: str, copy: bool) -> None:
        frames = pull.recv(copy=copy)
        got[name] = frames[0] if copy else frames[0].bytes

    receivers = [gevent.spawn(receive, "copy", True), gevent.spawn(receive, "frame", False)]
    gevent.sleep(0.01)
    assert len(pull._waiting.readers) == 2, "the two receivers did not both park"
    push.send(b"1")
    push.send(b"2")
    gevent.joinall(receivers, timeout=PROMPTLY)
    assert got == {"copy": b"1", "frame": b"2"}, "a parked receiver was left waiting"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kinds", ["waiting", "with-timeouts"])
@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_receivers_of_every_kind_queued_behind_one_another_get_each_message_once(
    kinds: str, transport: str, context: gzmq.Context, tmp_path: Any
) -> None:
    """Thirty receivers of mixed kinds (recv(), recv(copy=False), iteration; and with
    timeouts, recv(timeout=) and recv() under a gevent.Timeout) queue on one PULL while
    two senders send bursts: every message arrives exactly once, none is left behind.
    ("waiting": no receiver ever wakes by itself, so a lost wake-up strands messages.)"""
    import random

    address = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/every.ipc",
               "inproc": "inproc://every-kind"}[transport]
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=7)
    pull.bind(address)
    pushes = [gzmq.Push(context=context, linger=0, send_high_water_mark=5) for _ in range(2)]
    for push in pushes:
        push.connect(pull.last_endpoint)
    received: list[bytes] = []
    total = 3000

    def receiver(number: int) -> None:
        local = random.Random(number)
        kind = number % 5 if kinds == "with-timeouts" else (0, 1, 3)[number % 3]
        if kind == 3:
            for message in pull:
                received.append(message[0])
            return
        while True:
            try:
                if kind == 0:
                    message = pull.recv()
                elif kind == 1:
                    message = [frame.bytes for frame in pull.recv(copy=False)]
                elif kind == 2:
                    message = pull.recv(timeout=local.choice([0, 0.001, 0.005]))
                else:
                    with gevent.Timeout(local.uniform(0.0005, 0.003)):
                        message = pull.recv()
            except (zmq.Again, gevent.Timeout):
                continue
            except gzmq.SocketClosedError:
                return
            received.append(message[0])

    def sender(number: int, push: gzmq.Push) -> None:
        local = random.Random(1000 + number)
        for seq in range(total // 2):
            push.send(b"%d.%d" % (number, seq))
            if local.random() < 0.02:
                gevent.sleep(local.uniform(0, 0.002))

    receivers = [gevent.spawn(receiver, number) for number in range(30)]
    senders = [gevent.spawn(sender, number, push) for number, push in enumerate(pushes)]
    gevent.joinall(senders, timeout=60, raise_error=True)
    deadline = time.monotonic() + 30
    while len(received) < total and time.monotonic() < deadline:
        gevent.sleep(0.01)
    pull.close()
    gevent.joinall(receivers, timeout=10, raise_error=True)
    assert all(glet.dead for glet in receivers), "a receiver is still parked after close()"
    assert len(received) == len(set(received)), "a message arrived twice"
    assert len(received) == total, f"{total - len(received)} messages were lost"
