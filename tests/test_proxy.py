"""gzmq.Proxy (DESIGN §7): libzmq's steerable proxy off the hub, over real tcp, ipc and inproc."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator

import gevent
import pytest
import zmq
from zope.interface.verify import verifyClass, verifyObject

import gzmq
from gzmq.errors import InvalidThreadUseError, SocketClosedError
from gzmq.interfaces import IProxy
from gzmq.proxy import Proxy, ProxyStatistics, SideStatistics

Endpoint = Callable[[], str]


class Heartbeat:
    """A greenlet ticking every few ms; its largest gap shows whether the hub was blocked."""

    def __init__(self) -> None:
        self.ticks = 0
        self.max_gap = 0.0
        self._last = time.monotonic()
        self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            gevent.sleep(0.002)
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - self._last)
            self._last = now
            self.ticks += 1

    def stop(self) -> None:
        self._greenlet.kill()
        assert self.max_gap < 1.0, f"the hub was blocked for {self.max_gap:.3f} s"


@pytest.fixture
def heartbeat() -> Iterator[Heartbeat]:
    """A heartbeat greenlet, checked at the end of the test: the hub never stalled."""
    beat = Heartbeat()
    yield beat
    beat.stop()


def start(proxy: Proxy) -> gevent.Greenlet:
    """Run the proxy in a greenlet and let it start."""
    runner = gevent.spawn(proxy.run)
    gevent.sleep(0)
    assert not runner.dead, runner.exception
    return runner


def bound(cls: type, context: gzmq.Context, address: str, **options: object) -> gzmq.Socket:
    sock = cls(context=context, linger=0, **options)
    sock.bind(address)
    return sock


def linked(cls: type, context: gzmq.Context, peer: gzmq.Socket, **options: object) -> gzmq.Socket:
    sock = cls(context=context, linger=0, **options)
    sock.connect(peer.last_endpoint)
    return sock


def push_pull_proxy(
    context: gzmq.Context, endpoint: Endpoint, capture: gzmq.Socket | None = None
) -> tuple[Proxy, gzmq.Push, gzmq.Pull]:
    """PUSH -> [PULL | proxy | PUSH] -> PULL; returns (proxy, producer, consumer)."""
    front = bound(gzmq.Pull, context, endpoint())
    back = bound(gzmq.Push, context, endpoint())
    producer = linked(gzmq.Push, context, front)
    consumer = linked(gzmq.Pull, context, back)
    return Proxy(front, back, capture), producer, consumer


# -- the contract -------------------------------------------------------------------------


def test_proxy_provides_iproxy(context: gzmq.Context) -> None:
    """Proxy implements IProxy (class and live instance); the ends are read-only."""
    front = bound(gzmq.Router, context, "inproc://iproxy-front")
    back = bound(gzmq.Dealer, context, "inproc://iproxy-back")
    proxy = gzmq.Proxy(front, back)
    assert verifyClass(IProxy, Proxy)
    assert verifyObject(IProxy, proxy)
    assert proxy.front_end is front and proxy.back_end is back and proxy.capture is None
    with pytest.raises(AttributeError):
        proxy.front_end = back  # type: ignore[misc]
    with pytest.raises(AttributeError):
        proxy.anything = 1  # type: ignore[attr-defined]


# -- forwarding -----------------------------------------------------------------------------


def test_request_reply_through_router_dealer(
    context: gzmq.Context, endpoint: Endpoint, heartbeat: Heartbeat
) -> None:
    """REQ -> ROUTER|proxy|DEALER -> REP: every request gets its own reply; terminate ends run()."""
    front = bound(gzmq.Router, context, endpoint())
    back = bound(gzmq.Dealer, context, endpoint())
    reply = linked(gzmq.Reply, context, back)
    clients = [linked(gzmq.Request, context, front) for _ in range(3)]
    proxy = gzmq.Proxy(front, back)
    runner = start(proxy)

    def serve() -> None:
        for message in reply:
            reply.send([b"re:" + message[0]])

    def ask(index: int, client: gzmq.Request) -> list[bytes]:
        answers = []
        for number in range(20):
            client.send(f"{index}-{number}")
            answers.append(client.recv(timeout=5)[0])
        return answers

    server = gevent.spawn(serve)
    askers = [gevent.spawn(ask, index, client) for index, client in enumerate(clients)]
    gevent.joinall(askers, timeout=20, raise_error=True)
    for index, asker in enumerate(askers):
        assert asker.value == [f"re:{index}-{number}".encode() for number in range(20)]
    ticks = heartbeat.ticks
    proxy.terminate()
    runner.get(timeout=5)
    assert front.closed and back.closed
    assert heartbeat.ticks > ticks or heartbeat.max_gap < 1.0
    server.kill()


def test_pub_sub_through_xsub_xpub(
    context: gzmq.Context, endpoint: Endpoint, heartbeat: Heartbeat
) -> None:
    """PUB -> XSUB|proxy|XPUB -> SUB: subscriptions go up, only matching messages come down."""
    front = bound(gzmq.XSubscriber, context, endpoint())
    back = bound(gzmq.XPublisher, context, endpoint())
    publisher = linked(gzmq.Publisher, context, front)
    subscriber = linked(gzmq.Subscriber, context, back)
    subscriber.subscribe(b"a")
    proxy = gzmq.Proxy(front, back)
    runner = start(proxy)
    # The subscription travels SUB -> XPUB -> proxy -> XSUB -> PUB: probe until it arrived.
    deadline = time.monotonic() + 10
    while True:
        publisher.send(b"a-probe")
        try:
            subscriber.recv(timeout=0.05)
            break
        except zmq.Again:
            assert time.monotonic() < deadline, "the subscription never reached the publisher"
    for number in range(50):
        publisher.send(f"b{number}")
        publisher.send(f"a{number}")
    received = []
    while len(received) < 50:
        message = subscriber.recv(timeout=5)[0]
        if message != b"a-probe":
            received.append(message)
    assert received == [f"a{number}".encode() for number in range(50)]
    counts = proxy.statistics()
    assert counts.back_end.received_messages >= 1  # the subscription message, upstream
    assert counts.back_end.sent_messages >= 51
    proxy.terminate()
    runner.get(timeout=5)


def test_pause_holds_messages_and_resume_releases_them(
    context: gzmq.Context, endpoint: Endpoint, heartbeat: Heartbeat
) -> None:
    """pause() holds every message; resume() releases them all, in order, none lost."""
    proxy, producer, consumer = push_pull_proxy(context, endpoint)
    runner = start(proxy)
    producer.send(b"first")
    assert consumer.recv(timeout=5) == [b"first"]  # connected all the way through
    proxy.pause()
    before = proxy.statistics()
    for number in range(200):
        producer.send(str(number))
    with pytest.raises(zmq.Again):
        consumer.recv(timeout=0.3)
    assert proxy.statistics() == before  # nothing was forwarded while paused
    proxy.resume()
    got = [consumer.recv(timeout=5)[0] for _ in range(200)]
    assert got == [str(number).encode() for number in range(200)]
    assert proxy.statistics().back_end.sent_messages == 201
    proxy.terminate()
    runner.get(timeout=5)


def test_pause_before_run_starts_paused(context: gzmq.Context) -> None:
    """pause() before run(): the proxy starts paused and forwards nothing until resume()."""
    proxy, producer, consumer = push_pull_proxy(context, gzmq_endpoints("early"))
    for number in range(5):
        producer.send(str(number))
    proxy.pause()
    runner = start(proxy)
    with pytest.raises(zmq.Again):
        consumer.recv(timeout=0.3)
    assert proxy.statistics() == ProxyStatistics()
    proxy.resume()
    assert [consumer.recv(timeout=5)[0] for _ in range(5)] == [b"0", b"1", b"2", b"3", b"4"]
    proxy.terminate()
    runner.get(timeout=5)


def gzmq_endpoints(name: str) -> Endpoint:
    """A factory of unique inproc endpoints named after a test."""
    counter = iter(range(1_000_000))
    stamp = time.monotonic_ns()
    return lambda: f"inproc://proxy-{name}-{stamp}-{next(counter)}"


def test_capture_receives_copies(context: gzmq.Context, endpoint: Endpoint) -> None:
    """The capture socket gets a copy of every message forwarded, multipart intact; stays open."""
    capture = bound(gzmq.Push, context, endpoint())
    tap = linked(gzmq.Pull, context, capture)
    proxy, producer, consumer = push_pull_proxy(context, endpoint, capture)
    assert proxy.capture is capture
    runner = start(proxy)
    messages = [[f"m{number}".encode(), b"", b"x" * number] for number in range(20)]
    for message in messages:
        producer.send(message)
    assert [consumer.recv(timeout=5) for _ in messages] == messages
    assert [tap.recv(timeout=5) for _ in messages] == messages
    proxy.terminate()
    runner.get(timeout=5)
    assert not capture.closed  # given back to its owner
    capture.send(b"still mine")
    assert tap.recv(timeout=5) == [b"still mine"]


def test_statistics_count_frames_and_bytes(context: gzmq.Context) -> None:
    """statistics() reports libzmq's counts: frames and bytes received and sent per side."""
    proxy, producer, consumer = push_pull_proxy(context, gzmq_endpoints("stats"))
    assert proxy.statistics() == ProxyStatistics()  # before run(): nothing forwarded
    runner = start(proxy)
    for number in range(10):
        producer.send([b"abc", b"x" * number])
    for _ in range(10):
        consumer.recv(timeout=5)
    frames, size = 20, 10 * 3 + sum(range(10))
    counts = proxy.statistics()
    assert counts.front_end == SideStatistics(frames, size, 0, 0)
    assert counts.back_end == SideStatistics(0, 0, frames, size)
    proxy.terminate()
    runner.get(timeout=5)
    assert proxy.statistics() == counts  # after the end: the counts as of terminate()


