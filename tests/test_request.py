"""Request.request(): one whole exchange, atomic among greenlets sharing a Request (issue 16).

Greenlets take turns first come, first served; each gets the reply to its own
request; an exchange abandoned by a timeout or a kill leaves the socket usable
(relaxed + correlate: the late reply is dropped).  Against a real Reply peer,
over tcp, ipc and inproc.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import gevent
import pytest
import zmq

import gzmq

PROMPTLY = 10  # seconds: a bound that only a hang can reach


@pytest.fixture
def served(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> Iterator[tuple[gzmq.Request, list[bytes]]]:
    """A Request connected to a Reply that echoes each request (after a pause for b"slow...").

    The list collects the requests in the order the Reply received them.
    """
    rep = gzmq.Reply(context=context, linger=0)
    address = endpoint()
    rep.bind(address)
    req = gzmq.Request(context=context, linger=0)
    req.connect(rep.last_endpoint if transport == "tcp" else address)
    seen: list[bytes] = []

    def echo() -> None:
        for message in rep:
            seen.append(message[0])
            if message[0].startswith(b"slow"):
                gevent.sleep(0.3)
            rep.send(message)

    server = gevent.spawn(echo)
    yield req, seen
    server.kill()


def test_request_returns_the_reply(served: tuple[gzmq.Request, list[bytes]]) -> None:
    """request() sends the message and returns its reply as a list of frames."""
    req, _ = served
    assert req.request(b"hello") == [b"hello"]
    assert req.request([b"multi", b"part"], timeout=5) == [b"multi", b"part"]
    assert req.request("text") == [b"text"]


def test_many_greenlets_share_one_request(served: tuple[gzmq.Request, list[bytes]]) -> None:
    """50 greenlets making 10 requests each on one Request each get their own replies."""
    req, _ = served

    def client(number: int) -> list[bytes]:
        replies = []
        for turn in range(10):
            body = b"%d-%d" % (number, turn)
            reply = req.request(body, timeout=PROMPTLY)
            assert reply == [body], (body, reply)
            replies.extend(reply)
            if turn % 3 == 0:
                gevent.sleep(0)
        return replies

    clients = [gevent.spawn(client, number) for number in range(50)]
    gevent.joinall(clients, timeout=60, raise_error=True)
    assert all(glet.successful() for glet in clients)
    assert sum(len(glet.value) for glet in clients) == 500


def test_turns_are_first_come_first_served(
    served: tuple[gzmq.Request, list[bytes]],
) -> None:
    """Greenlets that ask again at once queue behind the others: the peer sees round robin.

    (A lock that lets a newcomer take a released turn first would let one
    greenlet make all its requests in a row.)
    """
    req, seen = served

    def client(name: bytes) -> None:
        for turn in range(5):
            req.request(b"%s%d" % (name, turn), timeout=PROMPTLY)

    names = [b"a", b"b", b"c", b"d"]
    clients = [gevent.spawn(client, name) for name in names]
    gevent.joinall(clients, timeout=30, raise_error=True)
    assert seen == [b"%s%d" % (name, turn) for turn in range(5) for name in names]


def test_plain_send_recv_keep_libzmqs_alternation(
    served: tuple[gzmq.Request, list[bytes]],
) -> None:
    """Without an abandoned request(), a second send() is still EFSM, saying why."""
    req, _ = served
    req.send(b"one")
    with pytest.raises(zmq.ZMQError) as info:
        req.send(b"two")
    assert info.value.errno == zmq.EFSM
    assert "Request.send() a second time before recv() of the reply" in str(info.value)
    assert req.recv(timeout=PROMPTLY) == [b"one"]
    assert req.request(b"after") == [b"after"]


def test_timed_out_request_leaves_the_socket_usable(
    served: tuple[gzmq.Request, list[bytes]],
) -> None:
    """A request whose reply comes too late raises zmq.Again; the next one gets its own reply."""
    req, seen = served
    with pytest.raises(zmq.Again):
        req.request(b"slow-1", timeout=0.05)
    assert req.request(b"fast-2", timeout=PROMPTLY) == [b"fast-2"]  # not slow-1's late reply
    assert req.request(b"fast-3") == [b"fast-3"]
    assert seen == [b"slow-1", b"fast-2", b"fast-3"]


def test_killed_request_leaves_the_socket_usable(
    served: tuple[gzmq.Request, list[bytes]],
) -> None:
    """Killing a greenlet waiting for its reply frees the turn; the next exchange is clean."""
    req, _ = served
    victim = gevent.spawn(req.request, b"slow-killed")
    behind = gevent.spawn(req.request, b"queued", timeout=PROMPTLY)
    gevent.sleep(0.05)
    victim.kill()
    assert behind.get(timeout=PROMPTLY) == [b"queued"]
    assert req.request(b"next", timeout=PROMPTLY) == [b"next"]


def test_callers_gevent_timeout_passes_through(
    served: tuple[gzmq.Request, list[bytes]],
) -> None:
    """A caller's own gevent.Timeout is raised untouched, and the socket stays usable."""
    req, _ = served
    with pytest.raises(gevent.Timeout), gevent.Timeout(0.05):
        req.request(b"slow-timeout")
    assert req.request(b"then", timeout=PROMPTLY) == [b"then"]


def test_timeout_while_waiting_for_the_turn_sends_nothing(
    served: tuple[gzmq.Request, list[bytes]],
) -> None:
    """A request that times out in the queue raises zmq.Again and never reaches the peer."""
    req, seen = served
    first = gevent.spawn(req.request, b"slow-first")
    gevent.sleep(0.02)
    with pytest.raises(zmq.Again) as info:
        req.request(b"never-sent", timeout=0.05)
    assert "waiting for its turn" in str(info.value)
    assert first.get(timeout=PROMPTLY) == [b"slow-first"]
    assert req.request(b"after") == [b"after"]
    assert b"never-sent" not in seen


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_shared_request_survives_timeouts_and_kills(
    served: tuple[gzmq.Request, list[bytes]],
) -> None:
    """Many greenlets share a Request while some time out and some are killed: every
    exchange that completes returns its own reply, and the socket keeps working."""
    req, _ = served
    rng = random.Random(16)
    completed: list[bytes] = []
    wrong: list[tuple[bytes, list[bytes]]] = []

    def client(number: int) -> None:
        for turn in range(8):
            slow = rng.random() < 0.15
            body = b"%s%d-%d" % (b"slow" if slow else b"", number, turn)
            try:
                reply = req.request(body, timeout=0.1 if slow else PROMPTLY)
            except zmq.Again:
                continue
            if reply != [body]:
                wrong.append((body, reply))
            completed.append(body)

    clients = [gevent.spawn(client, number) for number in range(30)]
    for _ in range(10):
        gevent.sleep(rng.random() / 10)
        victim = rng.choice(clients)
        victim.kill(block=False)
    gevent.joinall(clients, timeout=100)
    assert all(glet.dead for glet in clients)
    assert not wrong, wrong[:5]
    assert completed, "no exchange completed"
    assert req.request(b"finally", timeout=PROMPTLY) == [b"finally"]
