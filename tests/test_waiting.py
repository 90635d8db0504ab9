"""The cooperative core (DESIGN §3): every rule, each with a test that fails without it."""

from __future__ import annotations

import gc
import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable

import gevent
import greenlet
import pytest
import zmq
from gevent.event import Event

import gzmq
from gzmq._waiting import FAIRNESS_LIMIT


def _switches_during(action: Callable[[], None]) -> int:
    """How many greenlet switches happen while ``action`` runs."""
    count = 0

    def trace(event: str, args: object) -> None:
        nonlocal count
        if event in ("switch", "throw"):
            count += 1

    previous = greenlet.settrace(trace)
    try:
        action()
    finally:
        greenlet.settrace(previous)
    return count


def _wait_parked(waiting_queue: object, n: int, limit: float = 5.0) -> None:
    """Let the hub run until ``n`` greenlets are parked in a waiter queue."""
    deadline = time.monotonic() + limit
    while len(waiting_queue) < n:  # type: ignore[arg-type]
        assert time.monotonic() < deadline, f"only {len(waiting_queue)} of {n} parked"  # type: ignore[arg-type]
        gevent.sleep(0.001)


def _fill(push: gzmq.Push, message: list[bytes]) -> int:
    """Send until the queue (and, over tcp/ipc, the kernel buffers) stays full for 0.1 s."""
    sent = 0
    full_since = None
    while True:
        try:
            push.send(message, timeout=0)
            sent += 1
            full_since = None
        except zmq.Again:
            now = time.monotonic()
            if full_since is None:
                full_since = now
            elif now - full_since > 0.1:
                return sent
            gevent.sleep(0.005)


# -- rule 1: fast path ---------------------------------------------------------


def test_fast_path_does_not_switch(endpoint, connected) -> None:
    """A send and a recv that can complete now do so without a switch to the hub."""
    server, client = connected(gzmq.Pair, gzmq.Pair, endpoint())
    client.send(b"warm-up")
    assert server.recv() == [b"warm-up"]
    gevent.sleep(0.05)  # let the connection settle so nothing is pending

    def ping_pong() -> None:
        for index in range(200):
            client.send(b"%d" % index)
            deadline = time.monotonic() + 2
            while True:
                try:
                    assert server.recv(timeout=0) == [b"%d" % index]
                    break
                except zmq.Again:
                    # tcp/ipc deliver through libzmq's I/O thread: spin without
                    # the hub until the message is there.
                    assert time.monotonic() < deadline
                    time.sleep(0.0001)

    assert _switches_during(ping_pong) == 0


def test_fast_path_multipart_does_not_switch() -> None:
    """Multipart messages that can go and come now do not switch either."""
    with gzmq.Pair(linger=0) as a, gzmq.Pair(linger=0) as b:
        a.bind("inproc://fast-multipart")
        b.connect("inproc://fast-multipart")

        def action() -> None:
            for _ in range(100):
                a.send([b"a", "b", None, bytearray(b"d"), memoryview(b"e")])
                assert b.recv() == [b"a", b"b", b"", b"d", b"e"]

        assert _switches_during(action) == 0


# -- rule 3: many waiters ------------------------------------------------------


