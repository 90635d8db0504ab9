"""gzmq.auth (DESIGN §8): the green ZAP Authenticator over real handshakes; certificates."""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
import pytest
import zmq
import zmq.auth

import gzmq
from gzmq import auth
from gzmq.events import AuthError, EventType

SECURE_TRANSPORTS = ["tcp", "ipc"]  # inproc has no security handshake


@pytest.fixture(params=SECURE_TRANSPORTS)
def address(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """A factory of bind endpoints on tcp or ipc."""
    counter = iter(range(1000))

    def make() -> str:
        if request.param == "tcp":
            return "tcp://127.0.0.1:*"
        return f"ipc://{tmp_path}/auth{next(counter)}.ipc"

    return make


@pytest.fixture
def authenticator(context: gzmq.Context) -> Iterator[auth.Authenticator]:
    """A running Authenticator on the test's context, stopped afterwards."""
    authenticator = auth.Authenticator(context)
    authenticator.start()
    yield authenticator
    authenticator.stop()


@pytest.fixture
def server_keys() -> gzmq.KeyPair:
    """A CURVE key pair for the server."""
    return gzmq.curve_keypair()


class Link:
    """A PULL server and a PUSH client, both observed from before bind/connect."""

    def __init__(
        self,
        context: gzmq.Context,
        endpoint: str,
        server_options: dict[str, Any],
        client_options: dict[str, Any],
        connect_to: Callable[[str], str] = lambda endpoint: endpoint,
    ) -> None:
        self.server = gzmq.Pull(context=context, linger=0, **server_options)
        self.server_events = self.server.events
        self.server.bind(endpoint)
        self.client = gzmq.Push(context=context, linger=0, **client_options)
        self.client_events = self.client.events
        self.client.connect(connect_to(self.server.last_endpoint))

    def delivers(self, payload: bytes = b"payload") -> list[Any]:
        """Send ``payload`` and return the frame received (zmq.Frame, for its properties)."""
        self.client.send(payload)
        message = self.server.recv(timeout=5, copy=False)
        assert [frame.bytes for frame in message] == [payload]
        return message

    def refused(self, status: int = 400) -> None:
        """Nothing is delivered and both sides see handshake:error:auth with ``status``."""
        self.client.send(b"must not arrive")
        for observer in (self.server_events, self.client_events):
            event = first_event(observer, EventType.HANDSHAKE_ERROR_AUTH)
            assert isinstance(event.error, AuthError)
            assert event.error.status == status
        with pytest.raises(zmq.Again):
            self.server.recv(timeout=0.3)

    def close(self) -> None:
        self.client.close()
        self.server.close()


def first_event(observer: Any, kind: EventType, timeout: float = 5) -> Any:
    """The first event of ``kind`` the observer has seen (since it was made), within ``timeout``."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"no {kind} event within {timeout} s; saw {seen}")
        try:
            event = observer.recv(timeout=remaining)
        except zmq.Again:
            continue
        if event.type == kind:
            return event
        if event.type == EventType.HANDSHAKE:
            pytest.fail(f"the handshake succeeded where {kind} was expected; saw {seen}")
        seen.append(str(event))


def plain(user: str, password: str) -> dict[str, Any]:
    """Client options for PLAIN."""
    return {"plain_username": user, "plain_password": password}


def curve_client(server_public: str, keys: gzmq.KeyPair | None = None) -> dict[str, Any]:
    """Client options for CURVE with ``keys`` (a fresh pair if None)."""
    keys = keys or gzmq.curve_keypair()
    return {
        "curve_server_key": server_public,
        "curve_public_key": keys.public,
        "curve_secret_key": keys.secret,
    }


def curve_server(keys: gzmq.KeyPair) -> dict[str, Any]:
    """Server options for CURVE."""
    return {"curve_server": True, "curve_secret_key": keys.secret}


# -- PLAIN -----------------------------------------------------------------------------------


def test_plain_good_password_delivers(
    context: gzmq.Context, authenticator: auth.Authenticator, address: Callable[[], str]
) -> None:
    """PLAIN with a configured user and password delivers, with the user name as User-Id."""
    authenticator.configure_plain(passwords={"admin": "secret", "guest": "guest"})
    link = Link(context, address(), {"plain_server": True}, plain("admin", "secret"))
    message = link.delivers(b"hello")
    assert message[0].get("User-Id") == "admin"
    first_event(link.server_events, EventType.HANDSHAKE)
    link.close()
    assert authenticator.statistics()["accepted"] == 1


def test_plain_bad_password_refused(
    context: gzmq.Context, authenticator: auth.Authenticator, address: Callable[[], str]
) -> None:
    """A wrong PLAIN password delivers nothing; both sides see handshake:error:auth 400."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    link = Link(context, address(), {"plain_server": True}, plain("admin", "Secret"))
    link.refused(400)
    link.close()
    assert authenticator.statistics()["refused"] >= 1
    assert authenticator.statistics()["accepted"] == 0


def test_plain_unknown_user_refused(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """A user name missing from the passwords is refused, whatever the password."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("root", "secret"))
    link.refused(400)
    link.close()


def test_plain_without_passwords_refused(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """Until configure_plain() is called, every PLAIN client is refused."""
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    link.refused(400)
    link.close()


def test_plain_domains(context: gzmq.Context, authenticator: auth.Authenticator) -> None:
    """Passwords are per ZAP domain; "*" covers domains without passwords of their own."""
    authenticator.configure_plain("inner", passwords={"alice": "in"})
    authenticator.configure_plain(passwords={"bob": "out"})
    inner = {"plain_server": True, "zap_domain": "inner"}
    other = {"plain_server": True, "zap_domain": "other"}
    good = Link(context, "tcp://127.0.0.1:*", inner, plain("alice", "in"))
    good.delivers()
    fallback = Link(context, "tcp://127.0.0.1:*", other, plain("bob", "out"))
    fallback.delivers()
    # bob's password is for the "*" domain; "inner" has passwords of its own.
    wrong_domain = Link(context, "tcp://127.0.0.1:*", inner, plain("bob", "out"))
    wrong_domain.refused()
    for link in (good, fallback, wrong_domain):
        link.close()


def test_plain_passwords_replaced_live(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """configure_plain() while running replaces the domain's passwords for the next handshake."""
    authenticator.configure_plain(passwords={"admin": "old"})
    first = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "old"))
    first.delivers()
    authenticator.configure_plain(passwords={"admin": "new"})
    stale = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "old"))
    stale.refused()
    fresh = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "new"))
    fresh.delivers()
    for link in (first, stale, fresh):
        link.close()


