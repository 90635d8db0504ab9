"""The optional C accelerator and the pure-Python fallback behave alike."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import gevent
import pytest
import zmq

import gzmq
import gzmq._native
import gzmq._waiting

TESTS = Path(__file__).parent


@pytest.mark.skipif(
    not gzmq._native.accelerated,
    reason="the C accelerator was not built (no compiler at install time) or is switched off",
)
def test_accelerator_is_bound_when_built() -> None:
    """When gzmq._speedups is built, its hot-path functions are bound and Waiting is a Gate."""
    assert gzmq._native.getsockopt_int is not None
    assert gzmq._native.recv_message is not None
    assert gzmq._native.Method is not None
    assert issubclass(gzmq._waiting.Waiting, gzmq._native._speedups.Gate)
    for name in ("recv", "send", "try_recv", "try_send"):
        assert getattr(gzmq._native.Gate, name) is getattr(gzmq._native._speedups.Gate, name)


@pytest.mark.parametrize("form", ["plain call", "with timeout=None"])
@pytest.mark.parametrize(
    "direction", ["recv wakes a parked sender", "send wakes a parked receiver"]
)
def test_fast_path_call_wakes_the_other_direction(
    direction: str, form: str, context: gzmq.Context
) -> None:
    """A fast-path call that consumes the ZMQ_FD edge re-checks the other direction's waiters
    (a plain call runs the C method, a keyword goes through the Python method)."""
    keywords = {} if form == "plain call" else {"timeout": None}
    a = gzmq.Dealer(context=context, linger=0, send_high_water_mark=1, receive_high_water_mark=1)
    b = gzmq.Dealer(context=context, linger=0, send_high_water_mark=1, receive_high_water_mark=1)
    name = f"inproc://other-direction-{direction.split()[0]}-{len(keywords)}"
    a.bind(name)
    b.connect(name)
    if direction.startswith("recv"):
        queued = 0
        while True:  # fill a -> b
            try:
                a.send(b"fill", timeout=0)
            except zmq.Again:
                break
            queued += 1
        b.send(b"for a")
        parked = gevent.spawn(a.send, b"parked")  # a's sender parks at the HWM
        gevent.sleep(0.01)
        assert not parked.dead
        # No switch from here: b's reads tell a it may write (a's ZMQ_FD fires),
        # then a fast-path recv on a processes that command, consuming the edge.
        for _ in range(queued):
            assert b.recv(timeout=0) == [b"fill"]
        assert a.recv(**keywords) == [b"for a"]
        parked.join(2)
        assert parked.dead, "the parked sender was never woken"
        assert b.recv(timeout=2) == [b"parked"]
    else:
        parked = gevent.spawn(a.recv)  # a's receiver parks: nothing to read
        gevent.sleep(0.01)
        assert not parked.dead
        # No switch from here: b sends to a (a's ZMQ_FD fires), then a fast-path
        # send on a processes that command, consuming the edge.
        b.send(b"for the parked one")
        a.send(b"from a", **keywords)
        parked.join(2)
        assert parked.dead, "the parked receiver was never woken"
        assert parked.value == [b"for the parked one"]
        assert b.recv(timeout=2) == [b"from a"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_full_duplex_at_the_high_water_mark_loses_no_wake_up(
    transport: str, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """Both ends send and receive at once at HWM 1: fast-path calls wake the other direction."""
    count = 20_000
    a = gzmq.Dealer(context=context, linger=0, send_high_water_mark=1,
                    receive_high_water_mark=1)
    b = gzmq.Dealer(context=context, linger=0, send_high_water_mark=1,
                    receive_high_water_mark=1)
    address = endpoint()
    a.bind(address)
    b.connect(a.last_endpoint if transport == "tcp" else address)

    def sender(sock: gzmq.Dealer, tag: bytes) -> None:
        for index in range(count):
            sock.send(tag + b"%d" % index)  # parks at the HWM while its own socket receives

    def receiver(sock: gzmq.Dealer, tag: bytes) -> list[bytes]:
        return [sock.recv()[0] for _ in range(count)]

    workers = [
        gevent.spawn(sender, a, b"a"), gevent.spawn(sender, b, b"b"),
        gevent.spawn(receiver, a, b"b"), gevent.spawn(receiver, b, b"a"),
    ]
    gevent.joinall(workers, timeout=50, raise_error=True)
    assert all(worker.dead for worker in workers), "a parked direction was never woken"
    assert workers[2].value == [b"b%d" % index for index in range(count)]
    assert workers[3].value == [b"a%d" % index for index in range(count)]


def test_accelerator_round_trip_edge_cases(context: gzmq.Context) -> None:
    """Empty frames, large frames, many frames and NUL bytes survive the fast path."""
    a = gzmq.Pair(context=context, linger=0)
    a.bind("inproc://native-edges")
    b = gzmq.Pair(context=context, linger=0)
    b.connect("inproc://native-edges")
    messages = [
        [b""],
        [b"\x00\x01\x00"],
        [b"x" * 1_000_000],
        [b"%d" % index for index in range(100)],
        [b"", b"", b"tail"],
    ]
    for message in messages:
        a.send(message[0] if len(message) == 1 else message)
        assert b.recv(timeout=5) == message


_needs_accelerator = pytest.mark.skipif(
    gzmq._native.Method is None, reason="the C accelerator is not in use"
)


@_needs_accelerator
def test_socket_methods_are_accelerated_and_introspectable() -> None:
    """recv()/send() are C methods that keep the Python method's name, doc and signature."""
    from gzmq.socket import Readable, Writable

    assert isinstance(Readable.__dict__["recv"], gzmq._native._speedups.Method)
    assert isinstance(Writable.__dict__["send"], gzmq._native._speedups.Method)
    assert gzmq.Pull.recv.__name__ == "recv"
    assert gzmq.Push.send.__doc__.startswith("Send one message")
    assert str(inspect.signature(gzmq.Pull.recv)) == str(
        inspect.signature(Readable.recv.__wrapped__)
    )
    pull = gzmq.Pull(linger=0)
    try:
        assert pull.recv.__self__ is pull
        assert "timeout" in inspect.signature(pull.recv).parameters
    finally:
        pull.close()


