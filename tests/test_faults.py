"""Faults over tcp with real processes (issue 10): killed peers, cut links, slow consumers, leaks.

The peers run in their own interpreters: each is a ``_child_<name>`` function
of this module, started by :class:`Child` through ``python -c`` and talking to
the test through JSON lines on stdout (and plain lines on stdin).  Every line
carries ``t``, the sender's ``time.monotonic()`` (one clock for the whole
machine, network namespaces included).
"""

from __future__ import annotations

import gc
import importlib.util
import itertools
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import gevent
import gevent.subprocess
import greenlet
import pytest
import zmq

import gzmq
from gzmq._waiting import Waiting

TESTS = Path(__file__).resolve().parent
EXAMPLES = TESTS.parent / "examples"
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); import test_faults; "
    "test_faults.child_main(sys.argv[1:])"
)
_names = itertools.count()


# -- helper processes -----------------------------------------------------------------------


class Child:
    """A helper program (a ``_child_<name>`` function below) in its own interpreter."""

    def __init__(self, name: str, *args: object, netns: str | None = None) -> None:
        command = [sys.executable, "-c", _BOOT, str(TESTS), name, *map(str, args)]
        if netns is not None:
            command = ["ip", "netns", "exec", netns, *command]
        self.name = name
        self._stderr = tempfile.TemporaryFile()
        self.proc = gevent.subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )

    def stderr(self) -> str:
        """What the child wrote on stderr so far (for failure messages)."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    def read(self, timeout: float = 10.0) -> dict[str, Any]:
        """The child's next JSON line; fails the test if none comes within ``timeout`` s."""
        stdout = self.proc.stdout
        assert stdout is not None
        line = ""
        with gevent.Timeout(timeout, False):
            line = stdout.readline()
        if not line:
            state = self.proc.poll()
            what = f"exited with {state}" if state is not None else f"said nothing in {timeout} s"
            pytest.fail(f"helper {self.name} {what}; stderr:\n{self.stderr()}")
        result: dict[str, Any] = json.loads(line)
        return result

    def expect(self, key: str, timeout: float = 10.0) -> dict[str, Any]:
        """Read lines until one that has ``key``; return it."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.read(max(0.05, deadline - time.monotonic()))
            if key in line:
                return line

    def tell(self, text: str) -> None:
        """Write one line to the child's stdin."""
        stdin = self.proc.stdin
        assert stdin is not None
        stdin.write(text + "\n")
        stdin.flush()

    def kill(self) -> None:
        """SIGKILL the child (if it still runs) and reap it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        """Kill and release everything."""
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass  # the child is gone: a broken pipe on close is expected
        self._stderr.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., Child]]:
    """A factory of helper processes, every one killed at the end of the test."""
    children: list[Child] = []

    def make(name: str, *args: object, netns: str | None = None) -> Child:
        child = Child(name, *args, netns=netns)
        children.append(child)
        return child

    yield make
    for child in children:
        child.close()


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process, in KiB (from /proc)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


def free_tcp_port() -> int:
    """A tcp port on 127.0.0.1 that was free a moment ago (libzmq binds with SO_REUSEADDR)."""
    probe = gzmq.Pull(linger=0)
    try:
        probe.bind("tcp://127.0.0.1:*")
        return int(probe.last_endpoint.rsplit(":", 1)[1])
    finally:
        probe.close()


# -- what the helper processes run ----------------------------------------------------------


def child_main(argv: list[str]) -> None:
    """Entry point of a helper process: run ``_child_<argv[0]>(*argv[1:])``."""
    name, *args = argv
    globals()[f"_child_{name}"](*args)


def _say(**fields: Any) -> None:
    print(json.dumps({"t": time.monotonic(), **fields}), flush=True)


def _child_echo_router(endpoint: str) -> None:
    """Bind a Router and echo every message to its sender."""
    router = gzmq.Router(linger=0)
    router.bind(endpoint)
    _say(ready=router.last_endpoint)
    for message in router:
        router.send(message)


def _child_echo_reply(endpoint: str) -> None:
    """Bind a Reply and echo every request."""
    reply = gzmq.Reply(linger=0)
    reply.bind(endpoint)
    _say(ready=reply.last_endpoint)
    for message in reply:
        reply.send(message)


def _child_stream_push(endpoint: str, generation: str) -> None:
    """Connect a Push and send b"generation:n" for n = 0, 1, 2, ... as fast as it may."""
    push = gzmq.Push(linger=0)
    push.connect(endpoint)
    _say(ready=endpoint)
    for number in itertools.count():
        push.send(f"{generation}:{number}".encode())


def _child_netns_server(endpoint: str, interval: str, timeout: str) -> None:
    """Bind a Router with heartbeats (so it drops the dead connection too) and echo."""
    router = gzmq.Router(
        linger=0, heartbeat_interval=int(interval), heartbeat_timeout=int(timeout)
    )
    router.bind(endpoint)
    _say(ready=router.last_endpoint)
    for message in router:
        router.send(message)


def _child_netns_client(endpoint: str, interval: str, timeout: str) -> None:
    """A Dealer with heartbeats: report Observer events and each answered request."""
    dealer = gzmq.Dealer(
        linger=0,
        heartbeat_interval=int(interval),
        heartbeat_timeout=int(timeout),
        reconnect_interval=100,
        reconnect_max_interval=0,
        connect_timeout=500,
    )
    observer = dealer.events  # before connect(): see every event

    def report_events() -> None:
        for event in observer:
            _say(event=event.type.value)

    gevent.spawn(report_events)
    dealer.connect(endpoint)
    for number in itertools.count():
        dealer.send(str(number))
        deadline = time.monotonic() + 0.2
        try:
            while True:  # replies to requests lost in the cut may come late: skip them
                reply = dealer.recv(timeout=max(0.0, deadline - time.monotonic()))
                if reply == [str(number).encode()]:
                    _say(reply=number)
                    break
        except zmq.Again:
            pass
        gevent.sleep(0.05)


def _child_slow_pull(endpoint: str, count: str) -> None:
    """Connect a Pull with small queues; on "go", read ``count`` messages slowly and check them."""
    pull = gzmq.Pull(linger=0, receive_high_water_mark=10, receive_buffer_size=65536)
    pull.connect(endpoint)
    _say(ready=endpoint)
    sys.stdin.readline()  # stalled until the test says go (this blocks the whole process)
    expected = 0
    in_order = True
    size = None
    for _ in range(int(count)):
        header, payload = pull.recv(timeout=30)
        in_order = in_order and int(header) == expected
        size = len(payload) if size is None else size
        in_order = in_order and len(payload) == size
        expected += 1
        if expected % 20 == 0:
            gevent.sleep(0.001)  # a slow consumer
    extra = True
    try:
        pull.recv(timeout=0.3)
    except zmq.Again:
        extra = False
    _say(
        received=expected,
        in_order=in_order,
        extra=extra,
        max_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )


def _child_stalled_sub(endpoint: str) -> None:
    """Subscribe with small queues; report the first message, stall until "go", then drain."""
    sub = gzmq.Subscriber(linger=0, receive_high_water_mark=10, receive_buffer_size=65536)
    sub.subscribe()
    sub.connect(endpoint)
    sub.recv(timeout=30)  # the subscription is in place: the publisher's hello came through
    _say(subscribed=True)
    sys.stdin.readline()  # stalled: nothing read while the publisher sends
    numbers: list[int] = []
    try:
        while True:
            header, _payload = sub.recv(timeout=1.0)
            if header != b"hello":
                numbers.append(int(header))
    except zmq.Again:
        pass
    _say(
        received=len(numbers),
        ascending=all(a < b for a, b in itertools.pairwise(numbers)),
        last=numbers[-1] if numbers else None,
        max_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )


# -- a peer killed with SIGKILL and restarted -----------------------------------------------


@pytest.mark.timeout(60)
def test_killed_server_restarted_dealer_reconnects_on_its_own(
    spawn: Callable[..., Child],
) -> None:
    """A Dealer keeps its socket while the echo server is SIGKILLed mid-stream and restarted."""
    port = free_tcp_port()
    endpoint = f"tcp://127.0.0.1:{port}"
    server = spawn("echo_router", endpoint)
    server.expect("ready")
    dealer = gzmq.Dealer(linger=0, reconnect_interval=50, reconnect_max_interval=0)
    dealer.connect(endpoint)
    answered: list[int] = []
    in_flight_at_kill = 0
    killed = restarted = False
    number = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        number += 1
        dealer.send(str(number))
        try:
            reply = dealer.recv(timeout=0.2)
        except zmq.Again:
            reply = None
        if reply is not None:
            answered.append(int(reply[0]))
        if not killed and len(answered) >= 50:
            for _ in range(5):  # requests in flight when the server dies
                number += 1
                dealer.send(str(number))
            in_flight_at_kill = number
            server.kill()
            killed = True
        elif killed and not restarted:
            server = spawn("echo_router", endpoint)
            server.expect("ready")
            restarted = True
        elif restarted and answered and answered[-1] > in_flight_at_kill + 20:
            break
    dealer.close()
    assert killed and restarted
    after = [n for n in answered if n > in_flight_at_kill]
    assert len(after) >= 20, f"no replies after the restart: {answered[-10:]}"
    assert after == sorted(after)


@pytest.mark.timeout(60)
def test_killed_client_restarted_its_messages_flow_again(spawn: Callable[..., Child]) -> None:
    """A bound Pull gets a gapless stream, then the stream of the restarted, SIGKILLed pusher."""
    pull = gzmq.Pull(linger=0)
    pull.bind("tcp://127.0.0.1:*")
    first = spawn("stream_push", pull.last_endpoint, "first")
    first.expect("ready")
    numbers = []
    for _ in range(2000):
        generation, number = pull.recv(timeout=10)[0].decode().split(":")
        assert generation == "first"
        numbers.append(int(number))
    first.kill()  # mid-stream: it was sending as fast as it could
    assert numbers == list(range(2000))
    # Whatever was in flight from the first may still come; then the second's stream.
    second = spawn("stream_push", pull.last_endpoint, "second")
    second.expect("ready")
    seconds = []
    deadline = time.monotonic() + 20
    while len(seconds) < 1000 and time.monotonic() < deadline:
        generation, number = pull.recv(timeout=10)[0].decode().split(":")
        if generation == "first":
            assert int(number) == numbers[-1] + 1, "the first's messages arrive in order"
            numbers.append(int(number))
        else:
            seconds.append(int(number))
    pull.close()
    assert seconds == list(range(1000))


def _load_example(name: str) -> ModuleType:
    """Import examples/NAME.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_request_after_timeout_is_stuck_so_lazy_pirate_takes_a_fresh_socket(
    spawn: Callable[..., Child],
) -> None:
    """A REQ whose reply timed out cannot send again (EFSM): the reason for a fresh socket."""
    request = gzmq.Request(linger=0)
    request.connect(f"tcp://127.0.0.1:{free_tcp_port()}")  # nobody there
    request.send(b"lost")
    with pytest.raises(zmq.Again):
        request.recv(timeout=0.1)
    with pytest.raises(zmq.ZMQError) as info:
        request.send(b"again", timeout=0.1)
    assert info.value.errno == zmq.EFSM
    request.close()


