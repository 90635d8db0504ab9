"""The fast-path primitive (gzmq._fastpath and its C twin) and the defects it fixed.

Every layer sends and receives through one Gate; these tests hold it to
DESIGN §3 rule 10: the owner check in the same call as the libzmq call,
every completion counted for fairness, parked greenlets re-checked after
every libzmq call (success, EAGAIN or any other error).  They run in
whichever mode the process is in; tests/test_native.py runs this file again
with GZMQ_PURE_PYTHON=1, and tests/test_differential.py compares the modes.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import gevent
import pytest
import zmq

import gzmq
import gzmq.green
from gzmq import _fastpath, _native

PROMPTLY = 5.0
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def address(transport: str, tmp_path: Path) -> str:
    """A concrete endpoint another thread's plain pyzmq socket can use too."""
    if transport == "tcp":
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"tcp://127.0.0.1:{port}"
    if transport == "ipc":
        return f"ipc://{tmp_path}/fastpath.ipc"
    return f"inproc://fastpath-{os.getpid()}-{time.monotonic_ns()}"


#: Messages large enough to fill the kernel's tcp buffers quickly.
FILL = b"f" * 65536


def _block_the_hub(seconds: float) -> None:
    """Keep the hub from polling (a greenlet that computes): edges pile up unseen."""
    time.sleep(seconds)


@contextlib.contextmanager
def _plain_peer(
    context: gzmq.Context, kind: int, address: str, serve: Callable[[zmq.Socket], None]
) -> Iterator[None]:
    """A plain pyzmq socket bound in a thread of its own (blocking calls, no gevent)."""
    ready = threading.Event()

    def run() -> None:
        sock = context._zmq.socket(kind)  # inproc needs the same libzmq context
        sock.linger = 0
        sock.rcvhwm = sock.sndhwm = 1
        sock.rcvbuf = sock.sndbuf = 8192  # small, fixed kernel buffers: no autotuning
        try:
            sock.bind(address)
            ready.set()
            serve(sock)
        finally:
            sock.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(PROMPTLY), "the plain peer did not start"
    try:
        yield
    finally:
        thread.join(PROMPTLY)


# -- defect 1: a failed call consumed the edge a parked greenlet waited for ----------


def test_efsm_send_does_not_lose_a_parked_receivers_wakeup(
    address: str, context: gzmq.Context
) -> None:
    """REQ: a send() failing with EFSM after the reply arrived; the parked recv() still gets it."""
    req = gzmq.Request(context=context, linger=0)
    go = threading.Event()

    def echo(sock: zmq.Socket) -> None:
        request = sock.recv()
        go.wait(PROMPTLY)  # answer only once the hub is blocked
        sock.send(request)

    with _plain_peer(context, zmq.REP, address, echo):
        req.connect(address)
        received: list[list[bytes]] = []

        def ask() -> None:
            req.send(b"q")
            received.append(req.recv())

        asker = gevent.spawn(ask)
        gevent.sleep(0.05)  # the asker sent and parked in recv()
        go.set()
        _block_the_hub(0.3)  # the reply arrives; the hub does not see it yet
        with pytest.raises(zmq.ZMQError) as failure:
            req.send(b"again")  # libzmq takes the reply's edge, then says EFSM
        assert failure.value.errno == zmq.EFSM
        asker.join(PROMPTLY)
        assert received == [[b"q"]], "the parked recv() never woke after the failed send"


def test_unroutable_send_does_not_lose_a_parked_receivers_wakeup(
    address: str, context: gzmq.Context
) -> None:
    """ROUTER mandatory: a reply to a gone peer fails; a parked recv() still gets every request."""
    router = gzmq.Router(context=context, linger=0, mandatory=True)
    requests = 5
    got: list[list[bytes]] = []

    def serve() -> None:
        for _ in range(requests):
            got.append(router.recv())

    server = gevent.spawn(serve)
    gevent.sleep(0.05)  # parked

    def client(sock: zmq.Socket) -> None:
        for number in range(requests):
            sock.send(b"request %d" % number)

    with _plain_peer(context, zmq.DEALER, address, client):
        router.connect(address)
        _block_the_hub(0.3)  # the requests arrive unseen
        with pytest.raises(zmq.ZMQError) as failure:
            router.send([b"gone", b"reply"])
        assert failure.value.errno == zmq.EHOSTUNREACH
        server.join(PROMPTLY)
        assert len(got) == requests, f"the parked server received {len(got)} of {requests}"