@pytest.mark.timeout(120)
def test_fifty_receivers_four_senders_exactly_once(endpoint, context) -> None:
    """50 greenlets in recv() on one PULL, 4 senders: each message once, whole, unmixed."""
    total = 100_000
    senders = 4
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=0)
    pull.bind(endpoint())
    address = pull.last_endpoint
    received: list[list[bytes]] = []
    done = Event()

    def receiver() -> None:
        for message in pull:
            received.append(message)
            if len(received) == total:
                done.set()

    def sender(number: int) -> None:
        push = gzmq.Push(context=context, linger=-1, send_high_water_mark=0)
        push.connect(address)
        tag = b"s%d" % number
        for seq in range(total // senders):
            text = b"%d" % seq
            push.send([tag, text, tag + b":" + text])
        push.close()

    readers = [gevent.spawn(receiver) for _ in range(50)]
    _wait_parked(pull._waiting.readers, 50)
    writers = [gevent.spawn(sender, n) for n in range(senders)]
    gevent.joinall(writers, raise_error=True)
    assert done.wait(60), f"only {len(received)} of {total} arrived"
    pull.close()
    gevent.joinall(readers, timeout=5, raise_error=True)
    assert len(received) == total
    keys = set()
    for tag, text, joined in received:
        assert joined == tag + b":" + text
        keys.add((tag, text))
    assert len(keys) == total


def test_receivers_served_in_arrival_order(endpoint, connected) -> None:
    """Waiters parked in recv() get messages in the order they started waiting."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    got: dict[int, list[bytes]] = {}

    def receiver(index: int) -> None:
        got[index] = pull.recv()

    greenlets = []
    for index in range(50):
        greenlets.append(gevent.spawn(receiver, index))
        _wait_parked(pull._waiting.readers, index + 1)
    for index in range(50):
        push.send(b"%d" % index)
    gevent.joinall(greenlets, timeout=10, raise_error=True)
    assert got == {index: [b"%d" % index] for index in range(50)}


@pytest.mark.timeout(60)
def test_many_senders_blocked_at_high_water_mark(endpoint, context) -> None:
    """Senders blocked on one socket at its HWM all get through, each message once and whole."""
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=5)
    push.bind(endpoint())
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=5)
    pull.connect(push.last_endpoint)
    per_sender, senders = 200, 50

    def sender(number: int) -> None:
        for seq in range(per_sender):
            push.send([b"%d" % number, b"%d" % seq, b"%d-%d" % (number, seq)])

    writers = [gevent.spawn(sender, n) for n in range(senders)]
    _wait_parked(push._waiting.writers, 2)  # the queue is full: senders are parked
    seen = set()
    for _ in range(per_sender * senders):
        number, seq, joined = pull.recv(timeout=10)
        assert joined == number + b"-" + seq
        seen.add((number, seq))
    gevent.joinall(writers, timeout=10, raise_error=True)
    assert len(seen) == per_sender * senders


def test_blocked_senders_served_in_arrival_order(context) -> None:
    """Greenlets blocked in send() at the HWM go out in the order they started waiting."""
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=1)
    push.bind("inproc://senders-order")
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=1)
    pull.connect("inproc://senders-order")
    filled = 0
    while True:
        try:
            push.send(b"fill", timeout=0)
            filled += 1
        except zmq.Again:
            break
    greenlets = []
    for index in range(20):
        greenlets.append(gevent.spawn(push.send, [b"order", b"%d" % index]))
        _wait_parked(push._waiting.writers, index + 1)
    for _ in range(filled):
        assert pull.recv(timeout=5) == [b"fill"]
    order = [pull.recv(timeout=5)[1] for _ in range(20)]
    gevent.joinall(greenlets, timeout=5, raise_error=True)
    assert order == [b"%d" % index for index in range(20)]


# -- rule 4: timeouts ------------------------------------------------------------


@pytest.mark.parametrize("option_ms", [-1, 0, 150])
def test_receive_timeout_option(option_ms: int, endpoint, connected) -> None:
    """receive_timeout -1 waits, 0 tries once, N ms raises zmq.Again after N ms."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    pull.receive_timeout = option_ms
    if option_ms == -1:
        gevent.spawn_later(0.2, push.send, b"late")
        started = time.monotonic()
        assert pull.recv() == [b"late"]
        assert time.monotonic() - started >= 0.15
        return
    started = time.monotonic()
    with pytest.raises(zmq.Again):
        pull.recv()
    elapsed = time.monotonic() - started
    if option_ms == 0:
        assert elapsed < 0.1
    else:
        assert 0.14 <= elapsed < 2.0
    push.send(b"after")
    assert pull.recv(timeout=5) == [b"after"]  # the timed-out call consumed nothing


@pytest.mark.parametrize("option_ms", [-1, 0, 150])
def test_send_timeout_option(option_ms: int, context) -> None:
    """send_timeout -1 waits, 0 tries once, N ms raises zmq.Again; a timed-out send sent nothing."""
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=1, send_timeout=option_ms)
    push.bind(f"inproc://send-timeout-{option_ms}")
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=1)
    pull.connect(f"inproc://send-timeout-{option_ms}")
    sent = 0
    while True:
        try:
            push.send(b"fill %d" % sent, timeout=0)
            sent += 1
        except zmq.Again:
            break
    if option_ms == -1:
        gevent.spawn_later(0.2, pull.recv)
        push.send(b"waited")
        received = [pull.recv(timeout=5) for _ in range(sent)]
        assert received[-1] == [b"waited"]
        return
    started = time.monotonic()
    with pytest.raises(zmq.Again):
        push.send([b"never", b"sent"])
    elapsed = time.monotonic() - started
    assert elapsed < 0.1 if option_ms == 0 else 0.14 <= elapsed < 2.0
    received = [pull.recv(timeout=5) for _ in range(sent)]
    assert all(message[0].startswith(b"fill") for message in received)
    with pytest.raises(zmq.Again):
        pull.recv(timeout=0.1)


