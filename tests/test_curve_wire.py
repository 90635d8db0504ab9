"""CURVE on the wire: a TCP relay between client and server records every byte; no plaintext.

The relay is a few gevent sockets in the test: it accepts the client's
connection, opens one to the real server and copies bytes both ways,
keeping a copy.  Over CURVE the payloads (and keys' secrets) never appear
in those bytes; over NULL (the control) and PLAIN they do, so the search
is shown to find plaintext when there is some.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import gevent
import gevent.socket
import pytest
from zmq.utils import z85

import gzmq
from gzmq import auth

REQUEST = b"CANARY-REQUEST-" + os.urandom(4).hex().encode() + b"-attack at dawn"
REPLY = b"CANARY-REPLY-" + os.urandom(4).hex().encode() + b"-retreat at dusk"


class Relay:
    """A TCP forwarder on 127.0.0.1 that records the bytes each way."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.upstream = bytearray()  # client -> server
        self.downstream = bytearray()  # server -> client
        self.connections = 0
        self._listener = gevent.socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self.port: int = self._listener.getsockname()[1]
        self._greenlets: list[gevent.Greenlet[Any, Any]] = [gevent.spawn(self._accept)]
        self._sockets: list[gevent.socket.socket] = []

    def _accept(self) -> None:
        while True:
            client, _ = self._listener.accept()
            server = gevent.socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += 1
            self._sockets += [client, server]
            self._greenlets.append(gevent.spawn(self._pump, client, server, self.upstream))
            self._greenlets.append(gevent.spawn(self._pump, server, client, self.downstream))

    @staticmethod
    def _pump(source: Any, sink: Any, record: bytearray) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                record += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(2)
                except OSError:
                    pass

    @property
    def recorded(self) -> bytes:
        """Every byte relayed, both directions."""
        return bytes(self.upstream) + bytes(self.downstream)

    def close(self) -> None:
        gevent.killall(self._greenlets)
        for sock in [self._listener, *self._sockets]:
            sock.close()


@pytest.fixture
def relay_to() -> Iterator[Any]:
    """A factory of relays to a server port; all closed after the test."""
    relays: list[Relay] = []

    def make(port: int) -> Relay:
        relay = Relay(port)
        relays.append(relay)
        return relay

    yield make
    for relay in relays:
        relay.close()


def exchange(context: gzmq.Context, relay_to: Any, server_options: dict[str, Any],
             client_options: dict[str, Any], rounds: int = 20) -> Relay:
    """REQ -> relay -> REP: ``rounds`` requests and replies; the relay that carried them."""
    server = gzmq.Reply(context=context, linger=0, **server_options)
    server.bind("tcp://127.0.0.1:*")
    relay = relay_to(int(server.last_endpoint.rsplit(":", 1)[1]))
    client = gzmq.Request(context=context, linger=0, **client_options)
    client.connect(f"tcp://127.0.0.1:{relay.port}")

    def serve() -> None:
        for _ in range(rounds):
            assert server.recv(timeout=5) == [REQUEST]
            server.send(REPLY)

    replier = gevent.spawn(serve)
    for _ in range(rounds):
        client.send(REQUEST)
        assert client.recv(timeout=5) == [REPLY]
    replier.get(timeout=5)
    assert relay.connections == 1
    assert len(relay.upstream) > rounds * len(REQUEST)  # everything really went through it
    client.close()
    server.close()
    return relay


def test_null_security_shows_the_payload(context: gzmq.Context, relay_to: Any) -> None:
    """Control: with NULL security the recorded bytes contain both payloads in the clear."""
    relay = exchange(context, relay_to, {}, {})
    assert REQUEST in relay.upstream
    assert REPLY in relay.downstream
    assert bytes(relay.upstream).count(REQUEST) == 20


def test_plain_security_shows_password_and_payload(
    context: gzmq.Context, relay_to: Any
) -> None:
    """Control: PLAIN authenticates but does not encrypt: password and payloads are visible."""
    with auth.Authenticator(context) as authenticator:
        authenticator.configure_plain(passwords={"admin": "hunter2-sesame"})
        relay = exchange(context, relay_to, {"plain_server": True},
                         {"plain_username": "admin", "plain_password": "hunter2-sesame"})
    assert b"hunter2-sesame" in relay.upstream
    assert REQUEST in relay.upstream and REPLY in relay.downstream


@pytest.mark.parametrize("with_authenticator", [False, True], ids=["no-zap", "zap-keys"])
def test_curve_hides_the_payload(
    context: gzmq.Context, relay_to: Any, with_authenticator: bool
) -> None:
    """Over CURVE no payload, no fragment of one, and no secret key appears in the bytes."""
    server_keys, client_keys = gzmq.curve_keypair(), gzmq.curve_keypair()
    authenticator = auth.Authenticator(context)
    if with_authenticator:
        authenticator.configure_curve(keys=[client_keys.public])
        authenticator.start()
    relay = exchange(
        context, relay_to,
        {"curve_server": True, "curve_secret_key": server_keys.secret},
        {"curve_server_key": server_keys.public, "curve_public_key": client_keys.public,
         "curve_secret_key": client_keys.secret},
    )
    authenticator.stop()
    recorded = relay.recorded
    assert len(relay.downstream) > 20 * len(REPLY)
    for payload in (REQUEST, REPLY):
        # No 8-byte window of either payload appears anywhere.
        for start in range(len(payload) - 8):
            assert payload[start:start + 8] not in recorded, payload[start:start + 8]
    for secret in (server_keys.secret, client_keys.secret):
        assert secret.encode() not in recorded
        assert z85.decode(secret.encode()) not in recorded
    assert b"CURVE" in recorded  # the greeting names the mechanism: this is a ZMTP stream