@pytest.mark.parametrize("layer", ["typed", "green"])
def test_failed_recv_does_not_lose_a_parked_senders_wakeup(
    layer: str, address: str, context: gzmq.Context
) -> None:
    """A recv that fails (zmq.Again) after the peer made room still lets a parked sender go."""
    go = threading.Event()
    drained = threading.Event()
    done = threading.Event()

    def drain(sock: zmq.Socket) -> None:
        go.wait(PROMPTLY)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 0.2:  # everything queued, over any transport
            try:
                sock.recv(zmq.NOBLOCK)
                quiet_since = time.monotonic()
            except zmq.Again:
                time.sleep(0.001)
        drained.set()
        done.wait(PROMPTLY)  # keep the socket (and the inproc pipe) until the test is done

    if layer == "typed":
        dealer: object = gzmq.Dealer(
            context=context, linger=0, send_high_water_mark=1, receive_high_water_mark=1,
            send_buffer_size=8192, receive_buffer_size=8192,
        )
        send: Callable[..., object] = dealer.send  # type: ignore[attr-defined]
        try_send = lambda: send(FILL, timeout=0)
        failing_recv = lambda: dealer.recv(timeout=0)  # type: ignore[attr-defined]
    else:
        green = gzmq.green.Context.shadow(context._zmq.underlying)
        dealer = green.socket(zmq.DEALER)
        dealer.linger = 0
        dealer.sndhwm = 1
        dealer.rcvhwm = 1
        dealer.sndbuf = dealer.rcvbuf = 8192
        send = dealer.send
        try_send = lambda: send(FILL, zmq.NOBLOCK)
        failing_recv = lambda: dealer.recv(zmq.NOBLOCK)  # type: ignore[attr-defined]
    with _plain_peer(context, zmq.DEALER, address, drain):
        dealer.connect(address)  # type: ignore[attr-defined]
        full_since = None
        while full_since is None or time.monotonic() - full_since < 0.1:
            try:  # until the queue (and over tcp/ipc the kernel's buffers) stay full
                try_send()
                full_since = None
            except zmq.Again:
                full_since = full_since or time.monotonic()
                gevent.sleep(0.005)
        parked = gevent.spawn(send, b"parked")
        gevent.sleep(0.05)
        assert not parked.ready(), "the sender did not wait at the high water mark"
        go.set()
        assert drained.wait(PROMPTLY)  # the peer made room while the hub did not look
        with pytest.raises(zmq.Again):
            failing_recv()
        parked.join(PROMPTLY)
        done.set()
        assert parked.successful(), "the parked send never woke after the failed recv"
        dealer.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("layer", ["typed", "green"])
def test_efsm_recv_does_not_lose_a_parked_senders_wakeup(
    layer: str, transport: str, address: str, context: gzmq.Context
) -> None:
    """REQ: recv() before send() fails with EFSM (libzmq processes its commands every 100th
    call); a send parked until a peer came still goes."""
    if transport == "inproc":
        pytest.skip("an inproc connect makes its pipe at once: immediate=True never waits")
    done = threading.Event()

    def answer(sock: zmq.Socket) -> None:
        if sock.poll(PROMPTLY * 1000):
            sock.send(sock.recv())
        done.wait(PROMPTLY)

    if layer == "typed":
        req: object = gzmq.Request(context=context, linger=0, immediate=True)
    else:
        green = gzmq.green.Context.shadow(context._zmq.underlying)
        req = green.socket(zmq.REQ)
        req.linger = 0
        req.immediate = True
    req.connect(address)  # type: ignore[attr-defined]  # nothing there yet
    parked = gevent.spawn(req.send, b"q")  # type: ignore[attr-defined]
    gevent.sleep(0.05)
    assert not parked.ready(), "send() did not wait for a peer (immediate=True)"
    with _plain_peer(context, zmq.REP, address, answer):
        _block_the_hub(0.3)  # the peer connects; the hub does not look
        for _ in range(100):
            with pytest.raises(zmq.ZMQError) as failure:
                req.recv()  # type: ignore[attr-defined]
            assert failure.value.errno == zmq.EFSM
        parked.join(PROMPTLY)
        done.set()
        assert parked.successful(), "the parked send never woke after the failed recvs"
        req.close()  # type: ignore[attr-defined]