@pytest.mark.timeout(60)
def test_lazy_pirate_recovers_from_a_sigkilled_server(spawn: Callable[..., Child]) -> None:
    """examples/lazy_pirate.LazyPirate: requests time out while the server is dead, then succeed."""
    lazy_pirate = _load_example("lazy_pirate")
    endpoint = f"tcp://127.0.0.1:{free_tcp_port()}"
    server = spawn("echo_reply", endpoint)
    server.expect("ready")
    log: list[str] = []
    client = lazy_pirate.LazyPirate(endpoint, timeout=0.3, retries=20, log=log.append)
    try:
        for number in range(5):
            assert client.request(f"before {number}") == [f"before {number}".encode()]
        assert client.retries == 0
        server.kill()

        def restart() -> Child:
            gevent.sleep(1.0)
            child = spawn("echo_reply", endpoint)
            child.expect("ready")
            return child

        restarter = gevent.spawn(restart)
        assert client.request("during the outage") == [b"during the outage"]
        restarter.get(timeout=10)
        assert client.retries >= 2, log  # at least 1 s down at 0.3 s per attempt
        assert any("fresh socket" in line for line in log), log
        for number in range(5):
            assert client.request(f"after {number}") == [f"after {number}".encode()]
        # A dead server and too few retries: a clear failure, not a hang.
        server = restarter.value
        server.kill()
        hopeless = lazy_pirate.LazyPirate(endpoint, timeout=0.1, retries=2, log=log.append)
        with pytest.raises(lazy_pirate.ServerUnavailableError, match="2 attempts"):
            hopeless.request("nobody home")
        hopeless.close()
    finally:
        client.close()


