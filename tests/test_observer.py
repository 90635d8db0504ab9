"""The Observer (DESIGN §6): socket events over real tcp, ipc and inproc connections.

What each transport emits (libzmq 4.3): tcp and ipc emit the whole set
(bind, accept, connect[:delay], handshake, disconnect, close, end, and the
failures); inproc emits none of them, only "end" when the socket closes.
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import signal
import socket as pysocket
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import gevent
import greenlet
import pytest
import zmq
from zope.interface.verify import verifyClass, verifyObject

import gzmq
import gzmq.observer
from gzmq.errors import InvalidThreadUseError, ObserverModeError, SocketClosedError
from gzmq.events import (
    PROTOCOL_CODES,
    AuthError,
    Event,
    EventType,
    ProtocolError,
    decode_event,
)
from gzmq.interfaces import IObserver
from gzmq.observer import Observer

NETWORK = ["tcp", "ipc"]


# -- helpers ----------------------------------------------------------------------------


def types_until(observer: Observer, last: str, timeout: float = 5.0) -> list[str]:
    """Receive events until one of type ``last``; return the types seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            event = observer.recv(timeout=max(0.0, deadline - time.monotonic()))
        except zmq.Again:
            pytest.fail(f"no {last!r} event within {timeout} s; saw {seen}")
        seen.append(event.type.value)
        if event.type == last:
            return seen


def event_until(observer: Observer, last: str, timeout: float = 5.0) -> Event:
    """Receive events until one of type ``last`` and return it."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        try:
            event = observer.recv(timeout=max(0.0, deadline - time.monotonic()))
        except zmq.Again:
            pytest.fail(f"no {last!r} event within {timeout} s; saw {seen}")
        if event.type == last:
            return event
        seen.append(event.type.value)


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the hub run until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        gevent.sleep(0.005)


def outcome(function: Callable[..., object], *args: object, **kwargs: object) -> object:
    """Call ``function``; return its result or the exception it raised (for spawned calls)."""
    try:
        return function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - returned for the assertion
        return error


def live_greenlets() -> int:
    """How many greenlets exist and have not finished."""
    gc.collect()
    return sum(
        1 for obj in gc.get_objects() if isinstance(obj, greenlet.greenlet) and not obj.dead
    )


def dead_tcp_endpoint() -> str:
    """A tcp endpoint on which nothing listens."""
    probe = pysocket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"tcp://127.0.0.1:{port}"


def network_endpoint(transport: str, tmp_path: Path, name: str = "s") -> str:
    """A bind endpoint on tcp or ipc."""
    if transport == "tcp":
        return "tcp://127.0.0.1:*"
    return f"ipc://{tmp_path}/{name}.ipc"


def raw(sock: gzmq.Socket) -> zmq.Socket:
    """The pyzmq socket under a gzmq socket (to set security options directly)."""
    return sock._sock


@pytest.fixture
def zap_denier(context: gzmq.Context) -> Iterator[list[list[bytes]]]:
    """A ZAP handler greenlet on the test's context that answers every request with 400."""
    zap = gzmq.Reply(context=context, linger=0)
    zap.bind("inproc://zeromq.zap.01")
    requests: list[list[bytes]] = []

    def serve() -> None:
        for request in zap:
            requests.append(request)
            zap.send([request[0], request[1], b"400", b"denied by the test", b"", b""])

    server = gevent.spawn(serve)
    yield requests
    zap.close()
    server.join(timeout=2)


# -- events.py --------------------------------------------------------------------------


def test_event_type_values_are_zeromq_js_names() -> None:
    """EventType has exactly zeromq.js's sixteen event names, and members equal their names."""
    assert {member.value for member in EventType} == {
        "accept", "accept:error", "bind", "bind:error", "connect", "connect:delay",
        "connect:retry", "close", "close:error", "disconnect", "end", "handshake",
        "handshake:error:protocol", "handshake:error:auth", "handshake:error:other", "unknown",
    }
    assert EventType.BIND == "bind"
    assert str(EventType.CONNECT_RETRY) == "connect:retry"


def test_event_type_of_rejects_bad_names() -> None:
    """An unknown event name is a ValueError listing the valid ones; a non-str a TypeError."""
    assert EventType.of("handshake") is EventType.HANDSHAKE
    with pytest.raises(ValueError, match="'connect:retry'"):
        EventType.of("connected")
    with pytest.raises(TypeError, match="int"):
        EventType.of(5)