def test_per_call_timeout_overrides_option(endpoint, connected) -> None:
    """recv(timeout=s) overrides receive_timeout in both directions."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    pull.receive_timeout = -1
    started = time.monotonic()
    with pytest.raises(zmq.Again):
        pull.recv(timeout=0.1)
    assert 0.09 <= time.monotonic() - started < 2
    pull.receive_timeout = 10
    gevent.spawn_later(0.1, push.send, b"x")
    assert pull.recv(timeout=5) == [b"x"]


def test_caller_gevent_timeout_passes_through(endpoint, connected) -> None:
    """A caller's own gevent.Timeout reaches the caller untouched and consumes nothing."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    pull.receive_timeout = 5000
    timer = gevent.Timeout(0.1)
    with pytest.raises(gevent.Timeout) as info:
        with timer:
            pull.recv()
    assert info.value is timer
    assert not pull._waiting.readers
    push.send(b"kept")
    assert pull.recv(timeout=5) == [b"kept"]


def test_timed_out_waiter_passes_on_its_wake_up(endpoint, connected) -> None:
    """A waiter that times out never swallows a message meant for the next waiter."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    results: dict[str, object] = {}

    def wait(name: str, timeout: float | None) -> None:
        try:
            results[name] = pull.recv(timeout=timeout)
        except zmq.Again:
            results[name] = "timeout"

    first = gevent.spawn(wait, "first", 0.05)
    _wait_parked(pull._waiting.readers, 1)
    second = gevent.spawn(wait, "second", 5)
    third = gevent.spawn(wait, "third", 5)
    _wait_parked(pull._waiting.readers, 3)
    gevent.sleep(0.1)  # the first one times out
    push.send(b"one")
    push.send(b"two")
    gevent.joinall([first, second, third], timeout=5, raise_error=True)
    assert results == {"first": "timeout", "second": [b"one"], "third": [b"two"]}


# -- rule 5: atomic multipart ------------------------------------------------------


def test_killed_multipart_sender_leaves_no_partial_message(endpoint, context) -> None:
    """A greenlet killed while blocked in a multipart send: the peer sees no part of it."""
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=1)
    push.bind(endpoint())
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=1)
    pull.connect(push.last_endpoint)
    _fill(push, [b"fill", b"x" * 65536, b"tail"])
    blocked = []
    for index in range(10):
        blocked.append(gevent.spawn(push.send, [b"victim", b"%d" % index, b"tail"]))
    _wait_parked(push._waiting.writers, 5)
    gevent.killall(blocked[3:])
    gevent.sleep(0.05)
    after = gevent.spawn(push.send, [b"after", b"kill", b"tail"])
    messages = []
    while True:
        try:
            messages.append(pull.recv(timeout=1))
        except zmq.Again:
            break
    after.get(timeout=1)
    assert all(len(message) == 3 and message[2] == b"tail" for message in messages)
    assert messages[-1] == [b"after", b"kill", b"tail"]
    victims = [message[1] for message in messages if message[0] == b"victim"]
    assert victims == sorted(set(victims), key=int)


# -- rule 6: close ------------------------------------------------------------------


def test_close_wakes_every_waiter(endpoint, connected) -> None:
    """close() from another greenlet wakes every waiter promptly with SocketClosedError."""
    pull, _push = connected(gzmq.Pull, gzmq.Push, endpoint())
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            pull.recv()
        except gzmq.SocketClosedError as error:
            errors.append(error)

    waiters = [gevent.spawn(wait) for _ in range(10)]
    _wait_parked(pull._waiting.readers, 10)
    started = time.monotonic()
    gevent.spawn(pull.close)
    gevent.joinall(waiters, timeout=2, raise_error=True)
    assert time.monotonic() - started < 0.5
    assert len(errors) == 10
    # The error names the socket (class and endpoints at close).
    assert all(str(error).startswith("Socket is closed: gzmq.Pull (") for error in errors)
    with pytest.raises(gzmq.SocketClosedError):
        pull.recv()


def test_close_wakes_blocked_senders(context) -> None:
    """Senders blocked at the HWM are woken by close() with SocketClosedError."""
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=1)
    push.bind("inproc://close-senders")
    outcomes: list[str] = []

    def send() -> None:
        try:
            push.send(b"x")
            push.send(b"y")
            push.send(b"z")
        except gzmq.SocketClosedError:
            outcomes.append("closed")

    senders = [gevent.spawn(send) for _ in range(5)]
    _wait_parked(push._waiting.writers, 5)
    push.close()
    gevent.joinall(senders, timeout=2, raise_error=True)
    assert outcomes == ["closed"] * 5


def test_iteration_ends_cleanly_on_close(endpoint, connected) -> None:
    """`for message in sock` yields messages and ends when the socket is closed."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    seen: list[list[bytes]] = []

    def consume() -> str:
        for message in pull:
            seen.append(message)
        return "ended"

    consumer = gevent.spawn(consume)
    push.send(b"a")
    push.send(b"b")
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:
        gevent.sleep(0.01)
    pull.close()
    assert consumer.get(timeout=2) == "ended"
    assert seen == [[b"a"], [b"b"]]