# -- CURVE -----------------------------------------------------------------------------------


def test_curve_any_admits_every_key(
    context: gzmq.Context,
    authenticator: auth.Authenticator,
    server_keys: gzmq.KeyPair,
    address: Callable[[], str],
) -> None:
    """configure_curve(keys=ANY) admits clients with any key; the User-Id is their key."""
    authenticator.configure_curve(keys=auth.ANY)
    client_keys = gzmq.curve_keypair()
    link = Link(context, address(), curve_server(server_keys),
                curve_client(server_keys.public, client_keys))
    message = link.delivers()
    assert message[0].get("User-Id") == client_keys.public
    link.close()


def test_curve_key_set(
    context: gzmq.Context,
    authenticator: auth.Authenticator,
    server_keys: gzmq.KeyPair,
    address: Callable[[], str],
) -> None:
    """With a set of keys, a listed key delivers; an unknown key is refused with 400 both sides."""
    known = gzmq.curve_keypair()
    authenticator.configure_curve(keys={known.public, gzmq.curve_keypair().public})
    good = Link(context, address(), curve_server(server_keys),
                curve_client(server_keys.public, known))
    good.delivers()
    intruder = Link(context, address(), curve_server(server_keys),
                    curve_client(server_keys.public))
    intruder.refused(400)
    good.close()
    intruder.close()


def test_curve_key_forms(
    context: gzmq.Context, authenticator: auth.Authenticator, server_keys: gzmq.KeyPair
) -> None:
    """Keys may be given as Z85 str, Z85 bytes or 32 raw bytes."""
    pairs = [gzmq.curve_keypair() for _ in range(3)]
    authenticator.configure_curve(keys=[
        pairs[0].public, pairs[1].public.encode(), zmq.utils.z85.decode(pairs[2].public)
    ])
    for pair in pairs:
        link = Link(context, "tcp://127.0.0.1:*", curve_server(server_keys),
                    curve_client(server_keys.public, pair))
        link.delivers()
        link.close()