def test_many_greenlets_steer_at_once(context: gzmq.Context, heartbeat: Heartbeat) -> None:
    """Concurrent statistics()/pause()/resume() calls each get an answer; none hangs."""
    proxy, producer, consumer = push_pull_proxy(context, gzmq_endpoints("steer"))
    runner = start(proxy)
    calls = [gevent.spawn(proxy.statistics) for _ in range(20)]
    calls += [gevent.spawn(proxy.pause), gevent.spawn(proxy.resume)]
    gevent.joinall(calls, timeout=10, raise_error=True)
    assert all(call.successful() for call in calls)
    proxy.resume()  # whichever of pause/resume went last
    # A caller interrupted after asking leaves its reply behind (libzmq answers in
    # microseconds, so a real interruption is a race): make such a leftover here.
    control = proxy._control
    assert control is not None
    control.send(b"STATISTICS")
    proxy._owed += 1
    gevent.sleep(0.05)  # the stale reply (all zero) is waiting now
    producer.send(b"one")
    consumer.recv(timeout=5)
    assert proxy.statistics().back_end.sent_messages == 1
    proxy.terminate()
    runner.get(timeout=5)


# -- ending ---------------------------------------------------------------------------------


def test_terminate_ends_run_and_closes_both_sockets(context: gzmq.Context) -> None:
    """terminate() makes run() return with both sockets closed; the Proxy cannot run again."""
    pool = gevent.get_hub().threadpool
    maxsize = pool.maxsize
    proxy, _producer, _consumer = push_pull_proxy(context, gzmq_endpoints("terminate"))
    runner = start(proxy)
    assert pool.maxsize == maxsize + 1  # the proxy thread does not starve the pool
    proxy.terminate()
    proxy.terminate()  # idempotent
    assert runner.get(timeout=5) is None
    assert proxy.front_end.closed and proxy.back_end.closed
    assert pool.maxsize == maxsize
    with pytest.raises(SocketClosedError, match="Proxy has ended"):
        proxy.run()
    with pytest.raises(SocketClosedError, match="Proxy has ended"):
        proxy.pause()
    proxy.terminate()  # still harmless