def test_unclosed_socket_is_collected_and_context_terminates() -> None:
    """A dropped socket (even one that has waited) is garbage collected; its context then ends."""
    ctx = gzmq.Context()
    sock = gzmq.Pull(context=ctx, linger=0)
    sock.bind("inproc://collected")
    with pytest.raises(zmq.Again):
        sock.recv(timeout=0.01)  # the watcher was created and used
    ref = weakref.ref(sock)
    raw_ref = weakref.ref(sock._sock)
    del sock
    gc.collect()
    assert ref() is None
    assert raw_ref() is None
    closer = gevent.spawn(ctx.close)
    closer.get(timeout=5)
    assert ctx.closed


# -- rule 7: fairness ---------------------------------------------------------------


def test_draining_a_busy_socket_does_not_starve_the_hub(context) -> None:
    """A ticker keeps ticking while another greenlet drains a socket that always has data."""
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=0)
    push.bind("inproc://fairness")
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=0)
    pull.connect("inproc://fairness")
    for _ in range(60_000):
        push.send(b"x")
    ticks: list[float] = []
    turns: list[int] = []  # the drain count each time a ready greenlet got a turn
    stop = Event()
    count = 0

    def ticker() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            gevent.sleep(0.01)

    def ready_greenlet() -> None:
        while not stop.is_set():
            turns.append(count)
            gevent.sleep(0)

    def drain() -> None:
        nonlocal count
        started = time.monotonic()
        while count < 20 * FAIRNESS_LIMIT or time.monotonic() - started < 0.5:
            pull.recv()
            push.send(b"x")  # the socket always has data
            count += 1

    tick, ready = gevent.spawn(ticker), gevent.spawn(ready_greenlet)
    gevent.sleep(0)
    gevent.spawn(drain).get(timeout=20)
    stop.set()
    gevent.joinall([tick, ready], timeout=2)
    # Load-independent: a greenlet that is ready waits at most FAIRNESS_LIMIT operations.
    waits = [b - a for a, b in itertools.pairwise(turns)]
    assert len(turns) >= 20 and max(waits) <= FAIRNESS_LIMIT, (len(turns), max(waits))
    # And in time: a 10 ms ticker never stalls (a generous bound for a loaded machine).
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 5 and max(gaps) < 0.25, (len(ticks), max(gaps))


# -- rule 8: threads and fork ---------------------------------------------------------


