"""gzmq.green: the zmq.green drop-in.

Two groups of tests.  The first fixes zmq.green's known defects, one test
each; where zmq.green really shows the defect, the same test also runs
against zmq.green as a strict xfail, which proves the test can fail.  The
second uses the pyzmq API exactly as a zmq.green user would.
"""

from __future__ import annotations

import errno
import gc
import itertools
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import gevent
import pytest
import zmq
import zmq.green

import gzmq
import gzmq.green
from gzmq._waiting import FAIRNESS_LIMIT

_ids = itertools.count()

PROMPTLY = 2.0  # seconds: a generous bound for "at once"


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def ctx() -> Iterator[gzmq.green.Context]:
    """A fresh green context, destroyed (linger 0) after the test."""
    context = gzmq.green.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture(params=["gzmq.green", "zmq.green"])
def impl(request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The module under test: gzmq.green, and zmq.green to show its defect."""
    module = gzmq.green if request.param == "gzmq.green" else zmq.green
    context = module.Context()
    request.node.green_context = context
    yield module
    context.destroy(linger=0)


def green_defect(request: pytest.FixtureRequest, module: ModuleType, reason: str) -> None:
    """Expect the test to fail when it runs against zmq.green (strict xfail)."""
    if module is zmq.green:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"zmq.green defect: {reason}"))


def context_of(request: pytest.FixtureRequest) -> Any:
    return request.node.green_context


def bound(sock: Any, endpoint: Callable[[], str]) -> str:
    """Bind ``sock`` to a fresh endpoint and return the address to connect to."""
    sock.linger = 0
    sock.bind(endpoint())
    address: str = sock.last_endpoint.decode()
    return address


def make_pair(
    context: Any, bind_type: int, connect_type: int, endpoint: Callable[[], str]
) -> tuple[Any, Any]:
    """(bound, connected) sockets of the given types."""
    server = context.socket(bind_type)
    address = bound(server, endpoint)
    client = context.socket(connect_type)
    client.linger = 0
    client.connect(address)
    return server, client


def inproc() -> str:
    return f"inproc://green-{os.getpid()}-{next(_ids)}"


# -- zmq.green's defects, fixed --------------------------------------------------------


def test_many_greenlets_wait_on_one_socket(
    request: pytest.FixtureRequest, impl: ModuleType, endpoint: Callable[[], str]
) -> None:
    """Greenlets blocked in recv() on one socket each get a message, first come first served."""
    green_defect(request, impl, "a second waiter fails with AssertionError")
    pull, push = make_pair(context_of(request), impl.PULL, impl.PUSH, endpoint)
    waiters = [gevent.spawn(pull.recv) for _ in range(3)]
    gevent.sleep(0.05)
    for number in range(3):
        push.send(b"%d" % number)
    gevent.joinall(waiters, timeout=PROMPTLY)
    assert [waiter.value for waiter in waiters] == [b"0", b"1", b"2"]


def test_many_greenlets_send_on_one_full_socket(ctx: Any, endpoint: Callable[[], str]) -> None:
    """Greenlets blocked in send() on a full socket all get through, in order."""
    pull = ctx.socket(zmq.PULL)
    pull.rcvhwm = 1
    address = bound(pull, endpoint)
    push = ctx.socket(zmq.PUSH)
    push.sndhwm = 1
    push.linger = 0
    push.connect(address)
    senders = [gevent.spawn(push.send, b"%d" % number) for number in range(20)]
    gevent.sleep(0.05)
    received = [pull.recv() for _ in range(20)]
    gevent.joinall(senders, timeout=PROMPTLY)
    assert all(sender.successful() for sender in senders)
    assert received == [b"%d" % number for number in range(20)]


@pytest.mark.filterwarnings("ignore:TIMEO socket options have no effect")
@pytest.mark.parametrize("how", ["attribute", "setsockopt", "set", "context default"])
def test_receive_timeout_is_honoured(
    request: pytest.FixtureRequest, impl: ModuleType, how: str
) -> None:
    """RCVTIMEO, however it is set, makes a blocked recv raise zmq.Again in time."""
    green_defect(request, impl, "RCVTIMEO has no effect")
    context = context_of(request)
    if how == "context default":
        context.setsockopt(zmq.RCVTIMEO, 100)
    pull = context.socket(impl.PULL)
    bound(pull, inproc)
    if how == "attribute":
        pull.rcvtimeo = 100
    elif how == "setsockopt":
        pull.setsockopt(zmq.RCVTIMEO, 100)
    elif how == "set":
        pull.set(zmq.RCVTIMEO, 100)
    start = time.monotonic()
    with gevent.Timeout(0.5):
        with pytest.raises(zmq.Again):
            pull.recv()
    assert 0.09 <= time.monotonic() - start < PROMPTLY


@pytest.mark.filterwarnings("ignore:TIMEO socket options have no effect")
@pytest.mark.parametrize("how", ["attribute", "setsockopt"])
def test_send_timeout_is_honoured(
    request: pytest.FixtureRequest, impl: ModuleType, how: str
) -> None:
    """SNDTIMEO makes a send that cannot go out (no peer) raise zmq.Again after that time."""
    green_defect(request, impl, "SNDTIMEO has no effect")
    push = context_of(request).socket(impl.PUSH)
    bound(push, inproc)
    if how == "attribute":
        push.sndtimeo = 100
    else:
        push.setsockopt(zmq.SNDTIMEO, 100)
    start = time.monotonic()
    with gevent.Timeout(0.5):
        with pytest.raises(zmq.Again):
            push.send(b"nobody listens")
    assert 0.09 <= time.monotonic() - start < PROMPTLY


def test_timeout_zero_tries_once(ctx: Any) -> None:
    """RCVTIMEO=0 tries once and raises zmq.Again without waiting."""
    pull = ctx.socket(zmq.PULL)
    bound(pull, inproc)
    pull.rcvtimeo = 0
    start = time.monotonic()
    with pytest.raises(zmq.Again):
        pull.recv_multipart()
    assert time.monotonic() - start < 0.5


@pytest.mark.parametrize("operation", ["recv", "recv_multipart", "send", "poll"])
def test_close_wakes_every_waiter(
    request: pytest.FixtureRequest, impl: ModuleType, operation: str
) -> None:
    """close() wakes every greenlet waiting on the socket with a ZMQError (ENOTSOCK)."""
    green_defect(request, impl, "waiters are not all woken on close")
    context = context_of(request)
    kind = impl.PUSH if operation == "send" else impl.PULL
    sock = context.socket(kind)
    bound(sock, inproc)

    def wait() -> Any:
        if operation == "send":
            return sock.send(b"x")
        if operation == "poll":
            return sock.poll()
        return getattr(sock, operation)()

    waiters = [gevent.spawn(wait) for _ in range(2)]
    gevent.sleep(0.05)
    sock.close()
    gevent.joinall(waiters, timeout=PROMPTLY)
    for waiter in waiters:
        assert waiter.ready()
        assert isinstance(waiter.exception, zmq.ZMQError)
        assert waiter.exception.errno == errno.ENOTSOCK


def test_close_raises_socket_closed_error(ctx: Any) -> None:
    """A waiter whose socket is closed gets gzmq.SocketClosedError, and later use raises too."""
    pull = ctx.socket(zmq.PULL)
    bound(pull, inproc)
    waiter = gevent.spawn(pull.recv)
    gevent.sleep(0.02)
    pull.close()
    with pytest.raises(gzmq.SocketClosedError):
        waiter.get(timeout=PROMPTLY)
    with pytest.raises(zmq.ZMQError):
        pull.recv()
    assert pull.closed


def test_routing_id_kwarg_is_not_dropped(request: pytest.FixtureRequest, impl: ModuleType) -> None:
    """send(routing_id=...) is honoured on every path: without draft, pyzmq refuses it."""
    green_defect(request, impl, "routing_id is silently dropped unless NOBLOCK")
    if zmq.DRAFT_API:
        pytest.skip("with draft support routing_id is valid; see the draft test")
    _, push = make_pair(context_of(request), impl.PULL, impl.PUSH, inproc)
    with pytest.raises(RuntimeError, match="draft"):
        push.send(b"x", routing_id=1)
    with pytest.raises(RuntimeError, match="draft"):
        push.send(b"x", group="news")


needs_draft = pytest.mark.skipif(
    not zmq.DRAFT_API, reason="needs libzmq and pyzmq built with draft support"
)


@needs_draft
def test_routing_id_on_the_blocking_path_with_draft(ctx: Any) -> None:
    """A SERVER reply sent with routing_id through the waiting path reaches its CLIENT."""
    server = ctx.socket(zmq.SERVER)
    address = bound(server, inproc)
    client = ctx.socket(zmq.CLIENT)
    client.connect(address)
    client.send(b"hello")
    request = server.recv(copy=False)
    server._g.waiting.streak = FAIRNESS_LIMIT  # take the waiting path, not the fast one
    server.send(b"world", routing_id=request.routing_id)
    with gevent.Timeout(PROMPTLY):
        assert client.recv() == b"world"


@needs_draft
def test_group_on_the_blocking_path_with_draft(ctx: Any) -> None:
    """A RADIO message sent with group through the waiting path reaches the DISH that joined it."""
    dish = ctx.socket(zmq.DISH)
    dish.rcvtimeo = 2000
    address = bound(dish, lambda: "udp://127.0.0.1:*")
    dish.join("news")
    radio = ctx.socket(zmq.RADIO)
    radio.connect(address)
    gevent.sleep(0.1)
    radio._g.waiting.streak = FAIRNESS_LIMIT
    radio.send(b"extra", group="news")
    frame = dish.recv(copy=False)
    assert (frame.bytes, frame.group) == (b"extra", "news")


def _loop_iterations() -> int:
    iteration: int = gevent.get_hub().loop.iteration
    return iteration


def test_idle_poll_does_not_spin(ctx: Any) -> None:
    """An idle poll(500) sleeps: a handful of loop iterations and little CPU, not a spin."""
    quiet = ctx.socket(zmq.PULL)
    bound(quiet, inproc)
    # A REP with a request waiting is readable but not writable: asked for
    # POLLOUT only, it must not wake the poll over and over.
    rep, req = make_pair(ctx, zmq.REP, zmq.REQ, inproc)
    req.send(b"pending")
    gevent.sleep(0.05)
    read_end, write_end = os.pipe()
    poller = gzmq.green.Poller()
    poller.register(quiet, zmq.POLLIN)
    poller.register(rep, zmq.POLLOUT)
    poller.register(read_end, zmq.POLLIN)
    try:
        iterations = _loop_iterations()
        cpu = time.process_time()
        start = time.monotonic()
        assert poller.poll(500) == []
        elapsed = time.monotonic() - start
        cpu = time.process_time() - cpu
        iterations = _loop_iterations() - iterations
    finally:
        os.close(read_end)
        os.close(write_end)
    assert 0.45 <= elapsed < PROMPTLY
    assert iterations < 50, f"{iterations} loop iterations in an idle poll"
    assert cpu < 0.25, f"{cpu:.3f} s of CPU in an idle poll"


def test_poll_wakes_on_each_kind_of_source(ctx: Any) -> None:
    """A waiting poll returns once a green socket, a raw fd or another zmq socket is ready."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    plain = zmq.Context()
    try:
        raw_pull = plain.socket(zmq.PULL)
        raw_pull.linger = 0
        raw_pull.bind("tcp://127.0.0.1:*")
        raw_push = plain.socket(zmq.PUSH)
        raw_push.linger = 0
        raw_push.connect(raw_pull.last_endpoint)
        left, right = socket.socketpair()
        poller = gzmq.green.Poller()
        for item in (pull, raw_pull, left):
            poller.register(item, zmq.POLLIN)
        triggers: list[Callable[[], Any]] = [
            lambda: push.send(b"green"),
            lambda: raw_push.send(b"plain"),
            lambda: right.send(b"fd"),
        ]
        for trigger, expected in zip(triggers, (pull, raw_pull, left.fileno()), strict=True):
            gevent.spawn_later(0.05, trigger)
            with gevent.Timeout(PROMPTLY):
                events = dict(poller.poll())
            assert events == {expected: zmq.POLLIN}
            if expected is pull:
                pull.recv()
            elif expected is raw_pull:
                raw_pull.recv()
            else:
                left.recv(10)
        left.close()
        right.close()
    finally:
        plain.destroy(linger=0)


def test_poll_sees_messages_after_another_greenlet_consumed_the_edge(ctx: Any) -> None:
    """A waiting poll wakes even when another greenlet's operation consumed the edge."""
    dealer, router = make_pair(ctx, zmq.DEALER, zmq.ROUTER, inproc)
    poller = gzmq.green.Poller()
    poller.register(router, zmq.POLLIN)
    waiting = gevent.spawn(poller.poll, 5000)
    gevent.sleep(0.02)
    dealer.send(b"ping")
    # Process the router's commands here, as a send on it would, before the hub runs.
    deadline = time.monotonic() + PROMPTLY
    while not zmq.Socket.get(router, zmq.EVENTS) & zmq.POLLIN and time.monotonic() < deadline:
        time.sleep(0.001)
    router.send_multipart([b"nobody", b"x"])  # ROUTER drops it, but the op happens
    assert waiting.get(timeout=PROMPTLY) == [(router, zmq.POLLIN)]


def _proxy_run(module: ModuleType, context: Any) -> tuple[int, int]:
    """Run module.proxy ~0.5 s (a thread then terms the context); return (ticks, forwarded)."""
    front = context.socket(module.PULL)
    front_address = bound(front, inproc)
    back = context.socket(module.PUSH)
    back_address = bound(back, inproc)
    producer = context.socket(module.PUSH)
    producer.linger = 0
    producer.connect(front_address)
    consumer = context.socket(module.PULL)
    consumer.linger = 0
    consumer.connect(back_address)
    ticks = 0
    forwarded = 0

    def tick() -> None:
        nonlocal ticks
        while True:
            gevent.sleep(0.01)
            ticks += 1

    def forward() -> None:
        nonlocal forwarded
        while True:
            producer.send(b"m")
            consumer.recv()
            forwarded += 1
            gevent.sleep(0.005)

    # A real thread ends the proxy even if the hub is blocked (zmq.green).
    terminator = threading.Timer(0.5, context.term)
    ticker = gevent.spawn(tick)
    terminator.start()
    proxy = gevent.spawn(module.proxy, front, back)
    gevent.sleep(0.05)
    flow = gevent.spawn(forward)
    gevent.sleep(0.3)
    seen = (ticks, forwarded)
    proxy.join(timeout=3)
    flow.kill()
    ticker.kill()
    for sock in (front, back, producer, consumer):
        sock.close()
    terminator.join(timeout=3)
    return seen


def test_proxy_does_not_block_the_hub(request: pytest.FixtureRequest, impl: ModuleType) -> None:
    """While proxy() forwards messages, other greenlets keep running."""
    green_defect(request, impl, "proxy blocks the hub")
    ticks, forwarded = _proxy_run(impl, context_of(request))
    assert ticks >= 10, f"the hub ran only {ticks} ticks in 0.3 s"
    assert forwarded >= 5, f"only {forwarded} messages went through the proxy"


def test_proxy_steerable_terminate(ctx: Any) -> None:
    """proxy_steerable forwards off the hub and returns on TERMINATE from its control socket."""
    front = ctx.socket(zmq.PULL)
    front_address = bound(front, inproc)
    back = ctx.socket(zmq.PUSH)
    back_address = bound(back, inproc)
    control = ctx.socket(zmq.PAIR)
    control_address = bound(control, inproc)
    steer = ctx.socket(zmq.PAIR)
    steer.linger = 0
    steer.connect(control_address)
    producer = ctx.socket(zmq.PUSH)
    producer.linger = 0
    producer.connect(front_address)
    consumer = ctx.socket(zmq.PULL)
    consumer.linger = 0
    consumer.connect(back_address)
    proxy = gevent.spawn(gzmq.green.proxy_steerable, front, back, None, control)
    producer.send(b"through")
    with gevent.Timeout(PROMPTLY):
        assert consumer.recv() == b"through"  # the proxy runs: now steer it
    steer.send(b"TERMINATE")
    proxy.get(timeout=PROMPTLY)
    assert back.poll(0, zmq.POLLOUT) == zmq.POLLOUT  # released: usable again


def test_proxy_ends_on_context_term_and_guards_its_sockets(ctx: Any) -> None:
    """proxy() runs until ctx.term(); meanwhile its sockets refuse other use with a clear error."""
    front = ctx.socket(zmq.PULL)
    front_address = bound(front, inproc)
    back = ctx.socket(zmq.PUSH)
    back_address = bound(back, inproc)
    producer = ctx.socket(zmq.PUSH)
    producer.linger = 0
    producer.connect(front_address)
    consumer = ctx.socket(zmq.PULL)
    consumer.linger = 0
    consumer.connect(back_address)
    proxy = gevent.spawn(gzmq.green.proxy, front, back)
    gevent.sleep(0.05)
    for number in range(50):
        producer.send(b"%d" % number)
    with gevent.Timeout(PROMPTLY):
        assert [consumer.recv() for _ in range(50)] == [b"%d" % n for n in range(50)]
    for use in (lambda: front.recv(zmq.NOBLOCK), lambda: back.send(b"x"), front.close):
        with pytest.raises(gzmq.InvalidThreadUseError, match="proxy"):
            use()
    with pytest.raises(gzmq.InvalidThreadUseError, match="proxy"):
        front.getsockopt(zmq.EVENTS)
    terminating = gevent.spawn(ctx.term)
    with pytest.raises(zmq.ContextTerminated):
        proxy.get(timeout=PROMPTLY)
    for sock in (front, back, producer, consumer):
        sock.close()
    terminating.get(timeout=PROMPTLY)


def test_device_forwards_off_the_hub(ctx: Any) -> None:
    """device(QUEUE, ...) forwards like proxy and leaves the hub free."""
    front = ctx.socket(zmq.ROUTER)
    front_address = bound(front, inproc)
    back = ctx.socket(zmq.DEALER)
    back_address = bound(back, inproc)
    worker = ctx.socket(zmq.REP)
    worker.linger = 0
    worker.connect(back_address)
    client = ctx.socket(zmq.REQ)
    client.linger = 0
    client.connect(front_address)
    running = gevent.spawn(gzmq.green.device, zmq.QUEUE, front, back)

    def serve() -> None:
        worker.send(worker.recv() + b"!")

    server = gevent.spawn(serve)
    client.send(b"hi")
    with gevent.Timeout(PROMPTLY):
        assert client.recv() == b"hi!"
    server.join()
    terminating = gevent.spawn(ctx.term)
    with pytest.raises(zmq.ContextTerminated):
        running.get(timeout=PROMPTLY)
    for sock in (front, back, worker, client):
        sock.close()
    terminating.get(timeout=PROMPTLY)


@pytest.mark.parametrize("stop", ["kill", "timeout"])
def test_interrupting_the_proxy_greenlet_stops_the_proxy(ctx: Any, stop: str) -> None:
    """Killing (or timing out) the greenlet in device() stops the proxy and frees its sockets."""
    rep = ctx.socket(zmq.REP)
    address = bound(rep, inproc)
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.connect(address)
    if stop == "kill":
        running = gevent.spawn(gzmq.green.device, zmq.QUEUE, rep, rep)  # a single-socket device
    else:
        running = gevent.spawn(gevent.with_timeout, 0.3, gzmq.green.device, zmq.QUEUE, rep, rep)
    req.send(b"echo")
    with gevent.Timeout(PROMPTLY):
        assert req.recv() == b"echo"
    if stop == "kill":
        running.kill(block=True, timeout=PROMPTLY)
    else:
        with pytest.raises(gevent.Timeout):
            running.get(timeout=PROMPTLY)
    assert running.dead
    req.send(b"served by hand")  # the REP is ours again
    with gevent.Timeout(PROMPTLY):
        assert rep.recv() == b"served by hand"
    rep.close()
    req.close()


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_unclosed_socket_is_garbage_collected(
    request: pytest.FixtureRequest, impl: ModuleType, endpoint: Callable[[], str]
) -> None:
    """A socket dropped without close() (after it has waited) is collected and closed."""
    green_defect(request, impl, "the socket's running watcher keeps it alive")
    context = context_of(request)
    pull = context.socket(impl.PULL)
    bound(pull, endpoint)
    waiter = gevent.spawn(pull.recv)
    gevent.sleep(0.02)  # parked: the socket's watcher runs
    waiter.kill()
    ref = weakref.ref(pull)
    del pull, waiter
    gevent.sleep(0.01)  # let the hub drop its references to the killed greenlet
    gc.collect()
    assert ref() is None
    assert all(sock.closed for sock in list(context._sockets))


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_unclosed_socket_is_freed_without_the_cycle_collector(ctx: Any) -> None:
    """A dropped green socket is freed by reference counting alone (no reference cycle)."""
    pull = ctx.socket(zmq.PULL)
    bound(pull, inproc)
    pull.rcvtimeo = 20
    with pytest.raises(zmq.Again):
        pull.recv()
    ref = weakref.ref(pull)
    gc.disable()
    try:
        del pull
        assert ref() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("read", ["getsockopt", "get", "attribute"])
def test_reading_events_does_not_lose_a_wakeup(
    request: pytest.FixtureRequest, impl: ModuleType, read: str, endpoint: Callable[[], str]
) -> None:
    """Reading EVENTS (which consumes ZMQ_FD's edge) still wakes a greenlet blocked in recv."""
    if read == "getsockopt":
        green_defect(request, impl, "getsockopt(EVENTS) bypasses the wake-up logic")
    pull, push = make_pair(context_of(request), impl.PULL, impl.PUSH, endpoint)
    reader = {
        "getsockopt": lambda: pull.getsockopt(zmq.EVENTS),
        "get": lambda: pull.get(zmq.EVENTS),
        "attribute": lambda: pull.events,
    }[read]
    waiter = gevent.spawn(pull.recv)
    gevent.sleep(0.05)
    push.send(b"wake up")
    # Read EVENTS until the message shows, without letting the hub poll the fd.
    deadline = time.monotonic() + PROMPTLY
    while not reader() & zmq.POLLIN and time.monotonic() < deadline:
        time.sleep(0.001)
    assert waiter.get(timeout=0.5) == b"wake up"


@pytest.mark.parametrize(
    "operation", ["bind", "connect", "unbind", "disconnect", "setsockopt", "attribute"]
)
def test_other_calls_do_not_lose_a_wakeup(ctx: Any, operation: str) -> None:
    """bind/connect/unbind/disconnect/options run libzmq's commands: a blocked recv still wakes."""
    pull = ctx.socket(zmq.PULL)
    pull.linger = 0
    address, spare = inproc(), inproc()
    pull.bind(address)
    pull.bind(spare)
    push = ctx.socket(zmq.PUSH)
    push.linger = 0
    push.connect(address)
    waiter = gevent.spawn(pull.recv)
    gevent.sleep(0.02)
    push.send(b"wake up")  # signals pull's ZMQ_FD; the call below drains it first
    if operation == "bind":
        pull.bind(inproc())
    elif operation == "connect":
        pull.connect(inproc())
    elif operation == "unbind":
        pull.unbind(spare)
    elif operation == "disconnect":
        elsewhere = inproc()
        pull.connect(elsewhere)
        pull.disconnect(elsewhere)
    elif operation == "setsockopt":
        pull.setsockopt(zmq.RCVHWM, 500)
    else:
        pull.rcvhwm = 500
    assert waiter.get(timeout=PROMPTLY) == b"wake up"


# -- frame by frame, NOBLOCK, fairness, threads ---------------------------------------------


def test_frame_by_frame_sends_never_interleave(ctx: Any, endpoint: Callable[[], str]) -> None:
    """Greenlets sending frame by frame, yielding in between, never mix their messages."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, endpoint)

    def sender(name: bytes) -> None:
        for part in range(3):
            push.send(name + b"%d" % part, zmq.SNDMORE)
            gevent.sleep(0)
        push.send(name + b"end")

    senders = [gevent.spawn(sender, name) for name in (b"a", b"b", b"c")]
    gevent.joinall(senders, timeout=PROMPTLY, raise_error=True)
    with gevent.Timeout(PROMPTLY):
        messages = sorted(pull.recv_multipart() for _ in range(3))
    parts = (b"0", b"1", b"2", b"end")
    assert messages == [[name + part for part in parts] for name in (b"a", b"b", b"c")]


def test_frame_by_frame_receives_never_interleave(ctx: Any, endpoint: Callable[[], str]) -> None:
    """Greenlets reading frame by frame, yielding in between, each get one whole message."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, endpoint)

    def reader() -> list[bytes]:
        frames = [pull.recv()]
        while pull.getsockopt(zmq.RCVMORE):
            gevent.sleep(0)
            frames.append(pull.recv())
        assert not pull.rcvmore
        return frames

    readers = [gevent.spawn(reader) for _ in range(3)]
    gevent.sleep(0.02)
    for name in (b"a", b"b", b"c"):
        push.send_multipart([name + b"1", name + b"2", name + b"3"])
    gevent.joinall(readers, timeout=PROMPTLY, raise_error=True)
    assert sorted(glet.value for glet in readers) == [
        [name + b"1", name + b"2", name + b"3"] for name in (b"a", b"b", b"c")
    ]


def test_mixed_frame_level_and_multipart_calls(ctx: Any) -> None:
    """recv() then recv_multipart() finish one message; send(SNDMORE) + send_multipart() too."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    push.send(b"a", zmq.SNDMORE)
    push.send_multipart([b"b", b"c"])
    with gevent.Timeout(PROMPTLY):
        assert pull.recv() == b"a"
        assert pull.recv_multipart() == [b"b", b"c"]
        push.send_multipart([b"x", b"y"])
        frame = pull.recv(copy=False)
        assert (frame.bytes, frame.more) == (b"x", True)
        rest = pull.recv(copy=False)
        assert (rest.bytes, rest.more) == (b"y", False)


def test_noblock_never_waits(ctx: Any) -> None:
    """flags=NOBLOCK raises zmq.Again at once on an empty or full socket, as pyzmq does."""
    pull = ctx.socket(zmq.PULL)
    bound(pull, inproc)
    push = ctx.socket(zmq.PUSH)
    bound(push, inproc)  # no peer: never writable
    start = time.monotonic()
    for attempt in (
        lambda: pull.recv(zmq.NOBLOCK),
        lambda: pull.recv_multipart(zmq.NOBLOCK),
        lambda: push.send(b"x", zmq.NOBLOCK),
        lambda: push.send_multipart([b"x", b"y"], zmq.NOBLOCK),
        lambda: push.send(b"x", zmq.NOBLOCK | zmq.SNDMORE),
    ):
        with pytest.raises(zmq.Again):
            attempt()
    assert time.monotonic() - start < 0.5


def test_draining_a_busy_socket_lets_other_greenlets_run(ctx: Any) -> None:
    """A greenlet receiving from a socket that always has data yields now and then."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    count = 2 * FAIRNESS_LIMIT + 8
    for number in range(count):
        push.send(b"%d" % number)
    gevent.sleep(0.05)
    ran = []
    other = gevent.spawn(ran.append, True)
    for _ in range(count):
        pull.recv()
        if ran:
            break
    assert ran, "the draining greenlet never let another greenlet run"
    other.join()


def test_socket_moves_to_another_thread_when_idle(ctx: Any) -> None:
    """An idle green socket made in one thread can wait in another (as pyzmq allows)."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    got: list[Any] = []

    def in_thread() -> None:
        try:
            pull.rcvtimeo = 2000
            got.append(pull.recv())
        except zmq.ZMQError as error:  # reported to the test below
            got.append(error)

    thread = threading.Thread(target=in_thread)
    thread.start()
    time.sleep(0.1)
    push.send(b"across")
    thread.join(timeout=5)
    assert got == [b"across"]


def test_socket_with_waiters_refuses_another_thread(ctx: Any) -> None:
    """A socket with greenlets waiting in one thread raises InvalidThreadUseError in another."""
    pull = ctx.socket(zmq.PULL)
    bound(pull, inproc)
    waiter = gevent.spawn(pull.recv)
    gevent.sleep(0.02)
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            pull.recv()
        except gzmq.InvalidThreadUseError as error:  # reported to the test below
            errors.append(error)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(timeout=5)
    assert len(errors) == 1 and isinstance(errors[0], gzmq.InvalidThreadUseError)
    waiter.kill()


def test_context_term_does_not_block_the_hub(ctx: Any) -> None:
    """ctx.term() in a greenlet waits off the hub; an open socket gets ContextTerminated."""
    pull = ctx.socket(zmq.PULL)
    bound(pull, inproc)

    def user() -> str:
        try:
            pull.recv()
        except zmq.ContextTerminated:
            pull.close()
            return "closed"
        return "received"

    holder = gevent.spawn(user)
    gevent.sleep(0.02)
    ticks: list[int] = []
    ticker = gevent.spawn(lambda: [gevent.sleep(0.01) or ticks.append(1) for _ in range(10)])
    with gevent.Timeout(PROMPTLY):
        ctx.term()
    assert holder.get() == "closed"
    assert ctx.closed
    ticker.join()


# -- the pyzmq API, as a zmq.green user writes it ---------------------------------------------


def test_every_pyzmq_name_is_exported() -> None:
    """gzmq.green has every name of zmq.__all__; the green ones are gzmq's, the rest pyzmq's."""
    assert set(zmq.__all__) <= set(gzmq.green.__all__)
    for name in zmq.__all__:
        value = getattr(gzmq.green, name)
        if name not in gzmq.green.GREEN_NAMES:
            assert value is getattr(zmq, name), name
    assert gzmq.green.Context is gzmq.green.core.Context
    assert issubclass(gzmq.green.Socket, zmq.Socket)
    assert issubclass(gzmq.green.Context, zmq.Context)
    assert issubclass(gzmq.green.Poller, zmq.Poller)
    assert gzmq.green.proxy is not zmq.proxy and gzmq.green.select is not zmq.select


def test_context_instance_and_socket_classes() -> None:
    """Context.instance() is one green context (not pyzmq's); ctx.socket() makes green sockets."""
    instance = gzmq.green.Context.instance()
    assert instance is gzmq.green.Context.instance()
    assert isinstance(instance, gzmq.green.Context)
    assert zmq.Context._instance is not instance
    sock = instance.socket(gzmq.green.REQ)
    try:
        assert isinstance(sock, gzmq.green.Socket) and isinstance(sock, zmq.Socket)
        assert sock.type == zmq.REQ
        assert sock.context is instance
    finally:
        sock.close()


def test_repr() -> None:
    """repr() names the green classes, the socket type, and the closed state."""
    with gzmq.green.Context() as context:
        sock = context.socket(zmq.REQ)
        assert repr(sock).startswith("<gzmq.green.Socket(zmq.REQ) at 0x")
        assert "gzmq.green.Context(1 socket)" in repr(context)
        sock.close()
        assert repr(sock).endswith(" closed>")


def test_req_rep_with_every_send_recv_flavour(ctx: Any, endpoint: Callable[[], str]) -> None:
    """REQ/REP round trips with send/recv, multipart, json, string, pyobj and serialized."""
    rep, req = make_pair(ctx, zmq.REP, zmq.REQ, endpoint)

    def echo() -> None:
        while True:
            rep.send_multipart(rep.recv_multipart())

    server = gevent.spawn(echo)
    try:
        with gevent.Timeout(PROMPTLY):
            req.send(b"bytes")
            assert req.recv() == b"bytes"
            req.send_multipart([b"a", b"b", memoryview(b"c")])
            assert req.recv_multipart() == [b"a", b"b", b"c"]
            req.send_json({"answer": 42})
            assert req.recv_json() == {"answer": 42}
            req.send_string("héllo")
            assert req.recv_string() == "héllo"
            req.send_pyobj((1, {2}))
            assert req.recv_pyobj() == (1, {2})
            req.send_serialized([1, 2], lambda obj: [bytes(obj)])
            assert req.recv_serialized(lambda frames: list(frames[0])) == [1, 2]
    finally:
        server.kill()


def test_many_concurrent_requests_through_one_router(ctx: Any, endpoint: Callable[[], str]) -> None:
    """Fifty greenlets, each with its own REQ, are served concurrently by a ROUTER greenlet."""
    router = ctx.socket(zmq.ROUTER)
    address = bound(router, endpoint)

    def serve() -> None:
        while True:
            ident, empty, body = router.recv_multipart()
            router.send_multipart([ident, empty, body.upper()])

    def client(number: int) -> bytes:
        with ctx.socket(zmq.REQ) as req:
            req.linger = 0
            req.connect(address)
            req.send_string(f"req{number}")
            reply: bytes = req.recv()
            return reply

    server = gevent.spawn(serve)
    clients = [gevent.spawn(client, number) for number in range(50)]
    gevent.joinall(clients, timeout=5 * PROMPTLY, raise_error=True)
    server.kill()
    assert [glet.value for glet in clients] == [f"REQ{n}".encode() for n in range(50)]


def test_socket_poll(ctx: Any, endpoint: Callable[[], str]) -> None:
    """Socket.poll(timeout, flags) returns 0 on timeout and the ready events otherwise."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, endpoint)
    assert pull.poll(50) == 0
    gevent.spawn_later(0.05, push.send, b"x")
    with gevent.Timeout(PROMPTLY):
        assert pull.poll(5000) == zmq.POLLIN
    assert push.poll(0, zmq.POLLOUT) == zmq.POLLOUT
    assert pull.recv() == b"x"


def test_poller_with_raw_fds_and_sockets(ctx: Any) -> None:
    """A Poller mixing a green socket, an fd int and an object with fileno() reports each one."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    read_end, write_end = os.pipe()
    left, right = socket.socketpair()
    try:
        poller = gzmq.green.Poller()
        poller.register(pull, zmq.POLLIN)
        poller.register(read_end, zmq.POLLIN)
        poller.register(left, zmq.POLLIN)
        assert poller.poll(0) == []
        push.send(b"x")
        os.write(write_end, b"y")
        right.send(b"z")
        with gevent.Timeout(PROMPTLY):
            events: dict[Any, int] = {}
            while len(events) < 3:
                events.update(poller.poll(1000))
        assert events == {pull: zmq.POLLIN, read_end: zmq.POLLIN, left.fileno(): zmq.POLLIN}
        poller.unregister(pull)
        assert pull not in poller
        poller.register(write_end, zmq.POLLOUT)
        assert (write_end, zmq.POLLOUT) in poller.poll(100)
    finally:
        os.close(read_end)
        os.close(write_end)
        left.close()
        right.close()


def test_select(ctx: Any) -> None:
    """zmq.select() returns readable and writable lists, and empty lists on timeout."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    assert gzmq.green.select([pull], [], [], 0.05) == ([], [], [])
    push.send(b"x")
    with gevent.Timeout(PROMPTLY):
        readable, writable, _ = gzmq.green.select([pull], [push], [], 5)
    assert (readable, writable) == ([pull], [push])


def test_green_zmq_poll(ctx: Any) -> None:
    """zmq_poll(items, timeout_ms) waits cooperatively and returns what is ready."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    assert gzmq.green.zmq_poll([(pull, zmq.POLLIN)], 30) == []
    gevent.spawn_later(0.05, push.send, b"x")
    with gevent.Timeout(PROMPTLY):
        assert gzmq.green.zmq_poll([(pull, zmq.POLLIN)], -1) == [(pull, zmq.POLLIN)]


def test_message_tracker(ctx: Any) -> None:
    """send(copy=False, track=True) returns a MessageTracker that finishes once libzmq is done."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, lambda: "tcp://127.0.0.1:*")
    payload = b"t" * (2 * zmq.COPY_THRESHOLD)
    tracker = push.send(payload, copy=False, track=True)
    assert isinstance(tracker, zmq.MessageTracker)
    with gevent.Timeout(PROMPTLY):
        assert pull.recv() == payload
    tracker.wait(PROMPTLY)
    assert tracker.done
    trackers = push.send_multipart([b"a", payload], copy=False, track=True)
    with gevent.Timeout(PROMPTLY):
        assert pull.recv_multipart() == [b"a", payload]
    trackers.wait(PROMPTLY)
    assert trackers.done


def test_zero_copy_receive(ctx: Any) -> None:
    """recv(copy=False) returns zmq.Frame objects with .more, and recv_into fills a buffer."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    push.send_multipart([b"one", b"two"])
    with gevent.Timeout(PROMPTLY):
        frames = pull.recv_multipart(copy=False)
    assert [(frame.bytes, frame.more) for frame in frames] == [(b"one", True), (b"two", False)]
    push.send_multipart([b"abcdef", b"xy"])
    buffer = bytearray(4)
    with gevent.Timeout(PROMPTLY):
        assert pull.recv_into(buffer) == 6  # the frame's size: truncated to 4
        assert bytes(buffer) == b"abcd"
        assert pull.rcvmore
        assert pull.recv_into(buffer) == 2 and bytes(buffer[:2]) == b"xy"


def test_shadow(ctx: Any) -> None:
    """Socket.shadow() and Socket(other) wrap an existing socket, green, sharing its queue."""
    pull, push = make_pair(ctx, zmq.PULL, zmq.PUSH, inproc)
    shadow = gzmq.green.Socket.shadow(pull.underlying)
    assert isinstance(shadow, gzmq.green.Socket)
    push.send(b"via shadow")
    with gevent.Timeout(PROMPTLY):
        assert shadow.recv() == b"via shadow"
    # Green objects on one libzmq socket share one queue: closing one wakes the other's waiter.
    waiter = gevent.spawn(shadow.recv)
    gevent.sleep(0.02)
    pull.close()
    with pytest.raises(gzmq.SocketClosedError):
        waiter.get(timeout=PROMPTLY)
    shadow.close()
    assert shadow.closed
    plain = zmq.Context()
    try:
        raw = plain.socket(zmq.PULL)
        raw.linger = 0
        raw.rcvtimeo = 80
        raw.bind("tcp://127.0.0.1:*")
        wrapped = gzmq.green.Socket(raw)
        assert wrapped.context is plain
        with pytest.raises(zmq.Again):  # RCVTIMEO set before wrapping is honoured
            wrapped.recv()
        raw.close()
    finally:
        plain.destroy(linger=0)


def test_context_default_options_and_monitor_socket(ctx: Any) -> None:
    """Context-level socket options apply; get_monitor_socket() gives a green PAIR."""
    ctx.linger = 0
    sock = ctx.socket(zmq.DEALER)
    assert sock.linger == 0
    monitor = sock.get_monitor_socket()
    assert isinstance(monitor, gzmq.green.Socket)
    sock.bind("tcp://127.0.0.1:*")
    with gevent.Timeout(PROMPTLY):
        event = zmq.utils.monitor.recv_monitor_message(monitor)
    assert event["event"] in (zmq.EVENT_LISTENING, zmq.EVENT_BIND_FAILED)
    sock.disable_monitor()
    monitor.close()


def test_bind_to_random_port_and_context_managers() -> None:
    """bind_to_random_port and the with-statements of Context and Socket work as in pyzmq."""
    with gzmq.green.Context() as context, context.socket(zmq.REP) as rep:
        rep.linger = 0
        port = rep.bind_to_random_port("tcp://127.0.0.1")
        with context.socket(zmq.REQ) as req:
            req.linger = 0
            req.connect(f"tcp://127.0.0.1:{port}")
            req.send(b"ping")
            with gevent.Timeout(PROMPTLY):
                assert rep.recv() == b"ping"
    assert rep.closed and context.closed


def test_send_rejects_str_like_pyzmq(ctx: Any) -> None:
    """Sending str raises TypeError (use send_string), on every path."""
    push = ctx.socket(zmq.PUSH)
    bound(push, inproc)
    with pytest.raises(TypeError):
        push.send("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="buffer"):
        push.send_multipart([b"ok", "text"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        push.send("text", zmq.SNDMORE)  # type: ignore[arg-type]