def test_terminate_before_run(context: gzmq.Context) -> None:
    """terminate() before run(): run() closes both sockets and returns at once."""
    proxy, _producer, _consumer = push_pull_proxy(context, gzmq_endpoints("early-end"))
    proxy.terminate()
    proxy.run()
    assert proxy.front_end.closed and proxy.back_end.closed


def test_terminate_from_another_thread(context: gzmq.Context) -> None:
    """terminate() may be called from any thread; run() then returns."""
    proxy, _producer, _consumer = push_pull_proxy(context, gzmq_endpoints("thread-end"))
    runner = start(proxy)
    thread = threading.Thread(target=proxy.terminate)
    thread.start()
    thread.join(5)
    runner.get(timeout=5)
    assert proxy.front_end.closed and proxy.back_end.closed


def test_run_twice_raises(context: gzmq.Context) -> None:
    """A second run() while the first is pending raises RuntimeError; the first goes on."""
    proxy, producer, consumer = push_pull_proxy(context, gzmq_endpoints("twice"))
    runner = start(proxy)
    with pytest.raises(RuntimeError, match="already running"):
        proxy.run()
    producer.send(b"still forwarding")
    assert consumer.recv(timeout=5) == [b"still forwarding"]
    proxy.terminate()
    runner.get(timeout=5)