def test_use_from_another_thread_raises(context) -> None:
    """A socket used from a thread that did not make it raises InvalidThreadUseError."""
    sock = gzmq.Dealer(context=context, linger=0)
    sock.bind("inproc://owned")
    caught: list[BaseException] = []

    def other_thread() -> None:
        for call in (
            lambda: sock.send(b"x"),
            lambda: sock.recv(timeout=0),
            lambda: sock.bind("inproc://elsewhere"),
            lambda: sock.linger,
        ):
            try:
                call()
            except BaseException as error:  # noqa: BLE001 - collected for the assertion
                caught.append(error)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(10)
    assert len(caught) == 4
    assert all(isinstance(error, gzmq.InvalidThreadUseError) for error in caught), caught
    assert "another thread" in str(caught[0])


def test_two_threads_with_their_own_sockets_share_a_context(context) -> None:
    """Two threads, each with its own hub and sockets, work on one shared Context."""
    results: dict[int, list[list[bytes]]] = {}

    def worker(number: int) -> None:
        rep = gzmq.Reply(context=context, linger=0)
        rep.bind(f"inproc://thread-{number}")
        req = gzmq.Request(context=context, linger=0)
        req.connect(f"inproc://thread-{number}")
        server = gevent.spawn(lambda: [rep.send(rep.recv()) for _ in range(100)])
        replies = []
        for index in range(100):
            req.send(b"%d-%d" % (number, index))
            replies.append(req.recv(timeout=5))
        server.get(timeout=5)
        results[number] = replies
        rep.close()
        req.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(results) == [0, 1]
    for number, replies in results.items():
        assert replies == [[b"%d-%d" % (number, index)] for index in range(100)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_rejects_parent_sockets_and_makes_new_ones() -> None:
    """In a forked child the parent's sockets raise a clear error; new sockets work."""
    parent_socket = gzmq.Pair(linger=0)
    parent_socket.bind("inproc://before-fork")
    read_end, write_end = os.pipe()
    pid = gevent.fork()
    if pid == 0:  # the child
        code = 1
        try:
            try:
                parent_socket.send(b"x")
            except gzmq.InvalidThreadUseError as error:
                if "fork" in str(error):
                    code = 2
            if code == 2:
                a = gzmq.Pair(linger=0)
                a.bind("inproc://after-fork")
                b = gzmq.Pair(linger=0)
                b.connect("inproc://after-fork")
                b.send([b"child", b"ok"])
                if a.recv(timeout=5) == [b"child", b"ok"]:
                    code = 0
                a.close()
                b.close()
        finally:
            os.write(write_end, bytes([code]))
            os._exit(code)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    outcome = os.read(read_end, 1)
    os.close(read_end)
    parent_socket.close()
    assert outcome == b"\x00", f"child reported {outcome!r}"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


# -- rule 2: every operation that may consume the edge re-reads EVENTS -------------


@pytest.mark.parametrize(
    "operation",
    ["bind", "connect", "unbind", "disconnect", "option", "events-option"],
)
def test_no_lost_wake_up_after_other_calls(operation: str, context) -> None:
    """bind/connect/unbind/disconnect/options process libzmq commands: waiters still wake."""
    pull = gzmq.Pull(context=context, linger=0)
    pull.bind(f"inproc://edge-{operation}")
    pull.bind(f"inproc://edge-{operation}-spare")
    spare_push = gzmq.Push(context=context, linger=0)
    push = gzmq.Push(context=context, linger=0)
    push.connect(f"inproc://edge-{operation}")
    waiter = gevent.spawn(pull.recv)
    _wait_parked(pull._waiting.readers, 1)
    push.send(b"wake up")  # signals pull's ZMQ_FD ...
    # ... and this call, made before the hub runs, drains it inside libzmq:
    if operation == "bind":
        pull.bind(f"inproc://edge-{operation}-more")
    elif operation == "connect":
        pull.connect(f"inproc://edge-{operation}-elsewhere")
    elif operation == "unbind":
        pull.unbind(f"inproc://edge-{operation}-spare")
    elif operation == "disconnect":
        pull.connect(f"inproc://edge-{operation}-gone")
        pull.disconnect(f"inproc://edge-{operation}-gone")
    elif operation == "option":
        pull.receive_high_water_mark = 500
    else:
        assert pull.linger == 0
    assert waiter.get(timeout=2) == [b"wake up"]
    spare_push.close()