# -- defect 2: libzmq called on a socket closed during the fairness yield ------------

_CLOSE_DURING_YIELD = """
import gevent, gzmq, sys
ctx = gzmq.Context()
pull = gzmq.Pull(context=ctx, linger=0, receive_high_water_mark=0)
push = gzmq.Push(context=ctx, linger=0, send_high_water_mark=0)
pull.bind("inproc://yield-close")
push.connect("inproc://yield-close")
for number in range(600):
    push.send(b"%d" % number)
def closer():
    pull.close()
    push.close()
    import time
    time.sleep(0.2)  # libzmq's reaper frees the sockets meanwhile
gevent.spawn_later(0, closer)
received = 0
try:
    while True:
        pull.recv()
        received += 1
except gzmq.SocketClosedError:
    pass
print("received", received)
ctx.close()
"""


@pytest.mark.timeout(240)
def test_no_libzmq_call_on_a_socket_closed_during_the_fairness_yield() -> None:
    """A recv loop whose socket closes during its fairness yield never touches the freed socket."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        if os.environ.get("GZMQ_REQUIRE_TOOLS"):
            pytest.fail("valgrind is required (GZMQ_REQUIRE_TOOLS=1) but not installed")
        pytest.skip("valgrind is not installed")
    env = dict(os.environ, PYTHONMALLOC="malloc")
    result = subprocess.run(
        [valgrind, "--leak-check=no", sys.executable, "-c", _CLOSE_DURING_YIELD],
        env=env, capture_output=True, text=True, timeout=230,
    )
    assert "received 512" in result.stdout, result.stdout + result.stderr[-2000:]
    in_libzmq = [
        record for record in _invalid_accesses(result.stderr) if _on_a_freed_socket(record)
    ]
    assert not in_libzmq, "libzmq was called on a freed socket:\n" + in_libzmq[0][:3000]


def _on_a_freed_socket(record: str) -> bool:
    """Whether an invalid access is libzmq's, in memory that libzmq itself freed (a closed
    socket's).  pyzmq 26.4's bind() lets libzmq read an address string that pyzmq already
    freed: that one is pyzmq's, and not what this test is about."""
    accessed, _, freed = record.partition(" free'd")
    return "libzmq" in accessed and "libzmq" in freed


def _invalid_accesses(report: str) -> list[str]:
    """valgrind's "Invalid read/write" records (each up to its blank line), as text."""
    records: list[str] = []
    current: list[str] | None = None
    for line in report.splitlines():
        body = re.sub(r"^==\d+== ?", "", line)
        if re.match(r"Invalid (read|write)", body):
            current = [body]
            records.append("")
        elif current is not None:
            if not body.strip():
                records[-1] = "\n".join(current)
                current = None
            else:
                current.append(body)
    if current is not None:
        records[-1] = "\n".join(current)
    return records


# -- defect 3: completions on the slow path must count for fairness -------------------


def _heartbeat() -> tuple[list[int], gevent.Greenlet]:
    """A greenlet counting how often it gets to run."""
    ticks = [0]

    def beat() -> None:
        while True:
            ticks[0] += 1
            gevent.sleep(0)

    return ticks, gevent.spawn(beat)


RECEIVES: dict[str, Callable[[gzmq.Pull], object]] = {
    "recv(timeout=5)": lambda pull: pull.recv(timeout=5),
    "recv(copy=False)": lambda pull: pull.recv(copy=False),
    "recv(timeout=0)": lambda pull: pull.recv(timeout=0),
}