def test_decode_maps_every_libzmq_event() -> None:
    """Each libzmq event id decodes (from the monitor wire format) to its type and payload."""

    def message(event_id: int, value: int, endpoint: bytes = b"tcp://1.2.3.4:5") -> list[bytes]:
        return [struct.pack("=HI", event_id, value), endpoint]

    plain = {
        zmq.EVENT_CONNECTED: "connect",
        zmq.EVENT_CONNECT_DELAYED: "connect:delay",
        zmq.EVENT_LISTENING: "bind",
        zmq.EVENT_ACCEPTED: "accept",
        zmq.EVENT_CLOSED: "close",
        zmq.EVENT_DISCONNECTED: "disconnect",
        zmq.EVENT_HANDSHAKE_SUCCEEDED: "handshake",
    }
    for event_id, name in plain.items():
        event = decode_event(message(event_id, 17))
        assert (event.type, event.address, event.error, event.interval) == (
            name, "tcp://1.2.3.4:5", None, None)
    retry = decode_event(message(zmq.EVENT_CONNECT_RETRIED, 250))
    assert (retry.type, retry.interval) == ("connect:retry", 250)
    errnos = {
        zmq.EVENT_BIND_FAILED: "bind:error",
        zmq.EVENT_ACCEPT_FAILED: "accept:error",
        zmq.EVENT_CLOSE_FAILED: "close:error",
        zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "handshake:error:other",
    }
    for event_id, name in errnos.items():
        event = decode_event(message(event_id, errno.EADDRINUSE))
        assert event.type == name
        assert type(event.error) is zmq.ZMQError and event.error.errno == errno.EADDRINUSE
    auth = decode_event(message(zmq.EVENT_HANDSHAKE_FAILED_AUTH, 300))
    assert isinstance(auth.error, AuthError) and auth.error.status == 300
    proto = decode_event(message(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL,
                                 zmq.PROTOCOL_ERROR_ZAP_MALFORMED_REPLY))
    assert isinstance(proto.error, ProtocolError)
    assert proto.error.code == "ERR_ZAP_MALFORMED_REPLY"
    end = decode_event(message(zmq.EVENT_MONITOR_STOPPED, 0, b""))
    assert (end.type, end.address) == ("end", None)
    # ZMQ_EVENT_PIPES_STATS (draft-only) has no zeromq.js name.
    assert decode_event(message(0x8000, 0)).type == "unknown"
    assert decode_event([b"not a monitor message"]).type == "unknown"


def test_protocol_codes_are_zeromq_js_codes() -> None:
    """ProtocolError codes are zeromq.js's ERR_ZMTP_*/ERR_ZAP_* names of libzmq's values."""
    assert set(PROTOCOL_CODES.values()) == {
        "ERR_ZMTP_UNSPECIFIED", "ERR_ZMTP_UNEXPECTED_COMMAND", "ERR_ZMTP_INVALID_SEQUENCE",
        "ERR_ZMTP_KEY_EXCHANGE", "ERR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED",
        "ERR_ZMTP_MALFORMED_COMMAND_MESSAGE", "ERR_ZMTP_MALFORMED_COMMAND_HELLO",
        "ERR_ZMTP_MALFORMED_COMMAND_INITIATE", "ERR_ZMTP_MALFORMED_COMMAND_ERROR",
        "ERR_ZMTP_MALFORMED_COMMAND_READY", "ERR_ZMTP_MALFORMED_COMMAND_WELCOME",
        "ERR_ZMTP_INVALID_METADATA", "ERR_ZMTP_CRYPTOGRAPHIC", "ERR_ZMTP_MECHANISM_MISMATCH",
        "ERR_ZAP_UNSPECIFIED", "ERR_ZAP_MALFORMED_REPLY", "ERR_ZAP_BAD_REQUEST_ID",
        "ERR_ZAP_BAD_VERSION", "ERR_ZAP_INVALID_STATUS_CODE", "ERR_ZAP_INVALID_METADATA",
    }
    assert PROTOCOL_CODES[zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH] == (
        "ERR_ZMTP_MECHANISM_MISMATCH")
    error = ProtocolError(0x7777)
    assert (error.code, error.value, error.errno) == ("ERR_UNKNOWN", 0x7777, errno.EPROTO)


