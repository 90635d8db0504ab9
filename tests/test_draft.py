"""The draft sockets of DESIGN §5.3: shapes, patterns, and the cooperative rules on them.

These need libzmq and pyzmq built with the draft API: run ``.ci/build-draft``
and then ``.draft/venv/bin/python -m pytest tests/test_draft.py`` (or
``tox -e draft``).  Elsewhere they skip, and only the NotSupportedError
tests run; with ``GZMQ_REQUIRE_DRAFT=1`` a build without drafts is an error
instead.
"""

from __future__ import annotations

import errno
import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
import gevent.socket
import pytest
import zmq
from zope.interface.verify import verifyClass, verifyObject

import gzmq
from gzmq.draft import (
    Channel,
    Client,
    Datagram,
    Dish,
    Gather,
    Peer,
    Radio,
    Scatter,
    Server,
    unsupported_reason,
)

REASON = unsupported_reason()
if REASON is not None and os.environ.get("GZMQ_REQUIRE_DRAFT"):
    # The draft lane (.ci/run) sets this: there, skipping would hide a broken build.
    raise RuntimeError(f"GZMQ_REQUIRE_DRAFT is set but this build has no draft API: {REASON}")
needs_draft = pytest.mark.skipif(
    REASON is not None,
    reason=f"no draft API here ({REASON}): run .ci/build-draft, then "
    ".draft/venv/bin/python -m pytest tests/test_draft.py (or tox -e draft)",
)

ALL = [Server, Client, Radio, Dish, Gather, Scatter, Datagram, Peer, Channel]
#: (class, IReadable, IWritable): the classes whose messages are plain frame lists.
PLAIN = [
    (Client, True, True), (Gather, True, False), (Scatter, False, True),
    (Datagram, True, True), (Channel, True, True),
]
_names = itertools.count()


def _available(cls: type) -> bool:
    return unsupported_reason(cls) is None


