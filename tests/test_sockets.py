"""The pattern behaviours of DESIGN §5.2, over tcp, ipc and inproc."""

from __future__ import annotations

import errno
import time

import gevent
import gevent.server
import gevent.socket
import pytest
import zmq

import gzmq


def _until_received(send: object, sock: gzmq.Socket, probe: list[bytes], limit: float = 5) -> None:
    """Repeat ``send(probe)`` until ``sock`` receives it (pub/sub slow joiner)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        send(probe)  # type: ignore[operator]
        try:
            if sock.recv(timeout=0.05) == probe:
                break
        except zmq.Again:
            continue
    else:
        pytest.fail("the subscription never arrived")
    while True:  # drain duplicate probes
        try:
            sock.recv(timeout=0.05)
        except zmq.Again:
            return


def test_request_reply_round_trip(endpoint, connected) -> None:
    """REQ/REP: a request and its reply, str sent as UTF-8, frames as lists."""
    rep, req = connected(gzmq.Reply, gzmq.Request, endpoint())
    req.send("héllo")
    assert rep.recv() == ["héllo".encode()]
    rep.send([b"wor", b"ld"])
    assert req.recv() == [b"wor", b"ld"]


def test_request_second_send_is_efsm(endpoint, connected) -> None:
    """A second send on REQ before the reply raises EFSM at once, even with a send timeout."""
    rep, req = connected(gzmq.Reply, gzmq.Request, endpoint())
    req.send_timeout = 200
    req.send(b"first")
    started = time.monotonic()
    with pytest.raises(zmq.ZMQError) as info:
        req.send(b"second")
    assert info.value.errno == zmq.EFSM
    assert time.monotonic() - started < 0.15
    assert rep.recv(timeout=5) == [b"first"]
    with pytest.raises(zmq.Again):
        req.recv(timeout=0)


def test_router_mandatory_unknown_peer(endpoint, connected) -> None:
    """ROUTER with mandatory raises EHOSTUNREACH for an unknown routing id."""
    router, _dealer = connected(gzmq.Router, gzmq.Dealer, endpoint())
    router.mandatory = True
    with pytest.raises(zmq.ZMQError) as info:
        router.send([b"nobody", b"hello"])
    assert info.value.errno == errno.EHOSTUNREACH


def test_router_dealer_routing(endpoint, context) -> None:
    """ROUTER sees each DEALER's routing id and replies to the right one."""
    router = gzmq.Router(context=context, linger=0)
    router.bind(endpoint())
    dealers = []
    for name in (b"alpha", b"be\x00ta"):
        dealer = gzmq.Dealer(context=context, linger=0, routing_id=name)
        dealer.connect(router.last_endpoint)
        dealers.append(dealer)
    for dealer in dealers:
        dealer.send([b"ping", dealer.routing_id])
    for _ in dealers:
        identity, ping, name = router.recv(timeout=5)
        assert ping == b"ping" and identity == name
        router.send([identity, b"pong " + name])
    for dealer in dealers:
        assert dealer.recv(timeout=5) == [b"pong " + dealer.routing_id]


def test_router_connect_with_routing_id(endpoint, context) -> None:
    """Router.connect(endpoint, routing_id=) names the peer, so it can send first."""
    server = gzmq.Router(context=context, linger=0, routing_id=b"server")
    server.bind(endpoint())
    client = gzmq.Router(context=context, linger=0, mandatory=True)
    client.connect(server.last_endpoint, routing_id=b"to-server")
    deadline = time.monotonic() + 5
    while True:
        try:
            client.send([b"to-server", b"hi"])
            break
        except zmq.ZMQError as error:
            assert error.errno == errno.EHOSTUNREACH and time.monotonic() < deadline
            gevent.sleep(0.01)
    sender, payload = server.recv(timeout=5)
    assert payload == b"hi"
    server.send([sender, b"back"])
    assert client.recv(timeout=5) == [b"to-server", b"back"]