def test_error_payload_classes() -> None:
    """AuthError is a ZMQError and PermissionError with a status; both survive pickling."""
    import pickle

    error = AuthError(400)
    assert isinstance(error, zmq.ZMQError) and isinstance(error, PermissionError)
    assert error.status == 400 and "Authentication failure" in str(error)
    assert pickle.loads(pickle.dumps(error)).status == 400
    proto = ProtocolError(zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
    assert pickle.loads(pickle.dumps(proto)).code == "ERR_ZMTP_CRYPTOGRAPHIC"


def test_event_is_frozen() -> None:
    """An Event cannot be changed."""
    event = Event(EventType.BIND, "tcp://127.0.0.1:1")
    with pytest.raises(AttributeError):
        event.address = "x"  # type: ignore[misc]


# -- interface and construction ----------------------------------------------------------


def test_observer_provides_iobserver(context: gzmq.Context) -> None:
    """Observer implements IObserver (class and live instance)."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        assert verifyClass(IObserver, Observer)
        assert verifyObject(IObserver, sock.events)


def test_one_observer_per_socket(context: gzmq.Context) -> None:
    """sock.events is one Observer; a second one for the same socket is refused."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        observer = sock.events
        assert sock.events is observer
        with pytest.raises(ValueError, match="already has an open Observer"):
            Observer(sock)
    plain = context._zmq.socket(zmq.PAIR)
    try:
        with pytest.raises(TypeError, match="gzmq socket"):
            Observer(plain)  # type: ignore[arg-type]
    finally:
        plain.close(0)
    with pytest.raises(SocketClosedError):
        _ = sock.events


def test_events_before_first_access_are_not_seen(context: gzmq.Context) -> None:
    """An Observer made after bind() does not see that bind."""
    server = gzmq.Dealer(context=context, linger=0)
    server.bind("tcp://127.0.0.1:*")
    observer = server.events
    client = gzmq.Dealer(context=context, linger=0)
    client.connect(server.last_endpoint)
    assert types_until(observer, "handshake")[0] == "accept"


def test_observer_belongs_to_its_thread(context: gzmq.Context) -> None:
    """Another thread using the Observer gets InvalidThreadUseError."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        observer = sock.events
        errors: list[BaseException] = []

        def other() -> None:
            try:
                observer.recv(timeout=0)
            except BaseException as error:  # noqa: BLE001 - recorded for the assertion
                errors.append(error)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(errors) == 1 and isinstance(errors[0], InvalidThreadUseError)


# -- the sequences a user relies on -------------------------------------------------------


@pytest.mark.parametrize("transport", NETWORK)
def test_binder_sees_bind_accept_handshake_disconnect_close_end(
    context: gzmq.Context, transport: str, tmp_path: Path
) -> None:
    """A binder sees bind, accept, handshake; disconnect when the peer goes; close, end."""
    server = gzmq.Dealer(context=context, linger=0)
    observer = server.events
    server.bind(network_endpoint(transport, tmp_path))
    address = server.last_endpoint
    client = gzmq.Dealer(context=context, linger=0)
    client.connect(address)
    seen = types_until(observer, "handshake")
    assert seen == ["bind", "accept", "handshake"]
    client.close()
    assert types_until(observer, "disconnect") == ["disconnect"]
    server.close()
    rest = list(observer)
    assert [event.type.value for event in rest] == ["close", "end"]
    assert rest[0].address == address
    assert observer.closed


def test_inproc_emits_only_end(context: gzmq.Context) -> None:
    """Over inproc libzmq emits no connection events: binder and connector see only "end"."""
    server = gzmq.Pair(context=context, linger=0)
    client = gzmq.Pair(context=context, linger=0)
    server_events, client_events = server.events, client.events
    server.bind(f"inproc://observer-{os.getpid()}-{id(server)}")
    client.connect(server.last_endpoint)
    client.send(b"through")
    assert server.recv(timeout=5) == [b"through"]
    client.close()
    server.close()
    assert [event.type for event in server_events] == ["end"]
    assert [event.type for event in client_events] == ["end"]


@pytest.mark.parametrize("transport", NETWORK)
def test_connector_sees_connect_and_handshake(
    context: gzmq.Context, transport: str, tmp_path: Path
) -> None:
    """A connector sees connect (tcp: connect:delay first) then handshake, with the address."""
    server = gzmq.Dealer(context=context, linger=0)
    server.bind(network_endpoint(transport, tmp_path))
    client = gzmq.Dealer(context=context, linger=0)
    observer = client.events
    client.connect(server.last_endpoint)
    seen = types_until(observer, "handshake")
    assert seen in (["connect", "handshake"], ["connect:delay", "connect", "handshake"])
    client.close()
    events = list(observer)
    assert events[-1].type == "end"


@pytest.mark.parametrize("transport", NETWORK)
def test_connect_to_dead_endpoint_retries_with_interval(
    context: gzmq.Context, transport: str, tmp_path: Path
) -> None:
    """Connecting where nothing listens gives connect:retry events carrying the interval (ms)."""
    address = dead_tcp_endpoint() if transport == "tcp" else f"ipc://{tmp_path}/nobody.ipc"
    client = gzmq.Dealer(context=context, linger=0, reconnect_interval=50)
    observer = client.events
    client.connect(address)
    retry = event_until(observer, "connect:retry")
    assert retry.address == address
    assert isinstance(retry.interval, int) and retry.interval > 0
    again = event_until(observer, "connect:retry")
    assert again.interval is not None and again.interval > 0


def test_binding_a_used_port_gives_bind_error(context: gzmq.Context) -> None:
    """Binding a tcp port in use raises EADDRINUSE and emits bind:error with that errno.

    (ipc takes over a used path instead, and inproc emits no events.)
    """
    first = gzmq.Dealer(context=context, linger=0)
    first.bind("tcp://127.0.0.1:*")
    second = gzmq.Dealer(context=context, linger=0)
    observer = second.events
    with pytest.raises(zmq.ZMQError) as raised:
        second.bind(first.last_endpoint)
    assert raised.value.errno == errno.EADDRINUSE
    event = event_until(observer, "bind:error")
    assert isinstance(event.error, zmq.ZMQError)
    assert event.error.errno == errno.EADDRINUSE
    port = first.last_endpoint.rsplit(":", 1)[1]
    assert event.address is not None and event.address.endswith(port)


def _secure(server: gzmq.Socket, client: gzmq.Socket, server_mech: str, client_mech: str) -> None:
    """Set server and client security options through the raw pyzmq sockets."""
    server_public, server_secret = zmq.curve_keypair()
    if server_mech == "plain":
        raw(server).setsockopt(zmq.PLAIN_SERVER, 1)
    elif server_mech == "curve":
        raw(server).setsockopt(zmq.CURVE_SERVER, 1)
        raw(server).setsockopt(zmq.CURVE_SECRETKEY, server_secret)
    if client_mech == "plain":
        raw(client).setsockopt(zmq.PLAIN_USERNAME, b"alice")
        raw(client).setsockopt(zmq.PLAIN_PASSWORD, b"wrong")
    elif client_mech == "curve":
        public, secret = zmq.curve_keypair()
        raw(client).setsockopt(zmq.CURVE_SERVERKEY, server_public)
        raw(client).setsockopt(zmq.CURVE_PUBLICKEY, public)
        raw(client).setsockopt(zmq.CURVE_SECRETKEY, secret)


@pytest.mark.parametrize("transport", NETWORK)
@pytest.mark.parametrize("mechanism", ["plain", "curve"])
def test_rejected_peer_gives_auth_error_400(
    context: gzmq.Context, zap_denier: list, transport: str, mechanism: str, tmp_path: Path
) -> None:
    """A ZAP handler answering 400 gives handshake:error:auth with AuthError status 400."""
    if mechanism == "curve" and not gzmq.capability["curve"]:
        pytest.skip("this libzmq has no CURVE")
    server = gzmq.Dealer(context=context, linger=0)
    client = gzmq.Dealer(context=context, linger=0)
    _secure(server, client, mechanism, mechanism)
    server_events, client_events = server.events, client.events
    server.bind(network_endpoint(transport, tmp_path))
    client.connect(server.last_endpoint)
    event = event_until(server_events, "handshake:error:auth")
    assert isinstance(event.error, AuthError) and event.error.status == 400
    assert event.address is not None
    assert zap_denier and zap_denier[0][5] == mechanism.upper().encode()
    client_side = event_until(client_events, "handshake:error:auth")
    assert isinstance(client_side.error, AuthError) and client_side.error.status == 400


@pytest.mark.parametrize("transport", NETWORK)
@pytest.mark.parametrize(("server_mech", "client_mech"), [("plain", "null"), ("plain", "curve")])
def test_mechanism_mismatch_gives_protocol_error(
    context: gzmq.Context, transport: str, server_mech: str, client_mech: str, tmp_path: Path
) -> None:
    """Peers with different mechanisms give handshake:error:protocol ERR_ZMTP_MECHANISM_MISMATCH."""
    if client_mech == "curve" and not gzmq.capability["curve"]:
        pytest.skip("this libzmq has no CURVE")
    server = gzmq.Dealer(context=context, linger=0)
    client = gzmq.Dealer(context=context, linger=0)
    _secure(server, client, server_mech, client_mech)
    server_events, client_events = server.events, client.events
    server.bind(network_endpoint(transport, tmp_path))
    client.connect(server.last_endpoint)
    for observer in (server_events, client_events):
        event = event_until(observer, "handshake:error:protocol")
        assert isinstance(event.error, ProtocolError)
        assert event.error.code == "ERR_ZMTP_MECHANISM_MISMATCH"
        assert event.error.value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH


_PEER = """
import sys, zmq
ctx = zmq.Context()
sock = ctx.socket(zmq.DEALER)
sock.linger = 0
sock.connect(sys.argv[1])
sock.send(b"hello")
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.timeout(30)
@pytest.mark.parametrize("transport", NETWORK)
def test_heartbeat_timeout_on_silent_peer_gives_disconnect(
    context: gzmq.Context, transport: str, tmp_path: Path
) -> None:
    """A peer process frozen with SIGSTOP stops answering heartbeats: we see disconnect."""
    server = gzmq.Dealer(
        context=context, linger=0, heartbeat_interval=100, heartbeat_timeout=400
    )
    observer = server.events
    server.bind(network_endpoint(transport, tmp_path))
    peer = subprocess.Popen(
        [sys.executable, "-c", _PEER, server.last_endpoint],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    try:
        assert server.recv(timeout=20) == [b"hello"]
        assert "handshake" in types_until(observer, "handshake")
        # Heartbeats flow while the peer runs: no disconnect.
        with pytest.raises(zmq.Again):
            event_until_raising(observer, "disconnect", timeout=0.8)
        os.kill(peer.pid, signal.SIGSTOP)
        started = time.monotonic()
        event = event_until(observer, "disconnect", timeout=10)
        assert event.address is not None
        assert time.monotonic() - started < 8
    finally:
        os.kill(peer.pid, signal.SIGKILL)
        os.kill(peer.pid, signal.SIGCONT)
        peer.wait()
        assert peer.stdin is not None and peer.stdout is not None
        peer.stdin.close()
        peer.stdout.close()


def event_until_raising(observer: Observer, last: str, timeout: float) -> Event:
    """Like event_until, but let zmq.Again out when ``last`` does not come in time."""
    deadline = time.monotonic() + timeout
    while True:
        event = observer.recv(timeout=max(0.0, deadline - time.monotonic()))
        if event.type == last:
            return event


# -- pull mode -------------------------------------------------------------------------------


def test_recv_timeout_raises_again(context: gzmq.Context) -> None:
    """recv(timeout=) raises zmq.Again when no event comes; timeout=0 tries once."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        observer = sock.events
        with pytest.raises(zmq.Again):
            observer.recv(timeout=0)
        started = time.monotonic()
        with pytest.raises(zmq.Again):
            observer.recv(timeout=0.05)
        assert time.monotonic() - started < 2
        sock.bind("tcp://127.0.0.1:*")
        assert observer.recv(timeout=5).type == "bind"


def test_many_greenlets_wait_without_blocking_the_hub(context: gzmq.Context) -> None:
    """Several greenlets wait in recv() at once; each gets one event; other greenlets run."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        observer = sock.events
        ticks = [0]

        def tick() -> None:
            while True:
                ticks[0] += 1
                gevent.sleep(0.005)

        ticker = gevent.spawn(tick)
        readers = [gevent.spawn(observer.recv, timeout=5) for _ in range(3)]
        gevent.sleep(0.1)
        assert ticks[0] > 3, "the hub was blocked while greenlets waited for events"
        assert len(observer._waiting.readers) == 3
        for _ in range(3):
            sock.bind("tcp://127.0.0.1:*")
        events = [reader.get(timeout=5) for reader in readers]
        ticker.kill()
        assert [event.type for event in events] == ["bind"] * 3
        assert len({event.address for event in events}) == 3


def test_iteration_ends_when_the_socket_closes(context: gzmq.Context) -> None:
    """``for event in observer`` yields events, "end" last, then stops when the socket closes."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    sock.bind("tcp://127.0.0.1:*")
    collected = gevent.spawn(lambda: [event.type.value for event in observer])
    gevent.sleep(0.05)
    sock.close()
    assert collected.get(timeout=5) == ["bind", "close", "end"]
    with pytest.raises(SocketClosedError):
        observer.recv(timeout=1)


# -- push mode -------------------------------------------------------------------------------


def test_callbacks_get_their_events_in_order_and_off_stops_them(context: gzmq.Context) -> None:
    """on() calls callbacks per type in order (twice if registered twice); off() stops one."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    binds: list[str] = []
    everything: list[str] = []
    ends: list[Event] = []

    def on_bind(event: Event) -> None:
        binds.append(event.address or "")

    def record(event: Event) -> None:
        everything.append(event.type.value)

    observer.on("bind", on_bind)
    observer.on(EventType.BIND, record)
    observer.on("bind", record)
    observer.on("close", record)
    observer.on("end", ends.append)
    sock.bind("tcp://127.0.0.1:*")
    first = sock.last_endpoint
    observer.wait_for("bind", timeout=5)
    gevent.sleep(0.01)
    assert binds == [first] and everything == ["bind", "bind"]
    observer.off("bind", on_bind)
    observer.off("bind", record)
    observer.off("bind", record)
    observer.off("bind", record)  # no longer registered: a no-op
    sock.bind("tcp://127.0.0.1:*")
    observer.wait_for("bind", timeout=5)
    gevent.sleep(0.01)
    assert binds == [first] and everything == ["bind", "bind"]
    sock.close()
    wait_until(lambda: ends)
    assert everything[-2:] == ["close", "close"]
    assert len(ends) == 1 and ends[0].type == "end"


def test_callback_exception_is_logged_and_dispatch_goes_on(
    context: gzmq.Context, caplog: pytest.LogCaptureFixture
) -> None:
    """A callback that raises is logged; later callbacks and events are still delivered."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("callback failed on purpose")

    observer.on("bind", broken)
    observer.on("bind", lambda event: seen.append(event.type.value))
    with caplog.at_level(logging.ERROR, logger="gzmq.observer"):
        sock.bind("tcp://127.0.0.1:*")
        sock.bind("tcp://127.0.0.1:*")
        wait_until(lambda: len(seen) == 2)
    assert seen == ["bind", "bind"]
    failures = [r for r in caplog.records if r.exc_info and "on purpose" in str(r.exc_info[1])]
    assert len(failures) == 2
    sock.close()


def test_mixing_modes_raises(context: gzmq.Context) -> None:
    """After on(), recv()/iteration raise ObserverModeError, and on() after recv() does too."""
    with gzmq.Dealer(context=context, linger=0) as pushed, gzmq.Dealer(
        context=context, linger=0
    ) as pulled:
        push = pushed.events
        push.on("bind", lambda event: None)
        with pytest.raises(ObserverModeError, match="push mode"):
            push.recv(timeout=0)
        with pytest.raises(ObserverModeError, match="push mode"):
            iter(push)
        pull = pulled.events
        with pytest.raises(zmq.Again):
            pull.recv(timeout=0)
        with pytest.raises(ObserverModeError, match="pull mode"):
            pull.on("bind", lambda event: None)
        assert issubclass(ObserverModeError, RuntimeError)


def test_bad_arguments_are_clear_errors(context: gzmq.Context) -> None:
    """Unknown types, non-callables and non-number timeouts raise clear errors."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        observer = sock.events
        with pytest.raises(ValueError, match="unknown event type 'binds'"):
            observer.on("binds", print)
        with pytest.raises(TypeError, match="callable"):
            observer.on("bind", "print")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="timeout"):
            observer.recv(timeout="1")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="unknown event type"):
            observer.wait_for("nope")
        with pytest.raises(ValueError, match="unknown event type"):
            observer.off("nope", print)