def test_curve_certificate_directory(
    context: gzmq.Context,
    authenticator: auth.Authenticator,
    address: Callable[[], str],
    tmp_path: Path,
) -> None:
    """Keys from a directory of certificates (written by gzmq and by pyzmq) deliver; others not."""
    keys, authorized = tmp_path / "keys", tmp_path / "authorized"
    keys.mkdir()
    authorized.mkdir()
    _, server_secret_file = auth.create_certificates(keys, "server")
    gzmq_public, gzmq_secret = auth.create_certificates(keys, "client")
    pyzmq_public, pyzmq_secret = zmq.auth.create_certificates(str(keys), "pyclient")
    os.link(gzmq_public, authorized / "client.key")
    os.link(pyzmq_public, authorized / "pyclient.key")
    authenticator.configure_curve(keys=authorized)
    server = auth.load_certificate(server_secret_file)
    assert server.secret is not None
    server_options = {"curve_server": True, "curve_secret_key": server.secret}
    for secret_file in (gzmq_secret, pyzmq_secret):
        client = auth.load_certificate(secret_file)
        assert client.secret is not None
        link = Link(context, address(), server_options,
                    curve_client(server.public, gzmq.KeyPair(client.public, client.secret)))
        link.delivers()
        link.close()
    intruder = Link(context, address(), server_options, curve_client(server.public))
    intruder.refused(400)
    intruder.close()


def test_curve_unconfigured_refused(
    context: gzmq.Context, authenticator: auth.Authenticator, server_keys: gzmq.KeyPair
) -> None:
    """With a ZAP handler but no configure_curve(), CURVE clients are refused."""
    link = Link(context, "tcp://127.0.0.1:*", curve_server(server_keys),
                curve_client(server_keys.public))
    link.refused(400)
    link.close()


# -- addresses --------------------------------------------------------------------------------


def test_denied_address_refused(context: gzmq.Context, authenticator: auth.Authenticator) -> None:
    """A deny-listed address is refused even with a good password; others pass."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    authenticator.deny("127.0.0.1")
    denied = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    denied.refused(400)
    port = denied.server.last_endpoint.rsplit(":", 1)[1]
    other = gzmq.Push(context=context, linger=0, **plain("admin", "secret"))
    other.connect(f"tcp://127.0.0.2:0;127.0.0.1:{port}")  # from source address 127.0.0.2
    other.send(b"from elsewhere")
    assert denied.server.recv(timeout=5) == [b"from elsewhere"]
    other.close()
    denied.close()


def test_allow_list(context: gzmq.Context, authenticator: auth.Authenticator) -> None:
    """With an allow-list only listed addresses pass, and they still need a good password."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    authenticator.allow("127.0.0.1", "10.0.0.0/8")
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    link.delivers()
    port = link.server.last_endpoint.rsplit(":", 1)[1]
    outsider = Link(context, "tcp://127.0.0.1:*", {"plain_server": True},
                    plain("admin", "secret"),
                    connect_to=lambda endpoint: "tcp://127.0.0.2:0;" + endpoint[6:])
    outsider.refused(400)
    bad_password = Link(context, "tcp://127.0.0.1:*", {"plain_server": True},
                        plain("admin", "wrong"))
    bad_password.refused(400)
    assert port
    for each in (link, outsider, bad_password):
        each.close()


def test_allow_network(context: gzmq.Context, authenticator: auth.Authenticator) -> None:
    """An allowed network admits its addresses and only those."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    authenticator.allow("127.0.0.2/32")
    inside = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"),
                  connect_to=lambda endpoint: "tcp://127.0.0.2:0;" + endpoint[6:])
    inside.delivers()
    outside = Link(context, "tcp://127.0.0.1:*", {"plain_server": True},
                   plain("admin", "secret"))
    outside.refused(400)
    inside.close()
    outside.close()


def test_null_with_zap_domain_denied(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """NULL security asks ZAP when the server has a zap_domain: a denied address is refused."""
    authenticator.deny("127.0.0.1")
    link = Link(context, "tcp://127.0.0.1:*", {"zap_domain": "global"}, {})
    link.refused(400)
    link.close()
    authenticator_allowing = Link(context, "tcp://127.0.0.1:*", {"zap_domain": "global"}, {},
                                  connect_to=lambda e: "tcp://127.0.0.2:0;" + e[6:])
    authenticator_allowing.delivers()
    authenticator_allowing.close()


def test_ipc_peer_address(
    context: gzmq.Context, authenticator: auth.Authenticator, tmp_path: Path
) -> None:
    """Over ipc the address is the peer's process credentials; deny() of that text refuses it."""
    addresses: list[str] = []

    def record(request: auth.Request) -> bool:
        addresses.append(request.address)
        return request.allowed

    authenticator.configure_plain(passwords={"admin": "secret"})
    authenticator.callback = record
    first = Link(context, f"ipc://{tmp_path}/peer.ipc", {"plain_server": True},
                 plain("admin", "secret"))
    first.delivers()
    first.close()
    assert addresses[0].endswith(f":{os.getuid()}:{os.getgid()}:{os.getpid()}")
    authenticator.deny(addresses[0])
    second = Link(context, f"ipc://{tmp_path}/peer2.ipc", {"plain_server": True},
                  plain("admin", "secret"))
    second.refused(400)
    second.close()
    assert len(addresses) == 1  # a refused address never reaches the callback