def test_pub_sub_filtering(endpoint, connected) -> None:
    """A subscriber gets only the prefixes it subscribed to, and nothing after unsubscribe."""
    pub, sub = connected(gzmq.Publisher, gzmq.Subscriber, endpoint())
    sub.subscribe("weather", b"news")
    _until_received(pub.send, sub, [b"weather probe"])
    pub.send([b"sports", b"ignored"])
    pub.send([b"news", b"kept"])
    pub.send(b"weather-kept")
    assert sub.recv(timeout=5) == [b"news", b"kept"]
    assert sub.recv(timeout=5) == [b"weather-kept"]
    with pytest.raises(zmq.Again):
        sub.recv(timeout=0.1)
    sub.unsubscribe("weather", "news")
    gevent.sleep(0.2)
    pub.send(b"weather-gone")
    with pytest.raises(zmq.Again):
        sub.recv(timeout=0.2)


def test_subscribe_everything(endpoint, connected) -> None:
    """subscribe() with no prefix receives everything."""
    pub, sub = connected(gzmq.Publisher, gzmq.Subscriber, endpoint())
    sub.subscribe()
    _until_received(pub.send, sub, [b"probe"])
    pub.send([b"anything", b"at all"])
    assert sub.recv(timeout=5) == [b"anything", b"at all"]


def test_xpub_xsub_subscription_frames(endpoint, connected) -> None:
    """XSUB sends b"\\x01topic"/b"\\x00topic" frames; XPUB receives them and publishes."""
    xpub, xsub = connected(gzmq.XPublisher, gzmq.XSubscriber, endpoint())
    xsub.send(b"\x01topic")
    assert xpub.recv(timeout=5) == [b"\x01topic"]
    xpub.send([b"topic", b"data"])
    xpub.send([b"other", b"data"])
    assert xsub.recv(timeout=5) == [b"topic", b"data"]
    with pytest.raises(zmq.Again):
        xsub.recv(timeout=0.1)
    xsub.send(b"\x00topic")
    assert xpub.recv(timeout=5) == [b"\x00topic"]


@pytest.mark.parametrize("verbosity", [None, "all_subs", "all_subs_unsubs"])
def test_xpub_verbosity(verbosity: str | None, endpoint, context) -> None:
    """XPUB passes duplicate subscriptions up only when verbose, unsubscriptions when verboser."""
    xpub = gzmq.XPublisher(context=context, linger=0, verbosity=verbosity)
    xpub.bind(endpoint())
    subs = []
    for _ in range(2):
        sub = gzmq.Subscriber(context=context, linger=0)
        sub.connect(xpub.last_endpoint)
        sub.subscribe(b"t")
        subs.append(sub)
    seen = []
    while True:
        try:
            seen.append(xpub.recv(timeout=0.3))
        except zmq.Again:
            break
    assert seen == ([[b"\x01t"]] if verbosity is None else [[b"\x01t"], [b"\x01t"]])
    subs[0].unsubscribe(b"t")
    unsubs = []
    while True:
        try:
            unsubs.append(xpub.recv(timeout=0.3))
        except zmq.Again:
            break
    assert unsubs == ([[b"\x00t"]] if verbosity == "all_subs_unsubs" else [])


def test_push_pull_load_balances(endpoint, context) -> None:
    """PUSH spreads messages over connected PULLs; each message goes to exactly one."""
    push = gzmq.Push(context=context, linger=0)
    push.bind(endpoint())
    pulls = [gzmq.Pull(context=context, linger=0) for _ in range(2)]
    for pull in pulls:
        pull.connect(push.last_endpoint)
    gevent.sleep(0.1)
    for index in range(100):
        push.send(b"%d" % index)
    got: list[bytes] = []
    counts = []
    for pull in pulls:
        count = 0
        while True:
            try:
                got.extend(pull.recv(timeout=0.2))
                count += 1
            except zmq.Again:
                break
        counts.append(count)
    assert sorted(got, key=int) == [b"%d" % index for index in range(100)]
    assert all(count > 0 for count in counts)