def test_closing_a_socket_terminates_the_proxy(context: gzmq.Context, endpoint: Endpoint) -> None:
    """close() on a socket the proxy holds ends the proxy; run() returns, both sockets closed."""
    proxy, _producer, _consumer = push_pull_proxy(context, endpoint)
    runner = start(proxy)
    proxy.back_end.close()
    runner.get(timeout=5)
    assert proxy.front_end.closed and proxy.back_end.closed
    assert proxy.statistics() == ProxyStatistics()  # the counts as of the close


def test_closing_the_context_terminates_the_proxy() -> None:
    """Context.close() while the proxy runs ends it (no hang) and closes every socket."""
    context = gzmq.Context()
    capture = bound(gzmq.Push, context, "inproc://ctx-close-capture")
    proxy, _producer, _consumer = push_pull_proxy(context, gzmq_endpoints("ctx-close"), capture)
    runner = start(proxy)
    with gevent.Timeout(10):
        context.close()
    runner.get(timeout=5)
    assert proxy.front_end.closed and proxy.back_end.closed and capture.closed


def test_killing_run_terminates_the_proxy(context: gzmq.Context) -> None:
    """Killing (or timing out) the greenlet in run() terminates the proxy and closes the sockets."""
    proxy, _producer, _consumer = push_pull_proxy(context, gzmq_endpoints("kill"))
    runner = start(proxy)
    runner.kill(timeout=5)
    assert runner.dead
    assert proxy.front_end.closed and proxy.back_end.closed
    other, _, _ = push_pull_proxy(context, gzmq_endpoints("timeout"))
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.1):
        other.run()
    assert other.front_end.closed and other.back_end.closed


# -- while running ---------------------------------------------------------------------------


def test_sockets_in_use_raise_a_clear_error(context: gzmq.Context) -> None:
    """While running, send/recv/bind/options/events on its sockets raise, naming the Proxy."""
    proxy, producer, consumer = push_pull_proxy(context, gzmq_endpoints("busy"))
    front, back = proxy.front_end, proxy.back_end
    runner = start(proxy)
    attempts: list[Callable[[], object]] = [
        lambda: front.recv(),
        lambda: front.recv(timeout=0),
        lambda: back.send(b"x"),
        lambda: back.send([b"x", b"y"]),
        lambda: front.bind("inproc://busy-more"),
        lambda: back.connect("inproc://busy-other"),
        lambda: front.linger,
        lambda: setattr(back, "linger", 5),
        lambda: front.events,
        lambda: next(iter(front)),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidThreadUseError, match=r"gzmq\.Proxy running"):
            attempt()
    assert not front.closed  # the attempts did not disturb it
    producer.send(b"through")
    assert consumer.recv(timeout=5) == [b"through"]
    proxy.terminate()
    runner.get(timeout=5)