def test_allow_and_deny_exclusive() -> None:
    """allow() after deny() (and the reverse) raises ValueError, as pyzmq's."""
    first = auth.Authenticator(gzmq.Context())
    first.deny("10.0.0.1")
    with pytest.raises(ValueError, match="not both"):
        first.allow("10.0.0.2")
    second = auth.Authenticator(first.context)
    second.allow("10.0.0.2")
    with pytest.raises(ValueError, match="not both"):
        second.deny("10.0.0.1")
    first.context.close()


# -- callback --------------------------------------------------------------------------------


def test_callback_sees_requests_and_decides(
    context: gzmq.Context, authenticator: auth.Authenticator, server_keys: gzmq.KeyPair
) -> None:
    """The callback sees the request and built-in verdict; True/(True, id) accept, False refuses."""
    seen: list[auth.Request] = []
    client_keys = gzmq.curve_keypair()

    def decide(request: auth.Request) -> bool | tuple[bool, str]:
        seen.append(request)
        if request.mechanism == "CURVE":
            return (True, "curve-user") if request.public_key == client_keys.public else False
        return request.allowed and request.username != "blocked"

    authenticator.callback = decide
    authenticator.configure_plain(passwords={"admin": "secret", "blocked": "secret"})
    admin = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    assert admin.delivers()[0].get("User-Id") == "admin"
    blocked = Link(context, "tcp://127.0.0.1:*", {"plain_server": True},
                   plain("blocked", "secret"))
    blocked.refused(400)
    curve = Link(context, "tcp://127.0.0.1:*", curve_server(server_keys),
                 curve_client(server_keys.public, client_keys))
    assert curve.delivers()[0].get("User-Id") == "curve-user"
    other = Link(context, "tcp://127.0.0.1:*", curve_server(server_keys),
                 curve_client(server_keys.public))
    other.refused(400)
    first = seen[0]
    assert (first.mechanism, first.address, first.username, first.password) == (
        "PLAIN", "127.0.0.1", "admin", "secret"
    )
    assert first.allowed and first.user_id == "admin"
    assert "secret" not in repr(first)  # the password stays out of logs
    curve_request = next(r for r in seen if r.public_key == client_keys.public)
    assert not curve_request.allowed  # no configure_curve(): the built-in verdict refuses
    assert curve_request.reason == "no CURVE keys configured"
    for link in (admin, blocked, curve, other):
        link.close()


def test_callback_never_sees_refused_addresses(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """A deny-listed address is final: the callback is not asked."""
    calls: list[auth.Request] = []
    def record(request: auth.Request) -> bool:
        calls.append(request)
        return True

    authenticator.callback = record
    authenticator.deny("127.0.0.1")
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("any", "any"))
    link.refused(400)
    link.close()
    assert calls == []