@pytest.mark.timeout(60)
def test_lazy_pirate_example_runs_standalone() -> None:
    """python examples/lazy_pirate.py starts a flaky server and gets every request answered."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "lazy_pirate.py")],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=EXAMPLES.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    out = done.stdout
    assert "supervisor: server crashed (SIGKILL, exit -9)" in out, out
    assert "no reply within 0.5 s, resending on a fresh socket (attempt 2/5)" in out, out
    summary = re.search(r"(\d+)/10 requests answered; (\d+) attempts were repeated", out)
    assert summary is not None, out
    assert summary.group(1) == "10" and int(summary.group(2)) >= 2, out


# -- a link cut between two network namespaces ----------------------------------------------


def _cannot(reason: str) -> NoReturn:
    """Skip, saying why; fail instead under GZMQ_REQUIRE_TOOLS=1 (CI, which installs the tools)."""
    if os.environ.get("GZMQ_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (GZMQ_REQUIRE_TOOLS=1: this test must run here)")
    pytest.skip(reason)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=20)


def _free_subnet() -> str:
    """A 10.199.N.0/30 prefix ("10.199.N.") that no address or route of this machine uses."""
    used = _run("ip", "-o", "-4", "addr").stdout + _run("ip", "-4", "route").stdout
    for netns in _run("ip", "netns", "list").stdout.split():
        used += _run("ip", "-n", netns, "-o", "-4", "addr").stdout
    for third in itertools.chain(range(os.getpid() % 200 + 50, 250), range(50)):
        prefix = f"10.199.{third}."
        if prefix not in used:
            return prefix
    _cannot("every 10.199.N.0/30 candidate is in use on this machine")


@pytest.fixture
def netns_link() -> Iterator[dict[str, str]]:
    """Two fresh network namespaces joined by a veth pair, removed afterwards.

    Addresses 10.199.N.1/30 (namespace "a") and 10.199.N.2/30 (namespace
    "b") exist only inside the two namespaces: no traffic leaves them.
    """
    if os.geteuid() != 0:
        _cannot("making network namespaces (ip netns) needs root")
    if shutil.which("ip") is None:
        _cannot("iproute2's `ip` is not installed (apt-get install -y iproute2)")
    tag = f"{os.getpid()}-{next(_names)}"
    short = f"{os.getpid() % 100000}{next(_names) % 10}"
    names = {
        "a": f"gzmq-fault-{tag}-a",
        "b": f"gzmq-fault-{tag}-b",
        "veth_a": f"gzv{short}a",
        "veth_b": f"gzv{short}b",
    }
    made: list[str] = []
    try:
        for side in ("a", "b"):
            result = _run("ip", "netns", "add", names[side])
            if result.returncode != 0:
                _cannot(f"cannot make a network namespace here: {result.stderr.strip()}")
            made.append(names[side])
        prefix = _free_subnet()
        names["addr_a"], names["addr_b"] = prefix + "1", prefix + "2"
        steps = [
            ("ip", "link", "add", names["veth_a"], "netns", names["a"], "type", "veth",
             "peer", "name", names["veth_b"], "netns", names["b"]),
            ("ip", "-n", names["a"], "addr", "add", names["addr_a"] + "/30",
             "dev", names["veth_a"]),
            ("ip", "-n", names["b"], "addr", "add", names["addr_b"] + "/30",
             "dev", names["veth_b"]),
            ("ip", "-n", names["a"], "link", "set", names["veth_a"], "up"),
            ("ip", "-n", names["b"], "link", "set", names["veth_b"], "up"),
            ("ip", "-n", names["a"], "link", "set", "lo", "up"),
            ("ip", "-n", names["b"], "link", "set", "lo", "up"),
        ]
        for step in steps:
            result = _run(*step)
            assert result.returncode == 0, f"{' '.join(step)}: {result.stderr}"
        yield names
    finally:
        for netns in made:  # deleting a namespace deletes its end of the veth pair
            _run("ip", "netns", "delete", netns)


@pytest.mark.timeout(90)
def test_link_cut_detected_by_heartbeat_then_messages_flow_again(
    netns_link: dict[str, str], spawn: Callable[..., Child]
) -> None:
    """heartbeat_* options notice a cut link within timeout + interval; flow resumes after."""
    interval, timeout = 250, 1000  # ms
    endpoint = f"tcp://{netns_link['addr_a']}:5555"
    server = spawn("netns_server", endpoint, interval, timeout, netns=netns_link["a"])
    client = spawn("netns_client", endpoint, interval, timeout, netns=netns_link["b"])
    try:
        server.expect("ready")
        client.expect("event", timeout=10)
        for _ in range(5):
            client.expect("reply", timeout=10)
        cut_at = time.monotonic()
        result = _run("ip", "-n", netns_link["a"], "link", "set", netns_link["veth_a"], "down")
        assert result.returncode == 0, result.stderr
        cut_done = time.monotonic()
        while True:
            line = client.read(timeout=10)
            if line.get("event") == "disconnect":
                disconnected_at = line["t"]
                break
        detected = disconnected_at - cut_at
        bound = (timeout + interval) / 1000
        # Never before the heartbeat timeout could have run (less the PING already out),
        # and within timeout + one interval (+ 1 s for a loaded machine).
        assert detected >= (timeout - interval) / 1000 - (cut_done - cut_at), detected
        assert detected <= bound + 1.0, f"disconnect seen {detected:.2f} s after the cut"
        print(f"cut link: disconnect event {detected:.3f} s after the cut (bound {bound} s)")
        gevent.sleep(0.5)  # reconnect attempts fail while the link is down
        result = _run("ip", "-n", netns_link["a"], "link", "set", netns_link["veth_a"], "up")
        assert result.returncode == 0, result.stderr
        up_at = time.monotonic()
        replies_after = 0
        while replies_after < 5:
            line = client.read(timeout=15)
            if "reply" in line and line["t"] > up_at:
                replies_after += 1
    finally:
        client.kill()
        server.kill()


# -- a slow consumer and high water marks ---------------------------------------------------


@pytest.mark.timeout(90)
def test_push_to_slow_consumer_blocks_at_hwm_memory_bounded_nothing_lost(
    spawn: Callable[..., Child],
) -> None:
    """PUSH blocks (only its greenlet) at the HWM; memory stays bounded; every message arrives."""
    total, size = 4000, 10 * 1024  # 40 MiB through a consumer that stalls, then crawls
    push = gzmq.Push(linger=0, send_high_water_mark=10, send_buffer_size=65536)
    push.bind("tcp://127.0.0.1:*")
    consumer = spawn("slow_pull", push.last_endpoint, total)
    consumer.expect("ready")
    payload = os.urandom(size)
    ticks = 0

    def ticker() -> None:
        nonlocal ticks
        while True:
            gevent.sleep(0.01)
            ticks += 1

    ticking = gevent.spawn(ticker)
    sent = 0
    try:
        # Stalled consumer: the queues fill and send blocks; it gives up after 0.5 s.
        with pytest.raises(zmq.Again):
            while sent < total:
                push.send([b"%d" % sent, payload], timeout=0.5)
                sent += 1
        queued = sent
        assert ticks >= 20, "the hub kept running while send() waited"
        # Both HWMs (10 + 10) plus kernel buffers and libzmq's batches: far below total.
        assert queued < 200, f"{queued} messages of 10 KiB were accepted for a stalled peer"
        rss_before = rss_kib()
        consumer.tell("go")
        while sent < total:
            push.send([b"%d" % sent, payload], timeout=30)
            sent += 1
        report = consumer.expect("received", timeout=60)
        rss_after = rss_kib()
    finally:
        ticking.kill()
        push.close()
    print(f"push: {queued} queued for a stalled peer; RSS {rss_before}->{rss_after} KiB; {report}")
    assert report["received"] == total and report["in_order"] and not report["extra"], report
    assert rss_after - rss_before < 16 * 1024, (rss_before, rss_after)
    # The consumer held at most a few HWMs of 10 KiB messages on top of its interpreter.
    assert report["max_rss_kib"] < 200 * 1024, report


@pytest.mark.timeout(90)
def test_pub_to_slow_subscriber_drops_at_hwm_never_blocks_memory_bounded(
    spawn: Callable[..., Child],
) -> None:
    """PUB never blocks: at a stalled subscriber's HWM it drops; memory stays bounded."""
    total, size = 20000, 10 * 1024  # 200 MiB offered to a subscriber that reads nothing
    pub = gzmq.Publisher(linger=0, send_high_water_mark=10, send_buffer_size=65536)
    pub.bind("tcp://127.0.0.1:*")
    subscriber = spawn("stalled_sub", pub.last_endpoint)
    hello = gevent.spawn(_hello_until_subscribed, pub)
    subscriber.expect("subscribed", timeout=20)
    hello.kill()
    payload = os.urandom(size)
    rss_before = rss_kib()
    for number in range(total):
        pub.send([b"%d" % number, payload], timeout=0)  # would raise zmq.Again if it blocked
        if number % 500 == 0:
            gevent.sleep(0)  # let the reading side of this process run too
    rss_after = rss_kib()
    subscriber.tell("go")
    report = subscriber.expect("received", timeout=30)
    pub.close()
    print(f"pub: RSS {rss_before} -> {rss_after} KiB; {report}")
    assert rss_after - rss_before < 16 * 1024, (rss_before, rss_after)
    assert 0 < report["received"] < total / 10, report  # most were dropped, some came
    assert report["ascending"], report  # what came is in order, no duplicates
    assert report["max_rss_kib"] < 200 * 1024, report