# -- wait_for ------------------------------------------------------------------------------


def test_wait_for_before_any_mode_consumes_nothing(context: gzmq.Context) -> None:
    """wait_for() chooses no mode: afterwards recv() still gets every event, in order."""
    server = gzmq.Dealer(context=context, linger=0)
    client = gzmq.Dealer(context=context, linger=0)
    observer = client.events
    server.bind("tcp://127.0.0.1:*")
    client.connect(server.last_endpoint)
    event = observer.wait_for("handshake", timeout=5)
    assert event.type == "handshake" and event.address == server.last_endpoint
    assert observer._mode is None
    assert types_until(observer, "handshake")[-2:] == ["connect", "handshake"]


def test_wait_for_in_pull_mode_with_a_concurrent_reader(context: gzmq.Context) -> None:
    """In pull mode wait_for() returns the event and a concurrent recv() still gets it."""
    server = gzmq.Dealer(context=context, linger=0)
    observer = server.events
    server.bind("tcp://127.0.0.1:*")
    assert observer.recv(timeout=5).type == "bind"
    reader = gevent.spawn(types_until, observer, "handshake")
    waiter = gevent.spawn(observer.wait_for, "handshake", timeout=5)
    gevent.sleep(0.01)
    client = gzmq.Dealer(context=context, linger=0)
    client.connect(server.last_endpoint)
    assert waiter.get(timeout=5).type == "handshake"
    assert reader.get(timeout=5) == ["accept", "handshake"]