@pytest.mark.parametrize(
    "callback",
    [lambda request: 1 / 0, lambda request: "yes", lambda request: (True,)],
    ids=["raises", "returns-str", "returns-short-tuple"],
)
def test_callback_failure_is_500(
    context: gzmq.Context, authenticator: auth.Authenticator, callback: Any
) -> None:
    """A callback that raises or returns garbage gives status 500 on both sides; serving goes on."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    authenticator.callback = callback
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    link.refused(500)
    link.close()
    assert authenticator.statistics()["failed"] >= 1
    authenticator.callback = None
    again = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    again.delivers()
    again.close()


def test_callback_may_block_cooperatively(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """A callback that waits (gevent.sleep, as a lookup would) decides; the hub keeps running."""
    ticks: list[float] = []

    def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.005)

    ticker = gevent.spawn(tick)

    def slow(request: auth.Request) -> bool:
        gevent.sleep(0.2)
        return request.username == "admin"

    authenticator.callback = slow
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "x"))
    link.delivers()
    ticker.kill()
    link.close()
    assert len(ticks) > 10


def test_callback_may_stop_the_authenticator(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """stop() called from the callback ends serving without a deadlock; the peer is not admitted."""
    authenticator.configure_plain(passwords={"admin": "secret"})

    def stop_now(request: auth.Request) -> bool:
        authenticator.stop()
        return True

    authenticator.callback = stop_now
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    link.client.send(b"x")
    with pytest.raises(zmq.Again):
        link.server.recv(timeout=0.5)
    assert not authenticator.running
    link.close()


# -- robustness ------------------------------------------------------------------------------


def zap_reply(sock: gzmq.Dealer, timeout: float = 2) -> list[bytes]:
    return sock.recv(timeout=timeout)


@pytest.mark.parametrize(
    ("request_frames", "expected"),
    [
        ([b"", b"1.0", b"7"], [b"", b"1.0", b"7", b"400"]),
        ([b"", b"2.0", b"8", b"", b"127.0.0.1", b"", b"NULL"], [b"", b"1.0", b"8", b"400"]),
        ([b"", b"1.0", b"9", b"", b"127.0.0.1", b"", b"KERBEROS", b"x"],
         [b"", b"1.0", b"9", b"400"]),
        ([b"", b"1.0", b"10", b"", b"127.0.0.1", b"", b"PLAIN", b"only-user"],
         [b"", b"1.0", b"10", b"400"]),
        ([b"", b"1.0", b"11", b"", b"127.0.0.1", b"", b"CURVE", b"k" * 31],
         [b"", b"1.0", b"11", b"400"]),
        ([b"", b"1.0", b"12", b"", b"127.0.0.1", b"", b"NULL", b"extra"],
         [b"", b"1.0", b"12", b"400"]),
        ([b"", b"1.0", b"13", b"\xff\xfe", b"\xff", b"\x00", b"PLAIN", b"\xff", b"\xfe"],
         [b"", b"1.0", b"13", b"400"]),
        ([b"", b"1.0", b"14", b"", b"127.0.0.1", b"", b"NULL"], [b"", b"1.0", b"14", b"200"]),
        ([b"1.0", b"15", b"", b"127.0.0.1", b"", b"NULL"], [b"1.0", b"15", b"200"]),
        ([b"1.0", b"16", b"", b"127.0.0.1"], [b"1.0", b"16", b"400"]),
    ],
    ids=[
        "too-few-frames", "bad-version", "unknown-mechanism", "plain-one-credential",
        "curve-short-key", "null-with-credentials", "not-utf8", "valid-null",
        "valid-no-delimiter", "short-no-delimiter",
    ],
)
def test_malformed_requests_get_replies(
    context: gzmq.Context,
    authenticator: auth.Authenticator,
    request_frames: list[Any],
    expected: list[bytes],
) -> None:
    """A malformed ZAP request gets a 400 reply (a valid one 200), in the sender's envelope."""
    probe = gzmq.Dealer(context=context, linger=0)
    probe.connect(auth.ZAP_ENDPOINT)
    probe.send(request_frames)
    reply = zap_reply(probe)
    assert reply[: len(expected)] == expected
    assert len(reply) == len(expected) + 3  # status text, user id, metadata
    probe.close()