@pytest.fixture(params=["tcp", "ipc", "inproc"])
def address(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """A factory of fresh bind endpoints on each of tcp, ipc and inproc."""
    transport = request.param
    if transport == "ipc" and not gzmq.capability["ipc"]:
        pytest.skip("this libzmq has no ipc transport")

    def make() -> str:
        number = next(_names)
        if transport == "tcp":
            return "tcp://127.0.0.1:*"
        if transport == "ipc":
            return f"ipc://{tmp_path}/d{number}.ipc"
        return f"inproc://draft-{os.getpid()}-{number}"

    return make


def _free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing uses now (libzmq cannot pick one for udp)."""
    probe = gevent.socket.socket(gevent.socket.AF_INET, gevent.socket.SOCK_DGRAM)
    try:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
    finally:
        probe.close()


def _free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 with no listener now."""
    probe = gevent.socket.socket(gevent.socket.AF_INET, gevent.socket.SOCK_STREAM)
    try:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
    finally:
        probe.close()


def _pair(
    context: gzmq.Context, bind_cls: type, connect_cls: type, endpoint: str
) -> tuple[Any, Any]:
    bound = bind_cls(context=context, linger=0)
    bound.bind(endpoint)
    connecting = connect_cls(context=context, linger=0)
    connecting.connect(bound.last_endpoint)
    return bound, connecting


# -- without the draft API ----------------------------------------------------------------


@pytest.mark.skipif(REASON is None, reason="this build has the draft API: nothing to refuse")
@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_without_draft_construction_says_how_to_get_it(cls: type) -> None:
    """Without draft support, constructing one raises NotSupportedError naming the way out."""
    with pytest.raises(gzmq.NotSupportedError) as caught:
        cls(linger=0)
    message = str(caught.value)
    assert cls.__name__ in message
    assert ".ci/build-draft" in message and "tox -e draft" in message
    assert isinstance(caught.value, zmq.ZMQError) and caught.value.errno == errno.ENOTSUP


@needs_draft
def test_draft_build_is_reported() -> None:
    """In the draft lane, pyzmq, libzmq and gzmq.capability all report the draft API."""
    assert zmq.has("draft") and zmq.DRAFT_API
    assert gzmq.capability["draft"] is True
    assert unsupported_reason(Server) is None


# -- classes and interfaces ---------------------------------------------------------------


@needs_draft
@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_every_class_is_a_thread_safe_isocket(cls: type, context: gzmq.Context) -> None:
    """Each draft class is an ISocket of its libzmq type; all but Datagram are thread-safe."""
    if not _available(cls):
        pytest.skip(unsupported_reason(cls) or "")
    assert verifyClass(gzmq.ISocket, cls)
    with cls(context=context, linger=0) as sock:
        assert verifyObject(gzmq.ISocket, sock)
        assert sock.type == cls._socket_type
        assert sock.thread_safe is (cls is not Datagram)  # libzmq's DGRAM has a ZMQ_FD


@needs_draft
@pytest.mark.parametrize(
    ("cls", "reads", "writes"), PLAIN, ids=lambda v: getattr(v, "__name__", "")
)
def test_plain_classes_provide_ireadable_iwritable(
    cls: type, reads: bool, writes: bool, context: gzmq.Context
) -> None:
    """Client, Gather, Scatter, Datagram, Channel provide IReadable/IWritable as they can."""
    if not _available(cls):
        pytest.skip(unsupported_reason(cls) or "")
    with cls(context=context, linger=0) as sock:
        assert gzmq.IReadable.providedBy(sock) is reads and hasattr(sock, "recv") is reads
        assert gzmq.IWritable.providedBy(sock) is writes and hasattr(sock, "send") is writes
        assert sock.readable is False  # live readiness: nothing to receive
        if not writes:
            assert sock.writable is False
        if reads:
            assert verifyObject(gzmq.IReadable, sock)
        if writes:
            assert verifyObject(gzmq.IWritable, sock)


@needs_draft
def test_routed_and_group_classes_have_only_their_methods(context: gzmq.Context) -> None:
    """Server and Peer send and receive, Radio only sends, Dish only receives (and joins)."""
    for cls in (Server, Peer):
        if not _available(cls):
            continue
        with cls(context=context, linger=0) as sock:
            assert hasattr(sock, "recv") and hasattr(sock, "send")
            assert sock.readable is False  # live readiness: nothing queued
    with Radio(context=context, linger=0) as radio:
        assert hasattr(radio, "send") and radio.readable is False
        assert not hasattr(radio, "recv") and not hasattr(radio, "join")
    with Dish(context=context, linger=0) as dish:
        assert hasattr(dish, "recv") and dish.readable is False and dish.writable is False
        assert not hasattr(dish, "send")
    assert not gzmq.IReadable.implementedBy(Radio) and not gzmq.IWritable.implementedBy(Dish)


@needs_draft
def test_conflate_is_on_gather_and_scatter(context: gzmq.Context) -> None:
    """Gather and Scatter take zeromq.js's conflate option (write-only, like libzmq's)."""
    assert "conflate" in gzmq.options(Gather) and "conflate" in gzmq.options(Scatter)
    assert "conflate" not in gzmq.options(Server)
    with Gather(context=context, linger=0, conflate=True), Scatter(context=context, conflate=True):
        pass
    with pytest.raises(gzmq.UnknownOptionError):
        Server(context=context, conflate=True)


# -- Server / Client ----------------------------------------------------------------------


@needs_draft
def test_server_client_routing_id_echo(context: gzmq.Context, address: Callable[[], str]) -> None:
    """Server.recv() gives (message, routing_id); send(routing_id=...) reaches that Client only."""
    server, first = _pair(context, Server, Client, address())
    second = Client(context=context, linger=0)
    second.connect(server.last_endpoint)
    first.send(b"from first")
    second.send("from second")
    received = dict([server.recv(timeout=5), server.recv(timeout=5)])  # message -> id
    assert set(received) == {b"from first", b"from second"}
    first_id, second_id = received[b"from first"], received[b"from second"]
    assert isinstance(first_id, int) and first_id != second_id
    server.send(b"to second", routing_id=second_id)
    server.send([b"to first"], routing_id=first_id)
    assert second.recv(timeout=5) == [b"to second"]
    assert first.recv(timeout=5) == [b"to first"]
    with pytest.raises(zmq.Again):
        first.recv(timeout=0.05)


@needs_draft
def test_server_send_to_unknown_routing_id_is_ehostunreach(context: gzmq.Context) -> None:
    """Sending to a routing id no Client has raises EHOSTUNREACH; bad ids fail before libzmq."""
    server, client = _pair(context, Server, Client, "tcp://127.0.0.1:*")
    client.send(b"hello")
    _, routing_id = server.recv(timeout=5)
    unknown = routing_id + 1 if routing_id < 2**32 - 1 else 1
    with pytest.raises(zmq.ZMQError) as caught:
        server.send(b"nobody", routing_id=unknown)
    assert caught.value.errno == zmq.EHOSTUNREACH
    with pytest.raises(TypeError, match="routing_id"):
        server.send(b"x", routing_id=b"abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="routing_id"):
        server.send(b"x", routing_id=0)
    with pytest.raises(TypeError):
        server.send(b"x")  # type: ignore[call-arg]
    server.send(b"still works", routing_id=routing_id)
    assert client.recv(timeout=5) == [b"still works"]


@needs_draft
@pytest.mark.parametrize("cls", [Server, Client, Scatter, Radio, Channel], ids=lambda c: c.__name__)
def test_multipart_send_is_refused_before_anything_is_sent(
    cls: type, context: gzmq.Context
) -> None:
    """Draft messages are single-part: a list of two frames raises ValueError and sends nothing."""
    if not _available(cls):
        pytest.skip(unsupported_reason(cls) or "")
    with cls(context=context, linger=0) as sock:
        extra: dict[str, Any] = {}
        if cls is Server:
            extra["routing_id"] = 1
        elif cls is Radio:
            extra["group"] = "g"
        with pytest.raises(ValueError, match="single-part"):
            sock.send([b"a", b"b"], **extra)
        with pytest.raises(ValueError):
            sock.send([], **extra)
        with pytest.raises(TypeError):
            sock.send(12, **extra)


@needs_draft
def test_client_send_waits_for_a_server_and_times_out(context: gzmq.Context) -> None:
    """A Client with no Server blocks only its greenlet: timeout raises Again, a bind wakes it."""
    name = f"tcp://127.0.0.1:{_free_tcp_port()}"
    client = Client(context=context, linger=0, immediate=True, reconnect_interval=20)
    client.connect(name)
    with pytest.raises(zmq.Again):
        client.send(b"early", timeout=0.05)
    sender = gevent.spawn(client.send, b"waited")
    gevent.sleep(0.05)
    assert not sender.ready()
    server = Server(context=context, linger=0)
    server.bind(name)
    sender.get(timeout=5)
    message, _ = server.recv(timeout=5)
    assert message == b"waited"


# -- Radio / Dish -------------------------------------------------------------------------


@pytest.fixture(params=["tcp", "ipc", "inproc", "udp"])
def radio_dish(
    request: pytest.FixtureRequest, context: gzmq.Context, tmp_path: Path
) -> Iterator[tuple[Radio, Dish]]:
    """A connected Radio and Dish over tcp, ipc, inproc (Radio binds) and udp (Dish binds)."""
    transport = request.param
    if REASON is not None:
        pytest.skip(f"no draft API here ({REASON})")
    radio = Radio(context=context, linger=0)
    dish = Dish(context=context, linger=0)
    if transport == "udp":
        endpoint = f"udp://127.0.0.1:{_free_udp_port()}"
        dish.bind(endpoint)
        radio.connect(endpoint)
    else:
        if transport == "ipc":
            endpoint = f"ipc://{tmp_path}/radio.ipc"
        elif transport == "inproc":
            endpoint = f"inproc://radio-{os.getpid()}-{next(_names)}"
        else:
            endpoint = "tcp://127.0.0.1:*"
        radio.bind(endpoint)
        dish.connect(radio.last_endpoint)
    yield radio, dish


def _settle(radio: Radio, dish: Dish, group: str) -> None:
    """Send probes to a joined group until one arrives (joins travel to the Radio first)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        radio.send(b"probe", group=group)
        try:
            if dish.recv(timeout=0.05) == (b"probe", group.encode()):
                break
        except zmq.Again:
            continue
    else:
        pytest.fail(f"nothing sent to {group!r} ever arrived")
    while True:
        try:
            dish.recv(timeout=0.05)
        except zmq.Again:
            return


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait (at most 10 s, yielding to the hub) until ``condition()`` holds."""
    with gevent.Timeout(10, AssertionError(f"never became true: {what}")):
        while not condition():
            gevent.sleep(0.001)


@needs_draft
def test_server_client_readiness_is_live(context: gzmq.Context, address: Callable[[], str]) -> None:
    """Server/Client readable and writable are live readiness, False once closed (Socket's rule)."""
    server, client = _pair(context, Server, Client, address())
    _until(lambda: client.writable, "client.writable once connected")
    assert server.readable is False and client.readable is False
    client.send(b"ping")
    _until(lambda: server.readable, "server.readable after a send")
    assert server.readable is True  # asking consumes nothing
    message, routing_id = server.recv(timeout=0)
    assert message == b"ping" and server.readable is False
    assert server.writable is True
    server.send(b"pong", routing_id=routing_id)
    _until(lambda: client.readable, "client.readable after the reply")
    assert client.recv(timeout=0) == [b"pong"]
    server.close()
    client.close()
    assert not (server.readable or server.writable or client.readable or client.writable)


@needs_draft
def test_radio_dish_readiness_is_live(radio_dish: tuple[Radio, Dish]) -> None:
    """A Dish is readable once a message of a joined group waits; a Radio never waits to send."""
    radio, dish = radio_dish
    dish.join("weather")
    _settle(radio, dish, "weather")
    assert dish.readable is False and radio.writable is True
    radio.send(b"sunny", group="weather")
    _until(lambda: dish.readable, "dish.readable after a send")
    assert dish.recv(timeout=0) == (b"sunny", b"weather")
    assert dish.readable is False
    dish.close()
    radio.close()
    assert dish.readable is False and radio.writable is False


@needs_draft
def test_radio_dish_delivers_joined_groups_only(radio_dish: tuple[Radio, Dish]) -> None:
    """A Dish receives (message, group) for the groups it joined, and nothing of the others."""
    radio, dish = radio_dish
    dish.join("weather", b"sport")
    _settle(radio, dish, "weather")
    radio.send(b"rain", group="weather")
    radio.send(b"stocks", group="finance")
    radio.send("goal", group=b"sport")
    radio.send(b"sun", group="weather")
    got = [dish.recv(timeout=5) for _ in range(3)]
    assert got == [(b"rain", b"weather"), (b"goal", b"sport"), (b"sun", b"weather")]
    with pytest.raises(zmq.Again):
        dish.recv(timeout=0.1)


@needs_draft
def test_dish_leave_stops_a_group(radio_dish: tuple[Radio, Dish]) -> None:
    """After leave(), messages to that group stop arriving; the groups still joined still do."""
    radio, dish = radio_dish
    dish.join("a", "b")
    _settle(radio, dish, "b")
    dish.leave("a")
    # The leave travels to the Radio (tcp, ipc, inproc): send a-then-b rounds
    # until a round brings the b marker with no a message before it.
    for round_number in range(100):
        radio.send(b"for a %d" % round_number, group="a")
        radio.send(b"marker %d" % round_number, group="b")
        first = dish.recv(timeout=5)
        if first[1] == b"b":
            break
        assert dish.recv(timeout=5)[1] == b"b"
        gevent.sleep(0.01)
    else:
        pytest.fail("leave('a') never took effect")
    radio.send(b"late for a", group="a")
    radio.send(b"last", group="b")
    assert dish.recv(timeout=5) == (b"last", b"b")


@needs_draft
def test_dish_group_validation(context: gzmq.Context) -> None:
    """Groups are str/bytes, at most 255 bytes, no NUL; duplicate joins and bad leaves fail."""
    with Dish(context=context, linger=0) as dish, Radio(context=context, linger=0) as radio:
        dish.join("x" * 255)
        with pytest.raises(ValueError, match="255"):
            dish.join("x" * 256)
        with pytest.raises(ValueError, match="NUL"):
            dish.join(b"a\0b")
        with pytest.raises(TypeError, match="group"):
            dish.join(7)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="at least one"):
            dish.join()
        dish.join("dup")
        with pytest.raises(zmq.ZMQError, match="already joined") as caught:
            dish.join("dup")
        assert caught.value.errno == errno.EINVAL
        with pytest.raises(zmq.ZMQError, match="not joined"):
            dish.leave("never")
        with pytest.raises(ValueError, match="255"):
            radio.send(b"x", group="y" * 256)
        with pytest.raises(TypeError):
            radio.send(b"x")  # type: ignore[call-arg]
    with pytest.raises(gzmq.SocketClosedError):
        dish.join("after close")


@needs_draft
def test_udp_bind_needs_an_explicit_port(context: gzmq.Context) -> None:
    """udp://host:* cannot report its port, so bind() refuses it, naming the endpoint."""
    with Dish(context=context, linger=0) as dish:
        with pytest.raises(zmq.ZMQError, match="explicit port") as caught:
            dish.bind("udp://127.0.0.1:*")
        assert caught.value.address == "udp://127.0.0.1:*"  # type: ignore[attr-defined]


# -- Scatter / Gather ---------------------------------------------------------------------


@needs_draft
def test_scatter_gather_delivery(context: gzmq.Context, address: Callable[[], str]) -> None:
    """Scatter sends like Push and Gather receives like Pull: in order, fair-queued from two."""
    gather, scatter = _pair(context, Gather, Scatter, address())
    other = Scatter(context=context, linger=0)
    other.connect(gather.last_endpoint)
    for number in range(20):
        scatter.send(b"s%d" % number)
    for number in range(5):
        other.send([b"o%d" % number])
    got = [gather.recv(timeout=5)[0] for _ in range(25)]
    assert [m for m in got if m.startswith(b"s")] == [b"s%d" % n for n in range(20)]
    assert [m for m in got if m.startswith(b"o")] == [b"o%d" % n for n in range(5)]
    with pytest.raises(zmq.Again):
        gather.recv(timeout=0.05)


@needs_draft
def test_scatter_load_balances_over_gathers(context: gzmq.Context) -> None:
    """A Scatter spreads messages over its Gathers, each message to exactly one."""
    scatter = Scatter(context=context, linger=0)
    scatter.bind("tcp://127.0.0.1:*")
    gathers = [Gather(context=context, linger=0) for _ in range(2)]
    for gather in gathers:
        gather.connect(scatter.last_endpoint)
    gevent.sleep(0.2)  # both connected before the round-robin starts
    for number in range(10):
        scatter.send(b"%d" % number)
    per_gather: list[list[bytes]] = [[], []]
    for index, gather in enumerate(gathers):
        while True:
            try:
                per_gather[index].append(gather.recv(timeout=0.3)[0])
            except zmq.Again:
                break
    assert sorted(per_gather[0] + per_gather[1], key=int) == [b"%d" % n for n in range(10)]
    assert per_gather[0] and per_gather[1]


# -- Datagram -----------------------------------------------------------------------------


@needs_draft
def test_datagram_echo_with_a_plain_udp_client(context: gzmq.Context) -> None:
    """A Datagram receives [address, payload] from a plain UDP socket and answers that address."""
    port = _free_udp_port()
    server = Datagram(context=context, linger=0)
    server.bind(f"udp://127.0.0.1:{port}")

    def echo() -> None:
        for address, payload in server:
            server.send([address, b"echo:" + payload])

    echoer = gevent.spawn(echo)
    client = gevent.socket.socket(gevent.socket.AF_INET, gevent.socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(0.1)
    try:
        # libzmq opens the udp socket in its I/O thread after bind() returns:
        # repeat the first datagram until it is answered.
        for attempt in range(50):
            client.sendto(b"ping %d" % attempt, ("127.0.0.1", port))
            try:
                reply, _ = client.recvfrom(1024)
                break
            except TimeoutError:
                continue
        else:
            pytest.fail("the Datagram never answered")
        assert reply.startswith(b"echo:ping ")
        client.settimeout(5)
        for payload in (b"one", b"two"):
            client.sendto(payload, ("127.0.0.1", port))
            reply, _ = client.recvfrom(1024)
            while not reply.endswith(payload):  # late answers to repeated pings
                reply, _ = client.recvfrom(1024)
            assert reply == b"echo:" + payload
    finally:
        client.close()
        server.close()
        echoer.join(timeout=5)
    assert echoer.successful()


@needs_draft
def test_datagram_address_is_host_port(context: gzmq.Context) -> None:
    """Datagram.recv() gives the sender as b'host:port'; a message that is not a pair is refused."""
    port = _free_udp_port()
    with Datagram(context=context, linger=0) as sock:
        sock.bind(f"udp://127.0.0.1:{port}")
        sender = gevent.socket.socket(gevent.socket.AF_INET, gevent.socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        try:
            for _ in range(50):
                sender.sendto(b"hi", ("127.0.0.1", port))
                try:
                    address, payload = sock.recv(timeout=0.1)
                    break
                except zmq.Again:
                    continue
            else:
                pytest.fail("no datagram arrived")
            assert address == b"127.0.0.1:%d" % sender.getsockname()[1]
            assert payload == b"hi"
        finally:
            sender.close()
        with pytest.raises(ValueError, match="address, payload"):
            sock.send(b"no address")
        with pytest.raises(ValueError, match="address, payload"):
            sock.send([b"127.0.0.1:1", b"a", b"b"])


# -- Peer / Channel -----------------------------------------------------------------------


@needs_draft
@pytest.mark.skipif(not _available(Peer), reason=str(unsupported_reason(Peer)))
def test_peer_connect_returns_the_routing_id(
    context: gzmq.Context, address: Callable[[], str]
) -> None:
    """Peer.connect() returns the peer's routing id; both sides then address each other by id."""
    listener = Peer(context=context, linger=0)
    listener.bind(address())
    dialer = Peer(context=context, linger=0)
    routing_id = dialer.connect(listener.last_endpoint)
    assert isinstance(routing_id, int) and routing_id > 0
    assert listener.last_endpoint in dialer.endpoints
    dialer.send(b"hello", routing_id=routing_id)
    message, back = listener.recv(timeout=5)
    assert message == b"hello"
    listener.send(b"welcome", routing_id=back)
    assert dialer.recv(timeout=5) == (b"welcome", routing_id)
    with pytest.raises(zmq.ZMQError) as caught:
        dialer.connect("nonsense://x")
    assert caught.value.errno == zmq.EPROTONOSUPPORT
    assert caught.value.address == "nonsense://x"  # type: ignore[attr-defined]


@needs_draft
@pytest.mark.skipif(not _available(Channel), reason=str(unsupported_reason(Channel)))
def test_channel_is_an_exclusive_pair(context: gzmq.Context, address: Callable[[], str]) -> None:
    """Two Channels talk both ways like a Pair, single-part messages."""
    left, right = _pair(context, Channel, Channel, address())
    right.send(b"ping")
    assert left.recv(timeout=5) == [b"ping"]
    left.send("pong")
    assert right.recv(timeout=5) == [b"pong"]


# -- cooperative rules (§3) on draft sockets ------------------------------------------------


@needs_draft
def test_many_waiters_in_server_recv_are_served_fifo(context: gzmq.Context) -> None:
    """20 greenlets wait in Server.recv(); each gets one message, in the order they parked."""
    server, client = _pair(context, Server, Client, "tcp://127.0.0.1:*")
    waiters = []
    for _ in range(20):
        waiters.append(gevent.spawn(server.recv))
        gevent.sleep(0)  # each parks before the next starts
    gevent.sleep(0.05)
    assert len(server._waiting.readers) == 20
    for number in range(20):
        client.send(b"m%02d" % number)
    results = [waiter.get(timeout=5) for waiter in waiters]
    assert [message for message, _ in results] == [b"m%02d" % n for n in range(20)]
    assert len({routing_id for _, routing_id in results}) == 1


@needs_draft
def test_many_waiters_on_both_sides_lose_nothing(context: gzmq.Context) -> None:
    """Greenlets sending on Clients and receiving on a Server at once deliver each message once."""
    server = Server(context=context, linger=0, receive_high_water_mark=5)
    server.bind("tcp://127.0.0.1:*")
    clients = [Client(context=context, linger=0, send_high_water_mark=5) for _ in range(2)]
    for client in clients:
        client.connect(server.last_endpoint)
    received: list[bytes] = []

    def receive() -> None:
        while True:
            try:
                message, _ = server.recv(timeout=2)
            except zmq.Again:
                return
            received.append(message)

    def send(client: Client, tag: bytes) -> None:
        for number in range(200):
            client.send(b"%s%d" % (tag, number))

    receivers = [gevent.spawn(receive) for _ in range(3)]
    senders = [gevent.spawn(send, client, b"c%d-" % i) for i, client in enumerate(clients)]
    gevent.joinall(senders, timeout=20, raise_error=True)
    gevent.joinall(receivers, timeout=20, raise_error=True)
    expected = {b"c%d-%d" % (i, n) for i in range(2) for n in range(200)}
    assert len(received) == 400 and set(received) == expected


@needs_draft
def test_close_wakes_every_waiter_on_draft_sockets(context: gzmq.Context) -> None:
    """close() wakes greenlets in Server.recv, Dish.recv and Client.send with SocketClosedError."""
    server = Server(context=context, linger=0)
    server.bind("tcp://127.0.0.1:*")
    dish = Dish(context=context, linger=0)
    dish.join("g")
    client = Client(context=context, linger=0, immediate=True)
    client.connect(f"tcp://127.0.0.1:{_free_tcp_port()}")  # nobody listens: send waits

    def outcome(call: Callable[[], object]) -> object:
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - the outcome is what is checked
            return error

    waiters = [gevent.spawn(outcome, server.recv) for _ in range(5)]
    waiters += [gevent.spawn(outcome, dish.recv) for _ in range(3)]
    waiters += [gevent.spawn(outcome, lambda: client.send(b"x")) for _ in range(2)]
    iterating = gevent.spawn(lambda: list(server))
    gevent.sleep(0.05)
    assert not any(waiter.ready() for waiter in waiters)
    started = time.monotonic()
    server.close()
    dish.close()
    client.close()
    gevent.joinall([*waiters, iterating], timeout=5)
    assert time.monotonic() - started < 2
    for waiter in waiters:
        assert isinstance(waiter.value, gzmq.SocketClosedError), waiter.value
    assert iterating.get() == []
    with pytest.raises(gzmq.SocketClosedError):
        server.recv()
    with pytest.raises(gzmq.SocketClosedError):
        server.send(b"x", routing_id=1)


@needs_draft
def test_timeouts_raise_again_and_consume_nothing(context: gzmq.Context) -> None:
    """recv(timeout=) and receive_timeout raise zmq.Again; a later message is still delivered."""
    server, client = _pair(context, Server, Client, "inproc://draft-timeouts")
    with pytest.raises(zmq.Again):
        server.recv(timeout=0.05)
    server.receive_timeout = 50
    with pytest.raises(zmq.Again):
        server.recv()
    with pytest.raises(zmq.Again):
        client.recv(timeout=0)
    client.send(b"late")
    assert server.recv(timeout=5)[0] == b"late"


@needs_draft
def test_first_wait_sees_messages_queued_before_it(context: gzmq.Context) -> None:
    """A message arriving as the first waiter parks wakes it (no edge lost on a new socket)."""
    for _ in range(5):
        server, client = _pair(context, Server, Client, "tcp://127.0.0.1:*")
        waiter = gevent.spawn(server.recv, timeout=5)
        gevent.sleep(0.02)
        client.send(b"hi")
        message, _ = waiter.get(timeout=10)
        assert message == b"hi"
        server.close()
        client.close()


@needs_draft
def test_idle_waiter_does_not_spin_the_hub(context: gzmq.Context) -> None:
    """A greenlet waiting on a draft socket leaves the hub idle (the poller fd is reset)."""
    server, client = _pair(context, Server, Client, "tcp://127.0.0.1:*")
    first = gevent.spawn(server.recv, timeout=5)
    gevent.sleep(0.05)
    client.send(b"wake")  # signals the poller fd
    assert first.get(timeout=5)[0] == b"wake"
    iterations = 0

    def count() -> None:
        nonlocal iterations
        iterations += 1

    prepare = gevent.get_hub().loop.prepare()
    prepare.start(count)
    try:
        with pytest.raises(zmq.Again):
            server.recv(timeout=0.3)
    finally:
        prepare.stop()
        prepare.close()
    # An idle 0.3 s wait takes a handful of loop iterations; a spinning
    # watcher took hundreds of thousands.
    assert iterations < 1000, iterations


@needs_draft
def test_hub_keeps_ticking_while_draft_sockets_wait(context: gzmq.Context) -> None:
    """A ticker greenlet keeps running while greenlets wait on and use draft sockets."""
    server, client = _pair(context, Server, Client, "tcp://127.0.0.1:*")
    radio, dish = _pair(context, Radio, Dish, f"inproc://tick-{os.getpid()}")
    dish.join("t")
    _settle(radio, dish, "t")
    ticks = 0

    def ticker() -> None:
        nonlocal ticks
        while True:
            gevent.sleep(0.01)
            ticks += 1

    ticking = gevent.spawn(ticker)
    waiters = [gevent.spawn(server.recv, timeout=5) for _ in range(5)]
    dishers = [gevent.spawn(dish.recv, timeout=5) for _ in range(2)]
    try:
        gevent.sleep(0.3)
        during_wait = ticks
        for number in range(5):
            client.send(b"%d" % number)
        radio.send(b"one", group="t")
        radio.send(b"two", group="t")
        gevent.joinall(waiters + dishers, timeout=5, raise_error=True)
    finally:
        ticking.kill()
    assert during_wait >= 10, during_wait
    assert sorted(w.value[0] for w in waiters) == [b"%d" % n for n in range(5)]
    assert [d.value for d in dishers] == [(b"one", b"t"), (b"two", b"t")]