def test_wait_for_in_push_mode_leaves_callbacks_their_events(context: gzmq.Context) -> None:
    """In push mode wait_for() returns the event and the callbacks get it too."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    seen: list[Event] = []
    observer.on("bind", seen.append)
    waiter = gevent.spawn(observer.wait_for, "bind", timeout=5)
    gevent.sleep(0.01)
    sock.bind("tcp://127.0.0.1:*")
    event = waiter.get(timeout=5)
    gevent.sleep(0.01)
    assert seen == [event]


def test_wait_for_timeout_and_close(context: gzmq.Context) -> None:
    """wait_for() raises zmq.Again on timeout and SocketClosedError when the observer ends."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    with pytest.raises(zmq.Again):
        observer.wait_for("accept", timeout=0.05)
    assert observer._pump is None, "the reader greenlet outlived wait_for()"
    waiter = gevent.spawn(outcome, observer.wait_for, "accept")
    ender = gevent.spawn(observer.wait_for, "end")
    gevent.sleep(0.01)
    sock.close()
    assert ender.get(timeout=5).type == "end"
    assert isinstance(waiter.get(timeout=5), SocketClosedError)
    with pytest.raises(SocketClosedError):
        observer.wait_for("bind")


def test_wait_for_from_a_callback_is_refused(context: gzmq.Context) -> None:
    """Calling wait_for() inside a callback (the reader greenlet) raises RuntimeError."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    errors: list[BaseException] = []

    def nested(event: Event) -> None:
        try:
            observer.wait_for("close", timeout=1)
        except RuntimeError as error:
            errors.append(error)

    observer.on("bind", nested)
    sock.bind("tcp://127.0.0.1:*")
    wait_until(lambda: errors)
    assert errors and "callback" in str(errors[0])
    sock.close()


# -- lifecycle -------------------------------------------------------------------------------


def test_socket_close_in_push_mode_ends_everything(context: gzmq.Context) -> None:
    """Closing the socket calls "end" callbacks, stops the reader greenlet, closes the PAIR."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    ends: list[Event] = []
    observer.on("end", ends.append)
    pump = observer._pump
    assert pump is not None
    pair = observer._pair
    sock.close()
    pump.join(timeout=5)
    assert pump.dead
    assert [event.type for event in ends] == ["end"]
    assert observer.closed and pair.closed
    with pytest.raises(SocketClosedError):
        observer.on("bind", ends.append)
    observer.off("end", ends.append)  # cleanup after close is a no-op