def test_survives_garbage_and_keeps_serving(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """Garbage on the ZAP socket is answered or dropped; real handshakes still work after."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    probe = gzmq.Dealer(context=context, linger=0)
    probe.connect(auth.ZAP_ENDPOINT)
    garbage: list[list[Any]] = [
        [b"\xff" * 1000], [b""], [b"", b""], [b"", b"1.0"], [os.urandom(64) for _ in range(50)],
        [b"", b"1.0", b"1", b"", b"127.0.0.1", b"", b"PLAIN"] + [b"x"] * 200,
    ]
    for message in garbage:
        probe.send(message)
    request_socket = gzmq.Request(context=context, linger=0)  # REQ adds the delimiter itself
    request_socket.connect(auth.ZAP_ENDPOINT)
    request_socket.send([b"1.0", b"99", b"", b"127.0.0.1", b"", b"PLAIN", b"admin", b"secret"])
    assert request_socket.recv(timeout=2)[:4] == [b"1.0", b"99", b"200", b"OK"]
    replies = []
    while True:
        try:
            replies.append(probe.recv(timeout=0.3))
        except zmq.Again:
            break
    # The random frames (answered with their own "request id") and the last message had
    # enough frames to answer; the other four are dropped.
    assert len(replies) == 2
    assert replies[0][0] == b"1.0" and replies[0][2] == b"400"  # no delimiter: none back
    assert b"version" in replies[0][3]
    assert replies[1][:4] == [b"", b"1.0", b"1", b"400"]
    assert authenticator.running
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("admin", "secret"))
    link.delivers()
    link.close()
    stats = authenticator.statistics()
    assert stats["dropped"] == 4
    probe.close()
    request_socket.close()


# -- lifecycle -------------------------------------------------------------------------------


def test_stop_ends_greenlet_and_closes_socket(context: gzmq.Context) -> None:
    """stop() ends the greenlet, closes the ZAP socket, frees the endpoint; it is idempotent."""
    before = set(context.sockets)
    authenticator = auth.Authenticator(context)
    assert not authenticator.running
    authenticator.start()
    authenticator.start()  # no-op while running
    assert authenticator.running
    greenlet = authenticator._greenlet
    assert len(set(context.sockets) - before) == 1
    authenticator.stop()
    authenticator.stop()
    assert not authenticator.running
    assert greenlet is not None and greenlet.dead
    assert set(context.sockets) == before
    # The endpoint is free again at once: a second authenticator (and a restart) can bind.
    for _ in range(5):
        with auth.Authenticator(context) as again:
            assert again.running
        assert not again.running
    descriptors = len(os.listdir("/proc/self/fd"))
    for _ in range(100):
        with auth.Authenticator(context):
            pass
    # Nothing leaks per cycle.  libzmq's reaper thread closes a closed socket's
    # descriptors a little later, so give it a moment on a loaded machine.
    deadline = time.monotonic() + 5
    while len(os.listdir("/proc/self/fd")) >= descriptors + 10 and time.monotonic() < deadline:
        gevent.sleep(0.05)
    assert len(os.listdir("/proc/self/fd")) < descriptors + 10
    authenticator.start()
    authenticator.configure_plain(passwords={"u": "p"})
    link = Link(context, "tcp://127.0.0.1:*", {"plain_server": True}, plain("u", "p"))
    link.delivers()
    link.close()
    authenticator.stop()
    assert set(context.sockets) == before


def test_without_handler_libzmq_refuses_plain(
    context: gzmq.Context, server_keys: gzmq.KeyPair
) -> None:
    """After stop() no handler is left: libzmq's PLAIN server refuses all, CURVE admits all."""
    with auth.Authenticator(context) as authenticator:
        authenticator.configure_plain(passwords={"admin": "secret"})
        served = Link(context, "tcp://127.0.0.1:*", {"plain_server": True},
                      plain("admin", "secret"))
        served.delivers()
        served.close()
    unserved = Link(context, "tcp://127.0.0.1:*", {"plain_server": True},
                    plain("admin", "secret"))
    unserved.client.send(b"x")
    event = first_event(unserved.server_events, EventType.HANDSHAKE_ERROR_OTHER)
    assert event.error is not None and event.error.errno == errno.EFAULT
    with pytest.raises(zmq.Again):
        unserved.server.recv(timeout=0.3)
    unserved.close()
    curve = Link(context, "tcp://127.0.0.1:*", curve_server(server_keys),
                 curve_client(server_keys.public))
    curve.delivers()
    curve.close()


def test_second_authenticator_on_a_context(
    context: gzmq.Context, authenticator: auth.Authenticator
) -> None:
    """A second running Authenticator on one context raises EADDRINUSE naming the reason."""
    second = auth.Authenticator(context)
    with pytest.raises(zmq.ZMQError, match="one Authenticator per context") as raised:
        second.start()
    assert raised.value.errno == zmq.EADDRINUSE
    assert not second.running
    other_context = gzmq.Context()
    with auth.Authenticator(other_context) as third:  # another context has its own
        assert third.running
    other_context.close()


def test_context_close_ends_authenticator() -> None:
    """Closing the context closes the ZAP socket and ends the greenlet; stop() is then a no-op."""
    context = gzmq.Context()
    authenticator = auth.Authenticator(context)
    authenticator.start()
    greenlet = authenticator._greenlet
    assert greenlet is not None
    context.close()
    greenlet.join(timeout=2)
    assert greenlet.dead
    assert not authenticator.running
    authenticator.stop()


def test_default_context() -> None:
    """Authenticator() serves the default context (gzmq.context)."""
    authenticator = auth.Authenticator()
    assert authenticator.context is gzmq.context
    with authenticator:
        authenticator.configure_plain(passwords={"u": "p"})
        server = gzmq.Pull(plain_server=True, linger=0)
        server.bind("tcp://127.0.0.1:*")
        client = gzmq.Push(linger=0, **plain("u", "p"))
        client.connect(server.last_endpoint)
        client.send(b"x")
        assert server.recv(timeout=5) == [b"x"]
        client.close()
        server.close()


@pytest.mark.timeout(60)
def test_heartbeat_ticks_during_many_handshakes(
    context: gzmq.Context, authenticator: auth.Authenticator, server_keys: gzmq.KeyPair
) -> None:
    """A heartbeat greenlet keeps ticking while 100 clients are authenticated at once."""
    authenticator.configure_plain(passwords={"admin": "secret"})
    authenticator.configure_curve(keys=auth.ANY)
    gaps: list[float] = []

    def heartbeat() -> None:
        last = time.monotonic()
        while True:
            gevent.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    beat = gevent.spawn(heartbeat)
    started = time.monotonic()
    plain_server = gzmq.Pull(context=context, linger=0, plain_server=True)
    plain_server.bind("tcp://127.0.0.1:*")
    curve = gzmq.Pull(context=context, linger=0, **curve_server(server_keys))
    curve.bind("tcp://127.0.0.1:*")
    clients = []
    for number in range(100):
        if number % 2:
            client = gzmq.Push(context=context, linger=0, **plain("admin", "secret"))
            client.connect(plain_server.last_endpoint)
        else:
            client = gzmq.Push(context=context, linger=0, **curve_client(server_keys.public))
            client.connect(curve.last_endpoint)
        client.send(str(number))
        clients.append(client)
    received = set()
    for sock in (plain_server, curve):
        for _ in range(50):
            received.add(int(sock.recv(timeout=10)[0]))
    beat.kill()
    elapsed = time.monotonic() - started
    assert received == set(range(100))
    assert authenticator.statistics()["accepted"] == 100
    # It ticked all along (at least a quarter of the 5 ms ticks the time allowed;
    # however fast the handshakes were) and never stalled.
    assert len(gaps) >= max(1, int(elapsed / 0.005 / 4)), (len(gaps), elapsed)
    assert max(gaps) < 2.0
    for client in clients:
        client.close()
    plain_server.close()
    curve.close()


# -- bad input -------------------------------------------------------------------------------


def test_bad_settings_raise_clear_errors(tmp_path: Path) -> None:
    """Wrong types and values for the settings raise TypeError/ValueError naming what is wrong."""
    with pytest.raises(TypeError, match=r"gzmq\.Context"):
        auth.Authenticator(zmq.Context.instance())  # type: ignore[arg-type]
    context = gzmq.Context()
    authenticator = auth.Authenticator(context)
    with pytest.raises(TypeError, match="callable"):
        authenticator.callback = "yes"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="passwords"):
        authenticator.configure_plain()
    with pytest.raises(TypeError, match="must be str"):
        authenticator.configure_plain(passwords={"user": b"bytes"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="domain"):
        authenticator.configure_plain(None, {"a": "b"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="40 Z85 characters"):
        authenticator.configure_curve(keys=["short"])
    with pytest.raises(ValueError, match="not a Z85 key"):
        authenticator.configure_curve(keys=["~" * 40])
    with pytest.raises(TypeError, match="Z85 str"):
        authenticator.configure_curve(keys=[12345])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="keys=\\[key\\]"):
        authenticator.configure_curve(keys=gzmq.curve_keypair().public.encode())  # type: ignore[arg-type]
    with pytest.raises(NotADirectoryError, match="not a directory"):
        authenticator.configure_curve(keys=gzmq.curve_keypair().public)
    with pytest.raises(NotADirectoryError):
        authenticator.configure_curve(keys=tmp_path / "missing")
    with pytest.raises(TypeError, match="ANY"):
        authenticator.configure_curve(keys=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs keys="):
        authenticator.configure_curve()
    with pytest.raises(TypeError, match="non-empty str"):
        authenticator.allow(127)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a network"):
        authenticator.allow("10.0.0.0/99")
    assert authenticator.statistics()["requests"] == 0
    context.close()


# -- certificates ----------------------------------------------------------------------------


def test_certificates_gzmq_to_pyzmq(tmp_path: Path) -> None:
    """Files written by gzmq are read by pyzmq (and gzmq) with the same keys."""
    public_file, secret_file = auth.create_certificates(tmp_path, "alice", {"name": "Alice"})
    assert (public_file, secret_file) == (tmp_path / "alice.key", tmp_path / "alice.key_secret")
    pyzmq_public, pyzmq_secret = zmq.auth.load_certificate(str(secret_file))
    assert pyzmq_secret is not None
    ours = auth.load_certificate(secret_file)
    assert ours == (pyzmq_public.decode(), pyzmq_secret.decode())
    assert zmq.curve_public(pyzmq_secret) == pyzmq_public
    assert zmq.auth.load_certificate(str(public_file)) == (pyzmq_public, None)
    assert auth.load_certificate(public_file) == (ours[0], None)
    assert zmq.auth.load_certificates(str(tmp_path)) == {pyzmq_public: True}
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert 'name = "Alice"' in secret_file.read_text()
    assert "secret-key" not in public_file.read_text()


def test_certificates_pyzmq_to_gzmq(tmp_path: Path) -> None:
    """Files written by pyzmq are read by gzmq with the same keys, one by one and by directory."""
    public_file, secret_file = zmq.auth.create_certificates(str(tmp_path), "bob")
    public, secret = zmq.auth.load_certificate(secret_file)
    assert secret is not None
    assert auth.load_certificate(secret_file) == (public.decode(), secret.decode())
    assert auth.load_certificate(public_file) == (public.decode(), None)
    auth.create_certificates(tmp_path, "carol")
    carol = auth.load_certificate(tmp_path / "carol.key").public
    assert auth.load_certificates(tmp_path) == {
        public.decode(): Path(public_file), carol: tmp_path / "carol.key"
    }
    assert set(zmq.auth.load_certificates(str(tmp_path))) == {public, carol.encode()}


def test_czmq_style_certificate(tmp_path: Path) -> None:
    """A czmq-style file (metadata, single quotes, '#' and '=' inside keys) is read."""
    keys = gzmq.curve_keypair()
    while "#" not in keys.public + keys.secret and "=" not in keys.public + keys.secret:
        keys = gzmq.curve_keypair()
    file = tmp_path / "czmq.key_secret"
    file.write_text(
        "#   ZeroMQ CURVE **Secret** Certificate\n"
        "metadata\n    email = \"a@example.com\"\n"
        f"curve\n    public-key = '{keys.public}'\n    secret-key = \"{keys.secret}\"\n"
    )
    assert auth.load_certificate(file) == keys


def test_create_certificates_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing certificate is not overwritten unless overwrite=True; then the keys change."""
    public_file, _ = auth.create_certificates(tmp_path, "server")
    first = auth.load_certificate(public_file).public
    with pytest.raises(FileExistsError, match="overwrite=True") as raised:
        auth.create_certificates(tmp_path, "server")
    assert raised.value.filename is not None
    assert auth.load_certificate(public_file).public == first
    auth.create_certificates(tmp_path, "server", overwrite=True)
    assert auth.load_certificate(public_file).public != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["server.key", "server.key_secret"]


def test_certificate_errors(tmp_path: Path) -> None:
    """Missing files, bad keys, mismatched keys and wrong types raise clear errors."""
    with pytest.raises(FileNotFoundError) as missing:
        auth.load_certificate(tmp_path / "missing.key")
    assert missing.value.errno == errno.ENOENT and "missing.key" in str(missing.value)
    with pytest.raises(FileNotFoundError, match="certificate directory"):
        auth.create_certificates(tmp_path / "nowhere", "x")
    with pytest.raises(ValueError, match="file name"):
        auth.create_certificates(tmp_path, "../escape")
    with pytest.raises(ValueError, match="file name"):
        auth.create_certificates(tmp_path, "")
    with pytest.raises(IsADirectoryError):
        auth.load_certificate(tmp_path)
    with pytest.raises(NotADirectoryError):
        auth.load_certificates(tmp_path / "missing")
    with pytest.raises(TypeError, match="path"):
        auth.load_certificate(42)  # type: ignore[arg-type]
    empty = tmp_path / "empty.key"
    empty.write_text("# nothing here\nmetadata\ncurve\n")
    with pytest.raises(ValueError, match=r"no public key in certificate .*empty\.key"):
        auth.load_certificate(empty)
    short = tmp_path / "short.key"
    short.write_text('curve\n    public-key = "abc"\n')
    with pytest.raises(ValueError, match=r"public key in .*short\.key.*40 Z85"):
        auth.load_certificate(short)
    keys, other = gzmq.curve_keypair(), gzmq.curve_keypair()
    mismatched = tmp_path / "mismatch.key_secret"
    mismatched.write_text(
        f'curve\n    public-key = "{keys.public}"\n    secret-key = "{other.secret}"\n'
    )
    with pytest.raises(ValueError, match="does not belong"):
        auth.load_certificate(mismatched)
    binary = tmp_path / "binary.key"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not a certificate"):
        auth.load_certificate(binary)
    with pytest.raises(ValueError, match=r"binary\.key"):
        auth.load_certificates(tmp_path)  # a bad *.key file names itself


def test_public_surface() -> None:
    """gzmq.auth's __all__ names exist; ANY is a singleton with a clear repr."""
    for name in auth.__all__:
        assert hasattr(auth, name), name
    assert repr(auth.ANY) == "gzmq.auth.ANY"
    assert type(auth.ANY)() is auth.ANY