@pytest.mark.parametrize("form", sorted(RECEIVES))
def test_draining_with_any_receive_form_lets_other_greenlets_run(
    form: str, context: gzmq.Context
) -> None:
    """Draining 20,000 queued messages with any form of recv() yields to the hub now and then."""
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=0)
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=0)
    pull.bind("inproc://fairness-recv")
    push.connect("inproc://fairness-recv")
    total = 20_000
    for number in range(total):
        push.send(b"%d" % number)
    ticks, beat = _heartbeat()
    gevent.sleep(0)
    receive = RECEIVES[form]
    before = ticks[0]
    for _ in range(total):
        receive(pull)
    beat.kill()
    assert ticks[0] - before >= total // 512 // 2, (
        f"{form}: the heartbeat ran {ticks[0] - before} times while {total} messages drained"
    )


SENDS: dict[str, Callable[[gzmq.Push, int], None]] = {
    "send(str)": lambda push, n: push.send(str(n)),
    "send(bytearray)": lambda push, n: push.send(bytearray(b"%d" % n)),
    "send(timeout=5)": lambda push, n: push.send(b"%d" % n, timeout=5),
    "send([str, bytes])": lambda push, n: push.send(["head", b"%d" % n]),
}


@pytest.mark.parametrize("form", sorted(SENDS))
def test_sending_with_any_form_lets_other_greenlets_run(form: str, context: gzmq.Context) -> None:
    """Sending 20,000 messages with any form of send() yields to the hub now and then."""
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=0)
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=0)
    pull.bind("inproc://fairness-send")
    push.connect("inproc://fairness-send")
    total = 20_000
    ticks, beat = _heartbeat()
    gevent.sleep(0)
    before = ticks[0]
    send = SENDS[form]
    for number in range(total):
        send(push, number)
    beat.kill()
    assert ticks[0] - before >= total // 512 // 2, (
        f"{form}: the heartbeat ran {ticks[0] - before} times while {total} messages went"
    )


@pytest.mark.parametrize("frames", ["bytes", "mixed"])
def test_large_multipart_sends_cost_by_size(frames: str, context: gzmq.Context) -> None:
    """A multipart message costs the fairness budget by its size: large ones yield every few."""
    pull = gzmq.Pull(context=context, linger=0, receive_high_water_mark=0)
    push = gzmq.Push(context=context, linger=0, send_high_water_mark=0)
    pull.bind("inproc://fairness-large")
    push.connect("inproc://fairness-large")
    body = b"x" * (64 * 1024)
    ticks, beat = _heartbeat()
    gevent.sleep(0)
    before = ticks[0]
    for _ in range(200):
        push.send([b"head", body] if frames == "bytes" else ["head", bytearray(body)])
    beat.kill()
    # 1 + 64 KiB >> 8 = 257 units a message: a yield at least every two messages.
    assert ticks[0] - before >= 50, f"the heartbeat ran {ticks[0] - before} times in 200 sends"