def test_observer_close_ends_pending_recv_and_iteration(context: gzmq.Context) -> None:
    """observer.close() makes a pending recv() raise SocketClosedError and ends iteration."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        observer = sock.events
        pair = observer._pair
        pending = gevent.spawn(outcome, observer.recv)
        iterating = gevent.spawn(lambda: list(observer))
        gevent.sleep(0.02)
        observer.close()
        error = pending.get(timeout=5)
        assert isinstance(error, SocketClosedError) and str(error) == "Observer is closed"
        assert iterating.get(timeout=5) == []
        assert observer.closed and pair.closed
        with pytest.raises(SocketClosedError):
            observer.recv(timeout=0)
        observer.close()  # idempotent
        # The socket lives on; the next access starts a new Observer that sees new events.
        fresh = sock.events
        assert fresh is not observer and not fresh.closed
        sock.bind("tcp://127.0.0.1:*")
        assert fresh.recv(timeout=5).type == "bind"


def test_observer_close_stops_the_reader_greenlet(context: gzmq.Context) -> None:
    """observer.close() in push mode stops the reader greenlet; no "end" is delivered."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        observer = sock.events
        ends: list[Event] = []
        observer.on("end", ends.append)
        pump = observer._pump
        assert pump is not None
        gevent.sleep(0.01)
        observer.close()
        pump.join(timeout=5)
        assert pump.dead and observer._pump is None
        gevent.sleep(0.05)
        assert ends == []