def _hello_until_subscribed(pub: gzmq.Publisher) -> None:
    """Publish hello every 20 ms (a subscription takes a moment to reach the publisher)."""
    while True:
        pub.send([b"hello", b""])
        gevent.sleep(0.02)


# -- a million messages, ten thousand sockets -----------------------------------------------


def _recv_until_closed(sock: gzmq.Pull) -> str:
    try:
        sock.recv()
    except gzmq.SocketClosedError:
        return "closed"
    return "received"


def _greenlets() -> int:
    return sum(1 for obj in gc.get_objects() if isinstance(obj, greenlet.greenlet))


def _waitings() -> int:
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Waiting))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_million_messages_and_ten_thousand_sockets_leak_nothing() -> None:
    """1M messages keep RSS flat; 10k socket cycles leak no greenlet, watcher, fd or memory."""
    context = gzmq.Context()
    receiver = gzmq.Pair(context=context, linger=0)
    receiver.bind("tcp://127.0.0.1:*")
    sender = gzmq.Pair(context=context, linger=0)
    sender.connect(receiver.last_endpoint)
    total, checkpoint = 1_000_000, 200_000
    payload = b"x" * 64
    rss: dict[int, int] = {}

    def send_all() -> None:
        for _ in range(total):
            sender.send(payload)

    def receive_all() -> None:
        for count in range(1, total + 1):
            message = receiver.recv()
            if message != [payload]:
                raise AssertionError(f"message {count} is {message!r}")
            if count in (checkpoint, total):
                rss[count] = rss_kib()

    started = time.monotonic()
    gevent.joinall([gevent.spawn(send_all), gevent.spawn(receive_all)], raise_error=True)
    elapsed = time.monotonic() - started
    assert set(rss) == {checkpoint, total}
    # No per-message leak: 800k more messages may not add 16 MiB (20 bytes each).
    growth = rss[total] - rss[checkpoint]
    assert growth < 16 * 1024, f"RSS grew {growth} KiB from 200k to 1M messages"
    receiver.close()
    sender.close()

    hub = gevent.get_hub()

    def cycle(number: int) -> None:
        pull = gzmq.Pull(context=context, linger=0)
        pull.bind(f"inproc://cycle-{os.getpid()}-{number}")
        waiter = gevent.spawn(_recv_until_closed, pull)  # parks: the watcher starts
        gevent.sleep(0)
        if number % 10 == 0:
            pull.events  # noqa: B018 - an Observer too, now and then
        if number % 2:
            with pytest.raises(zmq.Again):
                pull.recv(timeout=0.0001)  # a timer too
        pull.close()  # wakes the waiter with SocketClosedError
        assert waiter.get(timeout=5) == "closed"

    for number in range(1000):  # warm up: caches, free lists, the Observer's machinery
        cycle(number)
    gevent.sleep(0.1)
    gc.collect()
    before = (_greenlets(), hub.loop.activecnt, open_fds(), _waitings(), rss_kib())
    for number in range(1000, 11000):
        cycle(number)
    gevent.sleep(0.3)  # let Observers of closed sockets see "end" and stop
    gc.collect()
    after = (_greenlets(), hub.loop.activecnt, open_fds(), _waitings(), rss_kib())
    context.close()
    labels = ("greenlets", "active watchers", "fds", "Waiting objects")
    for label, old, new in zip(labels, before, after, strict=False):
        assert new <= old + 2, f"{label}: {old} before 10,000 cycles, {new} after"
    assert after[4] - before[4] < 32 * 1024, f"RSS {before[4]} KiB -> {after[4]} KiB"
    print(f"1M messages in {elapsed:.1f} s; RSS {rss}; cycles: before {before}, after {after}")