@pytest.mark.parametrize("transport", ["tcp", "ipc"])  # inproc pipes exist at connect
def test_push_immediate_does_not_queue_without_peer(endpoint, context) -> None:
    """PUSH with immediate=True cannot queue with no connected peer; without it, it queues."""
    eager = gzmq.Push(context=context, linger=0, immediate=True)
    lazy = gzmq.Push(context=context, linger=0)
    target = endpoint()
    if "*" in target:
        target = "tcp://127.0.0.1:1"  # nothing listens there
    eager.connect(target)
    lazy.connect(target)
    with pytest.raises(zmq.Again):
        eager.send(b"x", timeout=0.1)
    lazy.send(b"x", timeout=0.1)


def test_pair_both_directions(endpoint, connected) -> None:
    """PAIR talks both ways."""
    a, b = connected(gzmq.Pair, gzmq.Pair, endpoint())
    a.send(b"to b")
    assert b.recv(timeout=5) == [b"to b"]
    b.send([b"to", b"a"])
    assert a.recv(timeout=5) == [b"to", b"a"]


def test_stream_http_server(context) -> None:
    """A Stream socket serves an HTTP request from a plain TCP client."""
    server = gzmq.Stream(context=context, linger=0)
    server.bind("tcp://127.0.0.1:*")
    port = int(server.last_endpoint.rsplit(":", 1)[1])

    def serve() -> bytes:
        request = b""
        while b"\r\n\r\n" not in request:
            identity, data = server.recv(timeout=5)
            request += data
        body = b"hello from gzmq"
        head = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
        server.send([identity, head + body])
        return request

    serving = gevent.spawn(serve)
    client = gevent.socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(b"GET /x HTTP/1.0\r\nHost: test\r\n\r\n")
    response = b""
    while not response.endswith(b"hello from gzmq"):
        chunk = client.recv(4096)
        assert chunk, f"connection closed early after {response!r}"
        response += chunk
    client.close()
    assert serving.get(timeout=5).startswith(b"GET /x HTTP/1.0")
    assert response.startswith(b"HTTP/1.0 200 OK") and response.endswith(b"hello from gzmq")


def test_stream_http_client(context) -> None:
    """A Stream socket connects to a plain TCP server and reads its reply."""

    def handle(conn: gevent.socket.socket, address: object) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(1024)
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nplain server")
        conn.close()

    listener = gevent.server.StreamServer(("127.0.0.1", 0), handle)
    listener.start()
    try:
        client = gzmq.Stream(context=context, linger=0)
        client.connect(f"tcp://127.0.0.1:{listener.server_port}", routing_id=b"web")
        identity, empty = client.recv(timeout=5)  # connect notification
        assert identity == b"web" and empty == b""
        client.send([b"web", b"GET / HTTP/1.0\r\n\r\n"])
        response = b""
        while True:
            identity, data = client.recv(timeout=5)
            if not data:
                break  # disconnect notification
            response += data
        assert response == b"HTTP/1.0 200 OK\r\n\r\nplain server"
    finally:
        listener.stop()


@pytest.mark.skipif(not gzmq.capability["curve"], reason="libzmq has no CURVE")
def test_curve_delivery(endpoint, context) -> None:
    """CURVE-secured sockets deliver; both ends report the curve mechanism."""
    server_keys = gzmq.curve_keypair()
    client_keys = gzmq.curve_keypair()
    server = gzmq.Pull(
        context=context, linger=0, curve_server=True, curve_secret_key=server_keys.secret
    )
    server.bind(endpoint())
    client = gzmq.Push(
        context=context,
        linger=0,
        curve_server_key=server_keys.public,
        curve_public_key=client_keys.public,
        curve_secret_key=client_keys.secret,
    )
    client.connect(server.last_endpoint)
    client.send([b"secret", b"payload"])
    assert server.recv(timeout=5) == [b"secret", b"payload"]
    assert server.security == "curve" and client.security == "curve"


def test_recv_without_copy_returns_frames(endpoint, connected) -> None:
    """recv(copy=False) returns zmq.Frame objects holding the whole message."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    big = b"z" * 100_000
    push.send([b"head", big])
    frames = pull.recv(copy=False, timeout=5)
    assert all(isinstance(frame, zmq.Frame) for frame in frames)
    assert [frame.bytes for frame in frames] == [b"head", big]
    push.send(zmq.Frame(b"as frame"))
    assert pull.recv(timeout=5) == [b"as frame"]