def test_events_read_before_end_stay_readable(context: gzmq.Context) -> None:
    """After the socket closed with nobody reading, recv() still returns the last events."""
    sock = gzmq.Dealer(context=context, linger=0)
    observer = sock.events
    sock.bind("tcp://127.0.0.1:*")
    sock.close()
    wait_until(lambda: observer.closed)
    assert observer.closed and observer._pair.closed
    assert [event.type.value for event in observer] == ["bind", "close", "end"]


@pytest.mark.timeout(20)
def test_end_comes_after_the_grace_when_the_socket_lingers(
    context: gzmq.Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket lingering on unsent messages still ends its Observer after END_GRACE."""
    monkeypatch.setattr(gzmq.observer, "END_GRACE", 0.1)
    sock = gzmq.Push(context=context, linger=2000, reconnect_interval=50)
    observer = sock.events
    sock.connect(dead_tcp_endpoint())
    sock.send(b"never delivered", timeout=1)
    sock.close()
    started = time.monotonic()
    events = list(observer)
    assert time.monotonic() - started < 1.5
    assert events[-1] == Event(EventType.END)
    assert observer._pair.closed


def test_context_close_ends_observers(context: gzmq.Context) -> None:
    """Context.close() ends every Observer ("end" delivered) and terminates promptly."""
    socks = [gzmq.Dealer(context=context, linger=0) for _ in range(3)]
    observers = [sock.events for sock in socks]
    for sock in socks:
        sock.bind("tcp://127.0.0.1:*")
    ends: list[Event] = []
    observers[0].on("end", ends.append)
    puller = gevent.spawn(lambda: [event.type.value for event in observers[1]])
    gevent.sleep(0.01)
    started = time.monotonic()
    context.close()
    assert time.monotonic() - started < 2
    assert [event.type for event in ends] == ["end"]
    assert puller.get(timeout=5)[-1] == "end"
    assert [event.type.value for event in observers[2]][-1] == "end"
    assert all(observer._pair.closed for observer in observers)


@pytest.mark.parametrize("used", ["wait_for", "recv", "on", "iteration"])
def test_socket_dropped_without_close_ends_its_observer(used: str) -> None:
    """A socket dropped unclosed ends its Observer ("end"), so its context still terminates."""
    context = gzmq.Context()
    sock = gzmq.Pull(context=context, linger=0)
    sock.bind("tcp://127.0.0.1:*")
    observer = sock.events
    if used == "wait_for":
        with pytest.raises(zmq.Again):
            observer.wait_for("accept", timeout=0.05)
    elif used == "recv":
        with pytest.raises(zmq.Again):
            observer.recv(timeout=0.05)
    elif used == "on":
        observer.on("accept", lambda event: None)
    else:
        gevent.spawn(lambda: list(observer))
        gevent.sleep(0.01)
    del sock
    gc.collect()
    with gevent.Timeout(5, AssertionError("Context.close() hung on the Observer's PAIR")):
        context.close(linger=0)
    assert observer.closed and observer._pair.closed


def test_no_greenlet_or_socket_leaks(context: gzmq.Context) -> None:
    """Observers in every mode, ended by socket close or close(), leave nothing behind."""
    gc.collect()
    baseline = live_greenlets()
    refs: list[weakref.ref[Observer]] = []
    pairs: list[zmq.Socket] = []
    for round_ in range(10):
        sock = gzmq.Dealer(context=context, linger=0)
        observer = sock.events
        sock.bind("tcp://127.0.0.1:*")
        mode = round_ % 3
        if mode == 0:
            observer.on("bind", lambda event: None)
        elif mode == 1:
            assert observer.recv(timeout=5).type == "bind"
        else:
            observer.wait_for("bind", timeout=5)
        refs.append(weakref.ref(observer))
        pairs.append(observer._pair)
        if round_ % 2:
            observer.close()
        sock.close()
        del sock, observer
    wait_until(lambda: all(pair.closed for pair in pairs))
    gevent.sleep(0.01)
    assert all(pair.closed for pair in pairs)
    assert live_greenlets() == baseline
    gc.collect()
    assert [ref for ref in refs if ref() is not None] == []


# -- cost --------------------------------------------------------------------------------------


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


@pytest.mark.timeout(120)
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc for RSS")
def test_an_observer_on_each_of_1000_sockets(capsys: pytest.CaptureFixture[str]) -> None:
    """1,000 sockets each with an Observer all deliver events; memory and greenlets reported."""
    count = 1000
    context = gzmq.Context(max_sockets=4096)
    try:
        gc.collect()
        greenlets_before = live_greenlets()
        rss_start = _rss_kib()
        socks = [gzmq.Dealer(context=context, linger=0) for _ in range(count)]
        for sock in socks:
            sock.bind("tcp://127.0.0.1:*")
        gc.collect()
        rss_sockets = _rss_kib()
        observers = [sock.events for sock in socks]
        gc.collect()
        rss_pull = _rss_kib()
        greenlets_pull = live_greenlets() - greenlets_before
        for sock in socks:
            sock.bind("tcp://127.0.0.1:*")
        assert all(observer.recv(timeout=10).type == "bind" for observer in observers)
        for observer in observers:
            observer.close()
        del observers
        gc.collect()
        rss_closed = _rss_kib()
        ends: list[Event] = []
        for sock in socks:
            sock.events.on("end", ends.append)
        gevent.sleep(0.1)
        gc.collect()
        rss_push = _rss_kib()
        greenlets_push = live_greenlets() - greenlets_before
        for sock in socks:
            sock.close()
        wait_until(lambda: len(ends) == count, timeout=30)
        gevent.sleep(0.05)
        greenlets_after = live_greenlets() - greenlets_before
        assert greenlets_pull == 0 and greenlets_push == count and greenlets_after == 0
        with capsys.disabled():
            print(
                f"\nObserver cost on {count} bound tcp sockets (the sockets alone: "
                f"+{rss_sockets - rss_start} KiB RSS): pull-mode observers "
                f"+{rss_pull - rss_sockets} KiB ({(rss_pull - rss_sockets) / count:.1f} KiB "
                f"each), 0 greenlets; push-mode observers +{rss_push - rss_closed} KiB "
                f"({(rss_push - rss_closed) / count:.1f} KiB each), {greenlets_push} "
                f"greenlets; {greenlets_after} greenlets left after close"
            )
    finally:
        context.close(linger=0)