# -- defect 6: gzmq.green in a forked child -------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("call", ["recv", "recv_multipart", "send"])
def test_green_socket_refuses_use_in_a_forked_child(call: str) -> None:
    """A green socket inherited through fork raises InvalidThreadUseError; the parent keeps all."""
    ctx = gzmq.green.Context()
    pull = ctx.socket(zmq.PULL)
    push = ctx.socket(zmq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
    pull.bind("inproc://green-fork")
    push.connect("inproc://green-fork")
    push.send(b"queued before fork")
    gevent.sleep(0.01)
    pid = os.fork()
    if pid == 0:  # the child: must not touch the parent's libzmq state
        code = 3
        try:
            if call == "send":
                push.send(b"from the child", zmq.NOBLOCK)
            else:
                getattr(pull, call)(zmq.NOBLOCK)
            code = 1
        except gzmq.InvalidThreadUseError:
            code = 0
        except BaseException:  # noqa: BLE001 - the child reports any other outcome by its code
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child used (or failed oddly on) the socket"
    assert pull.recv(zmq.NOBLOCK) == b"queued before fork"
    with pytest.raises(zmq.Again):
        pull.recv(zmq.NOBLOCK)  # nothing sent from the child
    pull.close()
    push.close()
    ctx.term()


# -- the primitive: one decision, mirrored in C and Python -------------------------------


def _method_calls(function: Callable[..., object]) -> list[str]:
    """The self.<method>() calls a Gate method makes, in source order."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    calls = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "self"
        ):
            calls.append(node.func.attr)
    return sorted(set(calls))


_C_FUNCTIONS = {
    "recv": "gate_recv_impl",
    "recv_part": "gate_recv_impl",
    "send": "gate_send_impl",
    "try_recv": "gate_try_recv_impl",
    "try_send": "gate_try_send_impl",
}

#: Python name of a call -> what the C code calls for it.
_C_EQUIVALENT = {
    "refresh": ["refresh_name", "refresh_holding"],
    "_refresh_holding": ["refresh_holding"],
    "wait_recv": ["wait_recv("],
    "wait_send": ["wait_send("],
    "wrong_owner": ["check_owned"],
    "fail_errno": ["fail_errno("],
    "partial_send": ["settle_send"],
    "hold": ["refresh_holding"],
    "open_read": ["open_read_name"],
}


def _c_body(name: str) -> str:
    source = (ROOT / "gzmq" / "_speedups.c").read_text(encoding="utf-8")
    start = source.index(f"\n{name}(")
    end = source.index("\n}\n", start)
    return source[start:end]


@pytest.mark.parametrize("method", sorted(_C_FUNCTIONS))
def test_c_gate_mirrors_the_python_gate(method: str) -> None:
    """Each C Gate method makes the same calls back into Waiting as gzmq._fastpath's."""
    body = _c_body(_C_FUNCTIONS[method])
    for bodyname in ("settle_send", "refresh_holding", "check_owned", "others_wait"):
        if bodyname in body:
            body += _c_body(bodyname)
    for call in _method_calls(getattr(_fastpath.Gate, method)):
        wanted = _C_EQUIVALENT.get(call)
        assert wanted is not None, f"Gate.{method} calls self.{call}(), unknown to this test"
        assert any(text in body for text in wanted), (
            f"the C {method} does not do what Gate.{method}'s self.{call}() does"
        )
    # The decision's conditions, in the same terms.
    python = inspect.getsource(getattr(_fastpath.Gate, method))
    for python_text, c_text in (
        ("self.streak < _LIMIT", "gate->streak < fairness_limit"),
        ("self.streak += 1", "gate->streak += 1"),
        ("_get_ident() == self.owner", "owned(gate"),
        ("_get_ident() != self.owner", "check_owned(gate"),
        ("if self.writers or self.polling:", "others_wait(gate, gate->writers)"),
        ("if self.readers or self.polling:", "others_wait(gate, gate->readers)"),
        ("not self.readers", "!occupied(gate->readers)"),
        ("not self.writers", "!occupied(gate->writers)"),
        ("_once(timeout)", "once_of(timeout)"),
        ("raise _Again()", "fail_errno(gate, EAGAIN)"),
    ):
        if python_text in python:
            assert c_text in body, f"Gate.{method} has {python_text!r}; the C twin lacks {c_text!r}"


@pytest.mark.skipif(not _native.accelerated, reason="the C accelerator is not in use")
def test_gate_is_the_c_twin_when_accelerated() -> None:
    """With the accelerator, every socket's core is the C Gate; its methods are C functions."""
    assert _native.Gate is not _fastpath.Gate
    for name in ("recv", "send", "try_recv", "try_send"):
        assert not inspect.isfunction(getattr(_native.Gate, name))


#: What only the core may do: libzmq sends/receives, fairness, EVENTS re-checks.
_CORE_ONLY = re.compile(
    r"_BackendSocket\.(send|recv)\b|\bstreak\b|FAIRNESS_LIMIT|recv_now|_recv_message|"
    r"gate_(send|recv)|\.try_(send|recv)\("
)


@pytest.mark.parametrize(
    "module", ["socket.py", "sockets.py", "draft.py", "green/core.py", "green/poll.py",
               "green/device.py", "proxy.py", "observer.py", "auth.py"]
)
def test_no_layer_reimplements_the_fast_path(module: str) -> None:
    """Typed, draft and green layers send and receive only through the Gate, deciding nothing."""
    source = (ROOT / "gzmq" / module).read_text(encoding="utf-8")
    found = [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(source.splitlines(), 1)
        if _CORE_ONLY.search(line) and not line.lstrip().startswith("#")
    ]
    assert not found, f"gzmq/{module} does the core's work itself:\n" + "\n".join(found)
