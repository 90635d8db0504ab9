"""gzmq.Poller and gzmq.select: several sockets and fds at once, blocking only the caller.

pyzmq's shape; typed gzmq sockets, gzmq.green and pyzmq sockets, fds and
objects with fileno() mixed; woken by a message, by close and by the
timeout; many greenlets polling the same sockets; no busy-spinning and no
lost edge (the poll waits in each socket's cooperative core).
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import greenlet
import pytest
import zmq

import gzmq
import gzmq.green

PROMPTLY = 10  # seconds: a bound that only a lost wake-up can reach


def _pull_push(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str, hwm: int = 1000
) -> tuple[gzmq.Pull, gzmq.Push]:
    """A bound Pull and a Push connected to it, with high water marks ``hwm`` (and, for a
    small ``hwm``, small fixed kernel buffers: tcp's autotuning would keep taking more)."""
    small = hwm < 10
    pull = gzmq.Pull(
        context=context, linger=0, receive_high_water_mark=hwm,
        **({"receive_buffer_size": 8192} if small else {}),
    )
    address = endpoint()
    pull.bind(address)
    push = gzmq.Push(
        context=context, linger=0, send_high_water_mark=hwm,
        **({"send_buffer_size": 8192} if small else {}),
    )
    push.connect(pull.last_endpoint if transport == "tcp" else address)
    return pull, push


@pytest.fixture
def green_context() -> Iterator[Any]:
    """A gzmq.green Context, destroyed after the test."""
    ctx = gzmq.green.Context()
    yield ctx
    ctx.destroy(linger=0)


def test_register_modify_unregister_in_pyzmqs_shape(context: gzmq.Context) -> None:
    """register() adds or changes flags, 0 unregisters, unregister() of a stranger is KeyError."""
    pull = gzmq.Pull(context=context, linger=0)
    push = gzmq.Push(context=context, linger=0)
    poller = gzmq.Poller()
    poller.register(pull, gzmq.POLLIN)
    poller.register(push)  # POLLIN | POLLOUT by default, as pyzmq
    assert poller.sockets == [(pull, gzmq.POLLIN), (push, gzmq.POLLIN | gzmq.POLLOUT)]
    poller.modify(push, gzmq.POLLOUT)
    assert dict(poller.sockets)[push] == gzmq.POLLOUT
    poller.register(pull, 0)
    assert poller.sockets == [(push, gzmq.POLLOUT)]
    poller.modify(pull, 0)  # not registered: nothing to do, as pyzmq
    poller.unregister(push)
    assert poller.sockets == []
    with pytest.raises(KeyError):
        poller.unregister(push)
    assert gzmq.POLLIN == zmq.POLLIN and gzmq.POLLOUT == zmq.POLLOUT


def test_poll_returns_what_is_ready_now(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """poll() lists the ready sockets with their events; poll(0) only looks."""
    pull_a, push_a = _pull_push(context, endpoint, transport)
    pull_b, _ = _pull_push(context, endpoint, transport)
    poller = gzmq.Poller()
    poller.register(pull_a, gzmq.POLLIN)
    poller.register(pull_b, gzmq.POLLIN)
    assert poller.poll(0) == []
    push_a.send(b"for a")
    with gevent.Timeout(PROMPTLY):
        ready = dict(poller.poll())
    assert ready == {pull_a: gzmq.POLLIN}
    assert pull_a.recv(timeout=0) == [b"for a"]  # ready means recv() returns at once
    assert poller.poll(0) == []


def test_poll_is_woken_by_a_message_arriving(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """A greenlet parked in poll() wakes when a message arrives, while others run."""
    pull, push = _pull_push(context, endpoint, transport)
    poller = gzmq.Poller()
    poller.register(pull, gzmq.POLLIN)
    waiting = gevent.spawn(poller.poll)
    ticks = 0
    for _ in range(5):
        gevent.sleep(0.01)
        ticks += 1  # the hub is free while the poll waits
    assert not waiting.ready()
    push.send(b"wake up")
    assert waiting.get(timeout=PROMPTLY) == [(pull, gzmq.POLLIN)]
    assert ticks == 5


def test_poll_pollout_waits_for_room(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """POLLOUT on a Push at its high water mark is ready once the peer takes a message."""
    pull, push = _pull_push(context, endpoint, transport, hwm=1)
    with gevent.Timeout(PROMPTLY):
        full_since = None
        while full_since is None or time.monotonic() - full_since < 0.2:
            try:
                push.send(b"x" * 65536, timeout=0)
                full_since = None
            except zmq.Again:
                full_since = full_since or time.monotonic()
                gevent.sleep(0.005)
    poller = gzmq.Poller()
    poller.register(push, gzmq.POLLOUT)
    assert poller.poll(0) == []
    waiting = gevent.spawn(poller.poll, 10_000)
    gevent.sleep(0.02)
    assert not waiting.ready()
    pull.recv(timeout=5)
    assert waiting.get(timeout=PROMPTLY) == [(push, gzmq.POLLOUT)]


@pytest.mark.parametrize("how", ["typed", "green"])
def test_poll_is_woken_by_close(how: str, context: gzmq.Context, green_context: Any) -> None:
    """Closing a polled socket wakes the poll with SocketClosedError (naming a typed socket)."""
    if how == "typed":
        sock: Any = gzmq.Pull(context=context, linger=0)
        sock.bind("inproc://poll-close")
    else:
        sock = green_context.socket(zmq.PULL)
        sock.linger = 0
    poller = gzmq.Poller()
    poller.register(sock, gzmq.POLLIN)
    waiting = gevent.spawn(poller.poll)
    gevent.sleep(0.02)
    sock.close()
    with pytest.raises(gzmq.SocketClosedError) as info:
        waiting.get(timeout=PROMPTLY)
    if how == "typed":
        assert "gzmq.Pull (inproc://poll-close)" in str(info.value)


def _switches_into(glet: greenlet.greenlet) -> list[int]:
    """A counter (list of one) of switches into ``glet``, kept by a greenlet trace."""
    count = [0]
    previous = greenlet.gettrace()

    def trace(event: str, args: tuple[Any, Any]) -> None:
        if event in ("switch", "throw") and args[1] is glet:
            count[0] += 1
        if previous is not None:
            previous(event, args)

    greenlet.settrace(trace)
    return count


def test_poll_times_out_without_spinning(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str, green_context: Any
) -> None:
    """A poll that nothing wakes returns [] at its timeout, having been resumed once (no spin)."""
    pull, push = _pull_push(context, endpoint, transport)
    green = green_context.socket(zmq.PULL)
    left, right = socket.socketpair()
    try:
        poller = gzmq.Poller()
        poller.register(pull, gzmq.POLLIN)
        poller.register(push, gzmq.POLLIN)  # a Push is never readable
        poller.register(green, gzmq.POLLIN)
        poller.register(left, gzmq.POLLIN)
        waiting = gevent.spawn(poller.poll, 200)
        gevent.sleep(0)  # it starts and parks
        switches = _switches_into(waiting)
        try:
            assert waiting.get(timeout=PROMPTLY) == []
        finally:
            greenlet.settrace(None)
        assert switches[0] == 1, f"the idle poll was resumed {switches[0]} times"
        assert gzmq.select([pull, push, green, left], [], [], 0.05) == ([], [], [])
    finally:
        left.close()
        right.close()


class _FilenoOnly:
    """An object with fileno(), as select() accepts."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()


def test_poll_mixes_typed_green_pyzmq_and_fds(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str, green_context: Any
) -> None:
    """One poll waits on a typed socket, a green one, a pyzmq one, an fd and a fileno() object."""
    typed_pull, typed_push = _pull_push(context, endpoint, transport)
    green_pull = green_context.socket(zmq.PULL)
    green_pull.linger = 0
    port = green_pull.bind_to_random_port("tcp://127.0.0.1")
    green_push = green_context.socket(zmq.PUSH)
    green_push.linger = 0
    green_push.connect(f"tcp://127.0.0.1:{port}")
    plain = zmq.Context()
    fd_a, fd_b = socket.socketpair()
    obj_a, obj_b = socket.socketpair()
    try:
        plain_pull = plain.socket(zmq.PULL)
        plain_pull.linger = 0
        plain_port = plain_pull.bind_to_random_port("tcp://127.0.0.1")
        plain_push = plain.socket(zmq.PUSH)
        plain_push.linger = 0
        plain_push.connect(f"tcp://127.0.0.1:{plain_port}")
        wrapped = _FilenoOnly(obj_a)
        poller = gzmq.Poller()
        for item in (typed_pull, green_pull, plain_pull, fd_a.fileno(), wrapped):
            poller.register(item, gzmq.POLLIN)
        cases: list[tuple[Callable[[], object], object, Callable[[], object]]] = [
            (lambda: typed_push.send(b"t"), typed_pull, lambda: typed_pull.recv(timeout=1)),
            (lambda: green_push.send(b"g"), green_pull, lambda: green_pull.recv(zmq.NOBLOCK)),
            (lambda: plain_push.send(b"p"), plain_pull, lambda: plain_pull.recv(zmq.NOBLOCK)),
            (lambda: fd_b.send(b"f"), fd_a.fileno(), lambda: fd_a.recv(10)),
            (lambda: obj_b.send(b"o"), obj_a.fileno(), lambda: obj_a.recv(10)),  # by number
        ]
        for trigger, expected, drain in cases:
            gevent.spawn_later(0.02, trigger)
            with gevent.Timeout(PROMPTLY):
                ready = dict(poller.poll())
            assert ready == {expected: gzmq.POLLIN}
            drain()
        readable, writable, errors = gzmq.select([typed_pull, wrapped], [typed_push], [], 1)
        assert (readable, writable, errors) == ([], [typed_push], [])
    finally:
        for item in (fd_a, fd_b, obj_a, obj_b):
            item.close()
        plain.destroy(linger=0)


def test_green_poller_takes_typed_sockets(context: gzmq.Context, green_context: Any) -> None:
    """gzmq.green's Poller and select share the engine: typed sockets work there too."""
    pull = gzmq.Pull(context=context, linger=0)
    pull.bind("inproc://green-poller-typed")
    push = gzmq.Push(context=context, linger=0)
    push.connect("inproc://green-poller-typed")
    poller = gzmq.green.Poller()
    poller.register(pull, zmq.POLLIN)
    gevent.spawn_later(0.02, push.send, b"x")
    with gevent.Timeout(PROMPTLY):
        assert poller.poll() == [(pull, zmq.POLLIN)]
    assert gzmq.green.select([pull], [], [], 1) == ([pull], [], [])


def test_poll_wakes_after_another_greenlet_consumed_the_edge(context: gzmq.Context) -> None:
    """A parked poll still wakes when another greenlet's readiness read consumed ZMQ_FD's edge."""
    router = gzmq.Router(context=context, linger=0)
    router.bind("inproc://poll-edge")
    dealer = gzmq.Dealer(context=context, linger=0)
    dealer.connect("inproc://poll-edge")
    poller = gzmq.Poller()
    poller.register(router, gzmq.POLLIN)
    waiting = gevent.spawn(poller.poll)
    gevent.sleep(0.02)
    dealer.send(b"ping")
    # Before the hub runs: reading the router's EVENTS processes its commands
    # (the message arrives) and consumes the edge the poll's watcher waits for.
    assert router.readable is True
    assert waiting.get(timeout=PROMPTLY) == [(router, gzmq.POLLIN)]


def test_select_shape_and_timeout(context: gzmq.Context) -> None:
    """select() returns (readable, writable, errors) lists, all empty on timeout."""
    pull = gzmq.Pull(context=context, linger=0)
    pull.bind("inproc://select-shape")
    push = gzmq.Push(context=context, linger=0)
    push.connect("inproc://select-shape")
    assert gzmq.select([pull], [], [], 0.01) == ([], [], [])
    assert gzmq.select([pull], [push], [pull], 1) == ([], [push], [])
    push.send(b"x")
    with gevent.Timeout(PROMPTLY):
        assert gzmq.select((pull,), (), (), None) == ([pull], [], [])


def _consume(
    sockets: list[gzmq.Pull], received: list[bytes], total: int, timeout_0: bool
) -> None:
    """Poll ``sockets`` and receive from the ready ones until ``total`` arrived or they close."""
    poller = gzmq.Poller()
    for sock in sockets:
        poller.register(sock, gzmq.POLLIN)
    try:
        while len(received) < total:
            for sock, _events in poller.poll(100):
                if not timeout_0:
                    received.extend(sock.recv())  # may wait: another poller took it
                    continue
                try:
                    received.extend(sock.recv(timeout=0))
                except zmq.Again:
                    pass  # another greenlet took it (or one parked ahead will)
    except gzmq.SocketClosedError:
        pass  # the test is over


def _produce(push: gzmq.Push, numbers: range, rng: random.Random) -> None:
    for number in numbers:
        push.send(b"%d" % number)
        if rng.random() < 0.2:
            gevent.sleep(rng.random() / 1000)


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("consumers", "total", "timeout_0"), [(20, 3000, False), (4, 200, True)],
    ids=["blocking-recv", "recv-timeout-0"],
)
def test_many_greenlets_poll_the_same_sockets(
    consumers: int, total: int, timeout_0: bool,
    context: gzmq.Context, endpoint: Callable[[], str], transport: str,
) -> None:
    """Many greenlets polling two sockets at once receive every message exactly once."""
    rng = random.Random(transport)
    pull_a, push_a = _pull_push(context, endpoint, transport)
    pull_b, push_b = _pull_push(context, endpoint, transport)
    received: list[bytes] = []
    readers = [
        gevent.spawn(_consume, [pull_a, pull_b], received, total, timeout_0)
        for _ in range(consumers)
    ]
    producers = [
        gevent.spawn(_produce, push_a, range(0, total, 2), rng),
        gevent.spawn(_produce, push_b, range(1, total, 2), rng),
    ]
    try:
        with gevent.Timeout(90, AssertionError("a wake-up was lost")):
            gevent.joinall(producers, raise_error=True)
            while len(received) < total:
                gevent.sleep(0.01)
        # Readers still waiting in recv() (each took part in a race it lost) end at close.
        pull_a.close()
        pull_b.close()
        done = gevent.joinall(readers, timeout=10, raise_error=True)
        assert len(done) == consumers
    finally:
        gevent.killall(producers + readers)
    assert sorted(received, key=int) == [b"%d" % n for n in range(total)]