def test_observer_made_before_run_sees_events(context: gzmq.Context) -> None:
    """An Observer made before run() keeps reporting while the proxy holds the socket."""
    front = gzmq.Router(context=context, linger=0)
    events = front.events
    front.bind("tcp://127.0.0.1:*")
    back = bound(gzmq.Dealer, context, "inproc://observed-back")
    address = front.last_endpoint  # reading options is refused while the proxy runs
    proxy = gzmq.Proxy(front, back)
    runner = start(proxy)
    client = gzmq.Dealer(context=context, linger=0)
    client.connect(address)
    assert events.wait_for("accept", timeout=5).type == gzmq.EventType.ACCEPT
    proxy.terminate()
    runner.get(timeout=5)
    with gevent.Timeout(5):
        seen = [event.type for event in events]  # until "end": the socket was closed
    assert seen[-1] == gzmq.EventType.END
    client.close()


def test_front_end_may_be_the_back_end(context: gzmq.Context) -> None:
    """One ROUTER as both ends makes libzmq's proxy route each message back: an echo."""
    router = bound(gzmq.Router, context, "inproc://echo-router")
    client = linked(gzmq.Dealer, context, router)
    proxy = gzmq.Proxy(router, router)
    runner = start(proxy)
    client.send([b"echo", b"me"])
    assert client.recv(timeout=5) == [b"echo", b"me"]
    proxy.terminate()
    runner.get(timeout=5)
    assert router.closed


# -- preconditions -----------------------------------------------------------------------------


def test_preconditions(context: gzmq.Context) -> None:
    """Bad arguments and unusable sockets are refused with errors that say which and why."""
    front = bound(gzmq.Pull, context, "inproc://pre-front")
    loose = gzmq.Push(context=context, linger=0)
    with pytest.raises(TypeError, match="back_end must be a gzmq socket"):
        gzmq.Proxy(front, zmq.Context.instance())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="capture must be a gzmq socket that can send"):
        gzmq.Proxy(front, loose, gzmq.Subscriber(context=context))
    with pytest.raises(ValueError, match="capture must be a socket of its own"):
        gzmq.Proxy(front, loose, loose)
    with pytest.raises(ValueError, match="back_end socket must be bound or connected"):
        gzmq.Proxy(front, loose).run()
    closed = bound(gzmq.Push, context, "inproc://pre-closed")
    closed.close()
    with pytest.raises(SocketClosedError, match="back_end socket is closed"):
        gzmq.Proxy(front, closed).run()
    waiter = gevent.spawn(front.recv)
    gevent.sleep(0)
    loose.bind("inproc://pre-back")
    with pytest.raises(RuntimeError, match="front_end socket has greenlets waiting"):
        gzmq.Proxy(front, loose).run()
    waiter.kill()
    assert not front.closed and not loose.closed  # a refused run() leaves them alone


def test_run_from_another_thread_is_refused(context: gzmq.Context) -> None:
    """run() in a thread that does not own the sockets raises InvalidThreadUseError."""
    proxy, _producer, _consumer = push_pull_proxy(context, gzmq_endpoints("thread"))
    errors: list[BaseException] = []

    def other() -> None:
        try:
            proxy.run()
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(5)
    assert len(errors) == 1 and isinstance(errors[0], InvalidThreadUseError)


# -- interpreter exit ---------------------------------------------------------------------------


def test_exit_with_a_running_proxy_is_prompt() -> None:
    """A script that ends while a proxy runs exits promptly, without a lingering warning."""
    script = textwrap.dedent(
        """
        import gevent, gzmq
        front = gzmq.Pull(); front.bind("tcp://127.0.0.1:*")
        back = gzmq.Push(); back.bind("tcp://127.0.0.1:*")
        proxy = gzmq.Proxy(front, back)
        runner = gevent.spawn(proxy.run)
        gevent.sleep(0.05)
        print("running", proxy.statistics().front_end.received_messages, flush=True)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", script],
        capture_output=True, text=True, timeout=30,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "running 0"
    assert "GzmqWarning" not in done.stderr and "waiting for queued" not in done.stderr
    assert elapsed < 5.0