def test_socket_methods_take_every_argument_form(context: gzmq.Context) -> None:
    """Positional, keyword and wrong arguments reach recv()/send() exactly as the Python methods."""
    a = gzmq.Pair(context=context, linger=0)
    a.bind("inproc://native-arguments")
    b = gzmq.Pair(context=context, linger=0)
    b.connect("inproc://native-arguments")
    a.send(b"plain")
    assert b.recv() == [b"plain"]
    a.send(b"with timeout", timeout=1)
    assert b.recv(timeout=1) == [b"with timeout"]
    a.send([b"multi", b"part"])
    frames = b.recv(copy=False)
    assert [frame.bytes for frame in frames] == [b"multi", b"part"]
    a.send("text")
    assert gzmq.Pair.recv(b) == [b"text"]  # called through the class
    with pytest.raises(TypeError):
        a.send(b"x", b"extra")  # type: ignore[misc]
    with pytest.raises(TypeError):
        b.recv(1)  # type: ignore[misc]
    with pytest.raises(TypeError, match="frame"):
        a.send(12)  # type: ignore[arg-type]
    with pytest.raises(zmq.Again):
        b.recv(timeout=0)
    a.close()
    with pytest.raises(gzmq.SocketClosedError):
        a.send(b"after close")


def _refcounts(objects: list[bytes]) -> list[int]:
    """Each object's reference count, counted the same way every time."""
    return [sys.getrefcount(item) for item in objects]


def _wait_until_released(objects: list[bytes], baseline: list[int], failure: str) -> None:
    """Wait (10 s at most) until each object is back to its baseline reference count."""
    deadline = gevent.get_hub().loop.now() + 10
    while _refcounts(objects) != baseline:
        assert gevent.get_hub().loop.now() < deadline, failure
        gevent.sleep(0.01)
        if gzmq._native.release_pending is not None:
            gzmq._native.release_pending()


@pytest.mark.parametrize("size", [64 * 1024, 1_000_000])
def test_large_frames_arrive_whole_and_are_released(
    size: int, endpoint: Callable[[], str], transport: str, context: gzmq.Context
) -> None:
    """Large frames (sent without a copy) arrive intact, and the sender's bytes are released."""
    pull = gzmq.Pull(context=context, linger=0)
    address = endpoint()
    pull.bind(address)
    push = gzmq.Push(context=context, linger=0)
    push.connect(pull.last_endpoint if transport == "tcp" else address)
    payloads = [bytes([index]) * size for index in range(20)]
    baseline = _refcounts(payloads)
    for index, payload in enumerate(payloads):
        if index % 3 == 0:
            push.send([b"head", payload, b"tail"])  # a large frame inside a multipart message
        else:
            push.send(payload)
    for index, payload in enumerate(payloads):
        expected = [b"head", payload, b"tail"] if index % 3 == 0 else [payload]
        assert pull.recv(timeout=10) == expected
    del payload, expected  # the test's own references
    # libzmq lets go of a frame once it is delivered (inproc) or written (tcp, ipc);
    # the accelerator drops its reference on its next call.
    _wait_until_released(payloads, baseline, "large frames were never released")


def test_large_frames_dropped_by_close_are_released(context: gzmq.Context) -> None:
    """Large frames still queued when a socket is closed with linger 0 are released."""
    push = gzmq.Push(context=context, linger=0)
    push.connect("tcp://127.0.0.1:9")  # the pipe exists at once; nothing ever accepts
    payload = b"q" * 100_000
    payloads = [payload]
    baseline = _refcounts(payloads)
    for _ in range(20):
        push.send(payload)  # queued (HWM 1000): the fast path, without a copy
    if gzmq._native.Method is not None:
        assert _refcounts(payloads) > baseline, "large frames were not queued by reference"
    push.close()
    _wait_until_released(payloads, baseline, "queued large frames were never released")


@pytest.mark.timeout(400)
def test_pure_python_fallback_passes_the_core_tests() -> None:
    """With GZMQ_PURE_PYTHON=1 the core's own tests (every defect scenario too) pass on
    pyzmq alone."""
    env = dict(os.environ, GZMQ_PURE_PYTHON="1")
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
            str(TESTS / "test_waiting.py"), str(TESTS / "test_sockets.py"),
            str(TESTS / "test_fastpath.py"), str(TESTS / "test_parking.py"),
            str(TESTS / "test_reservations.py"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=390,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
