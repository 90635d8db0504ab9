"""The ``gzmq`` command: send, recv, proxy, monitor and keygen run as real processes.

Every test starts the installed ``gzmq`` console script (``python -m gzmq``
where the script is absent) in subprocesses, talks to it over real
sockets, and checks its output and exit status.  inproc cannot cross a
process boundary, so the transports here are tcp and ipc.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
import zmq.auth

_SCRIPT = shutil.which("gzmq", path=str(Path(sys.executable).parent))
GZMQ = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "gzmq"]
SUBCOMMANDS = ["send", "recv", "proxy", "monitor", "keygen"]


class Running:
    """A ``gzmq`` process running in the background, its output read line by line."""

    def __init__(self, *args: str, stdin: bool = False) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [*GZMQ, *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: dict[str, queue.Queue[bytes]] = {
            "stdout": queue.Queue(),
            "stderr": queue.Queue(),
        }
        self.seen: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
        for name in self.lines:
            threading.Thread(target=self._pump, args=(name,), daemon=True).start()

    def _pump(self, name: str) -> None:
        for line in getattr(self.proc, name):
            self.lines[name].put(line)

    def line(self, pattern: str, stream: str = "stdout", timeout: float = 15) -> str:
        """The next line of ``stream`` matching ``pattern`` (a regex); fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                raw = self.lines[stream].get(timeout=max(0.01, remaining))
            except queue.Empty:
                if remaining <= 0:
                    pytest.fail(
                        f"gzmq {' '.join(self.args)}: no {stream} line matching {pattern!r} "
                        f"within {timeout} s; {stream} so far: {self.seen[stream]!r}"
                    )
                continue
            self.seen[stream].append(raw)
            text = raw.decode("utf-8", "replace").rstrip("\n")
            if re.search(pattern, text):
                return text

    def bound(self, nth: int = 1) -> str:
        """The endpoint of the nth bind this command reports on stderr."""
        text = ""
        for _ in range(nth):
            text = self.line(r"bound ", "stderr")
        return text.rsplit(" ", 1)[-1]

    def wait(self, timeout: float = 15) -> tuple[int, str, str]:
        """Exit status and the rest of stdout and stderr."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"gzmq {' '.join(self.args)} did not end within {timeout} s")
        time.sleep(0.05)  # let the reader threads take the last lines
        rest = {}
        for name, lines in self.lines.items():
            while not lines.empty():
                self.seen[name].append(lines.get())
            rest[name] = b"".join(self.seen[name]).decode("utf-8", "replace")
        return code, rest["stdout"], rest["stderr"]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start() -> Iterator[type[Running]]:
    """Start background ``gzmq`` commands; whatever still runs is killed after the test."""
    started: list[Running] = []

    class Tracked(Running):
        def __init__(self, *args: str, stdin: bool = False) -> None:
            super().__init__(*args, stdin=stdin)
            started.append(self)

    yield Tracked
    for command in started:
        command.kill()
        for stream in (command.proc.stdout, command.proc.stderr, command.proc.stdin):
            if stream is not None:
                stream.close()


def gzmq_run(
    *args: str, stdin: bytes = b"", timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    """Run ``gzmq ARGS`` to the end (feeding ``stdin``); its exit status and output."""
    done = subprocess.run([*GZMQ, *args], input=stdin, capture_output=True, timeout=timeout)
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture(params=["tcp", "ipc"])
def bind_address(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An endpoint to bind on tcp (a free port picked by libzmq) and on ipc."""
    if request.param == "tcp":
        return "tcp://127.0.0.1:*"
    return f"ipc://{tmp_path}/cli.ipc"


def free_tcp_endpoint() -> str:
    """A tcp endpoint on a port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


# -- the command itself -------------------------------------------------------------------


def test_console_script_and_module_both_work() -> None:
    """`gzmq --help` and `python -m gzmq --help` list every subcommand and exit 0."""
    commands = [[sys.executable, "-m", "gzmq", "--help"]]
    if _SCRIPT:
        commands.append([_SCRIPT, "--help"])
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        for name in SUBCOMMANDS:
            assert name in done.stdout
    assert _SCRIPT is not None, "the gzmq console script is not installed next to python"


@pytest.mark.parametrize("name", [*SUBCOMMANDS, "bench"])
def test_help_of_each_subcommand(name: str) -> None:
    """`gzmq NAME --help` prints the subcommand's usage and examples of it, and exits 0."""
    done = gzmq_run(name, "--help")
    assert done.returncode == 0, done.stderr
    assert f"usage: gzmq {name}" in done.stdout
    assert "\nexamples:\n" in done.stdout, done.stdout
    examples = done.stdout.split("\nexamples:\n", 1)[1]
    assert re.search(rf"^  gzmq {name}\b", examples, re.M), done.stdout


def test_version_names_every_component_and_the_accelerator() -> None:
    """`gzmq --version` prints the gzmq, libzmq, pyzmq, gevent, Python versions, accelerator."""
    import platform

    import gevent

    import gzmq

    done = gzmq_run("--version")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:5] == [
        f"gzmq {gzmq.__version__}",
        f"libzmq {zmq.zmq_version()}",
        f"pyzmq {zmq.__version__}",
        f"gevent {gevent.__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
    ]
    expected = "on" if gzmq.accelerated else f"off ({gzmq.accelerator_reason})"
    assert lines[5:] == [f"C accelerator: {expected}"]


@pytest.mark.parametrize(("value", "off"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_version_shows_GZMQ_PURE_PYTHON(value: str, off: bool) -> None:
    """GZMQ_PURE_PYTHON=1 or yes turns the accelerator off and --version says why; 0 does not."""
    import os

    import gzmq

    environment = {**os.environ, "GZMQ_PURE_PYTHON": value}
    done = subprocess.run(
        [*GZMQ, "--version"], capture_output=True, text=True, timeout=20, env=environment
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.splitlines()[-1]
    if off:
        assert last == "C accelerator: off (GZMQ_PURE_PYTHON is set)"
    else:
        assert last.startswith("C accelerator: ") and "GZMQ_PURE_PYTHON" not in last, last
        if gzmq.accelerated:
            assert last == "C accelerator: on"


def test_no_subcommand_is_a_usage_error() -> None:
    """`gzmq` alone and an unknown subcommand exit 2 with a usage message."""
    for args in [(), ("frobnicate",)]:
        done = gzmq_run(*args)
        assert done.returncode == 2
        assert "usage: gzmq" in done.stderr


# -- send and recv ----------------------------------------------------------------------


def test_recv_bind_send_connect(start: type[Running], bind_address: str) -> None:
    """`gzmq recv --bind` prints, one per line, the messages `gzmq send --connect` sent."""
    recv = start("recv", "--bind", bind_address, "--count", "3")
    address = recv.bound()
    sent = gzmq_run("send", "--connect", address, "hello", "wörld", "third message")
    assert sent.returncode == 0, sent.stderr
    code, out, err = recv.wait()
    assert code == 0, err
    assert out == "hello\nwörld\nthird message\n"


def test_send_reads_stdin_lines_as_they_come(start: type[Running]) -> None:
    """send sends each stdin line at once, while stdin stays open (stdin never blocks I/O)."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "2")
    send = start("send", "--connect", recv.bound(), stdin=True)
    assert send.proc.stdin is not None
    send.proc.stdin.write(b"first line\n")
    send.proc.stdin.flush()
    assert recv.line("first") == "first line"  # arrived although send's stdin is still open
    send.proc.stdin.write(b"second line\n")
    send.proc.stdin.close()
    assert send.wait()[0] == 0
    code, out, _ = recv.wait()
    assert code == 0 and out == "first line\nsecond line\n"


def test_multipart_with_separator_and_json_output(start: type[Running]) -> None:
    """--separator splits stdin lines into frames; --format json prints each message's frames."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "2", "--format", "json")
    sent = gzmq_run("send", "--connect", recv.bound(), "--separator", "|", stdin=b"a|b|c\nsingle\n")
    assert sent.returncode == 0, sent.stderr
    code, out, _ = recv.wait()
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [["a", "b", "c"], ["single"]]


def test_hex_in_hex_out(start: type[Running]) -> None:
    """Binary frames given in hex arrive exactly and print in hex, frames space-separated."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "1", "--format", "hex")
    sent = gzmq_run("send", "--connect", recv.bound(), "--format", "hex", "00ff0a 41")
    assert sent.returncode == 0, sent.stderr
    code, out, _ = recv.wait()
    assert code == 0 and out == "00ff0a 41\n"


def test_json_keeps_binary_frames(start: type[Running]) -> None:
    """A JSON message with {"hex": ...} frames round-trips; invalid UTF-8 prints as hex."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "1", "--format", "json")
    message = '["text", {"hex": "fffe00"}, ""]'
    sent = gzmq_run("send", "--connect", recv.bound(), "--format", "json", message)
    assert sent.returncode == 0, sent.stderr
    code, out, _ = recv.wait()
    assert code == 0
    assert json.loads(out) == ["text", {"hex": "fffe00"}, ""]


def test_raw_stdin_is_one_message(start: type[Running], tmp_path: Path) -> None:
    """--format raw sends all of stdin as one frame, newlines and all; raw output is exact."""
    payload = bytes(range(256)) * 4 + b"\nend\n"
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "1", "--format", "raw")
    sent = subprocess.run(
        [*GZMQ, "send", "--connect", recv.bound(), "--format", "raw"],
        input=payload,
        capture_output=True,
        timeout=20,
    )
    assert sent.returncode == 0, sent.stderr
    assert recv.proc.wait(15) == 0
    assert recv.proc.stdout is not None
    time.sleep(0.05)
    received = b""
    while not recv.lines["stdout"].empty():
        received += recv.lines["stdout"].get()
    assert received == payload


def test_pub_sub_with_subscribe(start: type[Running]) -> None:
    """recv --type sub --subscribe A prints only the messages starting with A."""
    recv = start(
        "recv", "--type", "sub", "--bind", "tcp://127.0.0.1:*", "--subscribe", "A", "--count", "3"
    )
    address = recv.bound()
    # PUB drops what it sends before the subscription arrives: keep publishing for a while.
    send = start(
        "send",
        "--type",
        "pub",
        "--connect",
        address,
        "--count",
        "200",
        "--interval",
        "0.02",
        "A one",
        "B two",
        "A three",
    )
    code, out, _ = recv.wait(timeout=20)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3 and all(line.startswith("A ") for line in lines), lines
    send.kill()


def test_req_rep_replies(start: type[Running]) -> None:
    """recv --type rep answers with --reply; send --type req prints each reply."""
    recv = start(
        "recv", "--type", "rep", "--bind", "tcp://127.0.0.1:*", "--reply", "ok", "--count", "2"
    )
    sent = gzmq_run(
        "send", "--type", "req", "--connect", recv.bound(), "--timeout", "10", "q1", "q2"
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == "ok\nok\n"
    code, out, _ = recv.wait()
    assert code == 0 and out == "q1\nq2\n"


def test_rep_echoes_by_default(start: type[Running]) -> None:
    """Without --reply, a REP socket echoes each request, frames and all."""
    recv = start("recv", "--type", "rep", "--bind", "tcp://127.0.0.1:*", "--count", "1")
    sent = gzmq_run(
        "send",
        "--type",
        "req",
        "--connect",
        recv.bound(),
        "--timeout",
        "10",
        "--separator",
        ",",
        "--format",
        "text",
        "x,y",
    )
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == "x,y\n"  # printed with the same separator
    assert recv.wait()[0] == 0


def test_router_sees_dealer_routing_id(start: type[Running]) -> None:
    """--option routing_id= sets the dealer's identity; the router prints it as frame 1."""
    recv = start(
        "recv",
        "--type",
        "router",
        "--bind",
        "tcp://127.0.0.1:*",
        "--count",
        "1",
        "--format",
        "json",
    )
    sent = gzmq_run(
        "send",
        "--type",
        "dealer",
        "--connect",
        recv.bound(),
        "--option",
        "routing_id=client-7",
        "hello",
    )
    assert sent.returncode == 0, sent.stderr
    code, out, _ = recv.wait()
    assert code == 0 and json.loads(out) == ["client-7", "hello"]


def test_send_count_repeats_arguments(start: type[Running]) -> None:
    """send --count N sends N messages, cycling through the arguments."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "5")
    sent = gzmq_run("send", "--connect", recv.bound(), "--count", "5", "a", "b")
    assert sent.returncode == 0, sent.stderr
    assert recv.wait()[1] == "a\nb\na\nb\na\n"


def test_several_endpoints(start: type[Running], tmp_path: Path) -> None:
    """--bind is repeatable: one recv listens on tcp and ipc and gets from both."""
    recv = start(
        "recv", "--bind", "tcp://127.0.0.1:*", "--bind", f"ipc://{tmp_path}/two.ipc", "--count", "2"
    )
    tcp_address, ipc_address = recv.bound(), recv.bound()
    assert gzmq_run("send", "--connect", tcp_address, "via tcp").returncode == 0
    assert gzmq_run("send", "--connect", ipc_address, "via ipc").returncode == 0
    code, out, _ = recv.wait()
    assert code == 0 and sorted(out.splitlines()) == ["via ipc", "via tcp"]


def test_recv_timeout_is_a_runtime_failure() -> None:
    """recv --timeout with no message exits 1 and says it timed out."""
    done = gzmq_run("recv", "--bind", "tcp://127.0.0.1:*", "--timeout", "0.3")
    assert done.returncode == 1
    assert "timed out" in done.stderr and "0 received" in done.stderr


def test_send_timeout_without_peer_is_a_runtime_failure() -> None:
    """A PUSH with no peer cannot send: --timeout makes send exit 1 with a message."""
    done = gzmq_run("send", "--bind", "tcp://127.0.0.1:*", "--timeout", "0.3", "lost")
    assert done.returncode == 1
    assert "timed out" in done.stderr


@pytest.mark.parametrize("socket_type", ["push", "dealer", "pair", "req", "pub", "xpub", "router"])
@pytest.mark.parametrize("side", ["connect", "bind"])
def test_send_with_no_peer_fails_within_timeout(socket_type: str, side: str) -> None:
    """With no peer, --timeout ends the run (linger included) with exit 1 and says why."""
    endpoint = free_tcp_endpoint() if side == "connect" else "tcp://127.0.0.1:*"
    done = gzmq_run(
        "send", "--type", socket_type, f"--{side}", endpoint, "--timeout", "0.5", "a|b",
        "--separator", "|", timeout=15,
    )
    assert done.returncode == 1, done.stderr
    assert "timed out after 0.5 s" in done.stderr
    assert "no peer connected" in done.stderr and "nothing sent" in done.stderr
    where = "is anything listening at" if side == "connect" else "nothing connected to tcp://"
    assert where in done.stderr, done.stderr


@pytest.mark.parametrize("timeout", [None, "30"])
def test_send_to_an_unresolvable_host_fails_at_once(timeout: str | None) -> None:
    """A --connect host name that does not resolve is an exit 1 naming it, timeout or not."""
    extra = [] if timeout is None else ["--timeout", timeout]
    done = gzmq_run("send", "--connect", "tcp://no-such-host.invalid:5555", *extra, "hi")
    assert done.returncode == 1, done.stderr
    assert "cannot resolve host 'no-such-host.invalid'" in done.stderr


def test_send_waits_for_a_listener_that_comes_later(start: type[Running]) -> None:
    """Without --timeout, send waits for a peer, then delivers and exits 0."""
    endpoint = free_tcp_endpoint()
    send = start("send", "--connect", endpoint, "late", "later")
    recv = start("recv", "--bind", endpoint, "--count", "2")
    code, out, err = recv.wait()
    assert code == 0 and out == "late\nlater\n", err
    code, _, err = send.wait()
    assert code == 0, err


@pytest.mark.parametrize("bound", [["--timeout", "2"], ["--linger", "300"]])
def test_send_fails_when_queued_messages_outlast_the_final_wait(bound: list[str]) -> None:
    """A message handed to a peer that stopped reading outlasts --linger/--timeout: exit 1."""
    peer_script = textwrap.dedent(
        """
        import os, signal, gzmq
        pull = gzmq.Pull(linger=0, receive_high_water_mark=1)
        events = pull.events
        pull.bind("tcp://127.0.0.1:*")
        print(pull.last_endpoint, flush=True)
        events.wait_for("handshake", timeout=20)
        print("ready", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)  # a peer that no longer reads
        """
    )
    peer = subprocess.Popen([sys.executable, "-c", peer_script], stdout=subprocess.PIPE, text=True)
    send = None
    try:
        assert peer.stdout is not None
        endpoint = peer.stdout.readline().strip()
        send = subprocess.Popen(
            [*GZMQ, "send", "--connect", endpoint, "--format", "raw", *bound],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        assert peer.stdout.readline().strip() == "ready"
        assert send.stdin is not None and send.stderr is not None
        send.stdin.write(b"x" * 64_000_000)  # far more than the TCP buffers hold
        send.stdin.close()
        err = send.stderr.read().decode()
        assert send.wait(timeout=30) == 1, err
        assert "1 message handed to a peer, but some still queued" in err, err
        assert bound[0] in err
    finally:
        peer.send_signal(signal.SIGCONT)
        peer.kill()
        peer.wait()
        if send is not None and send.poll() is None:
            send.kill()
            send.wait()


def test_send_stopped_before_handing_over_exits_1(start: type[Running]) -> None:
    """SIGINT while messages wait for a peer exits 1 saying nothing was sent."""
    send = start("send", "--bind", "tcp://127.0.0.1:*", "pending")
    send.bound()  # the socket is up, and the signal handlers with it
    send.proc.send_signal(signal.SIGINT)
    code, _, err = send.wait()
    assert code == 1, err
    assert "gzmq send: stopped" in err and "nothing sent" in err, err


def test_send_stopped_while_stdin_is_idle_exits_0(start: type[Running]) -> None:
    """SIGINT while send waits for the next stdin line, everything read sent, exits 0."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "1")
    send = start("send", "--connect", recv.bound(), stdin=True)
    assert send.proc.stdin is not None
    send.proc.stdin.write(b"only line\n")
    send.proc.stdin.flush()
    assert recv.wait()[1] == "only line\n"
    send.proc.send_signal(signal.SIGINT)
    code, _, err = send.wait()
    assert code == 0, err


def test_router_send_to_an_unknown_routing_id_fails(start: type[Running]) -> None:
    """send --type router routes by the first frame; a routing id nobody has is an exit 1."""
    send = start(
        "send", "--type", "router", "--bind", "tcp://127.0.0.1:*", "--timeout", "10",
        "--separator", "|", "nobody|hello",
    )
    dealer = start(
        "recv", "--type", "dealer", "--connect", send.bound(), "--option", "routing_id=a"
    )
    code, _, err = send.wait()
    assert code == 1
    assert "message 1: no connected peer has routing id b'nobody'" in err
    dealer.kill()


def test_router_send_reaches_the_peer_it_names(start: type[Running]) -> None:
    """send --type router waits for a peer and delivers to the routing id in frame 1."""
    send = start(
        "send", "--type", "router", "--bind", "tcp://127.0.0.1:*", "--timeout", "10",
        "--separator", "|", "a|hello",
    )
    dealer = start(
        "recv", "--type", "dealer", "--connect", send.bound(), "--option", "routing_id=a",
        "--count", "1",
    )
    code, out, err = dealer.wait()
    assert code == 0 and out == "hello\n", err
    assert send.wait()[0] == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["send", "--connect", "nowhere", "x"], "not an endpoint"),
        (["recv", "--bind", "carrier-pigeon://coop"], "unknown transport"),
        (["send", "x"], "--bind or --connect"),
        (
            ["send", "--type", "sub", "--connect", "tcp://127.0.0.1:1", "x"],
            "cannot be used to send",
        ),
        (["recv", "--type", "push", "--bind", "tcp://127.0.0.1:*"], "cannot be used to receive"),
        (
            ["recv", "--type", "pull", "--subscribe", "a", "--bind", "tcp://127.0.0.1:*"],
            "--subscribe needs --type sub",
        ),
        (["send", "--type", "bogus", "--connect", "tcp://127.0.0.1:1"], "unknown socket type"),
        (["send", "--option", "lingr=0", "--connect", "tcp://127.0.0.1:1", "x"], "lingr"),
        (
            ["send", "--option", "linger=soon", "--connect", "tcp://127.0.0.1:1", "x"],
            "whole number",
        ),
        (["recv", "--count", "0", "--bind", "tcp://127.0.0.1:*"], ">= 1"),
        (["recv", "--timeout", "never", "--bind", "tcp://127.0.0.1:*"], "seconds"),
        (["recv", "--reply", "x", "--bind", "tcp://127.0.0.1:*"], "--reply needs --type rep"),
    ],
)
def test_usage_errors_exit_2(args: list[str], expected: str) -> None:
    """Bad arguments exit 2 with a message saying what is wrong."""
    done = gzmq_run(*args)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["recv", "--bind", "tcp://127.0.0.1:99999"], "out of range"),
        (["recv", "--bind", "tcp://192.0.2.1:5555"], "tcp://192.0.2.1:5555"),
        (["send", "--format", "hex", "--connect", "tcp://127.0.0.1:1", "zz"], "hexadecimal"),
        (["send", "--format", "json", "--connect", "tcp://127.0.0.1:1", "[1]"], "JSON"),
    ],
)
def test_runtime_failures_exit_1(args: list[str], expected: str) -> None:
    """An endpoint libzmq refuses, or a message that does not parse, exits 1 naming it."""
    done = gzmq_run(*args)
    assert done.returncode == 1, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_bind_in_use_exits_1(start: type[Running]) -> None:
    """Binding an endpoint another process holds exits 1 with libzmq's reason."""
    holder = start("recv", "--bind", "tcp://127.0.0.1:*")
    address = holder.bound()
    done = gzmq_run("recv", "--bind", address)
    assert done.returncode == 1
    assert address in done.stderr and "in use" in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_ends_recv_cleanly(start: type[Running], signum: int) -> None:
    """Ctrl-C (SIGINT) or SIGTERM ends a waiting recv promptly with status 0."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*")
    recv.bound()
    recv.proc.send_signal(signum)
    code, _, err = recv.wait(timeout=5)
    assert code == 0, err
    assert "Traceback" not in err


# -- monitor ------------------------------------------------------------------------------


def test_monitor_shows_peer_connect_handshake_and_disconnect(start: type[Running]) -> None:
    """monitor prints connect and handshake when a peer appears, disconnect when it goes."""
    address = free_tcp_endpoint()
    monitor = start("monitor", address, "--type", "dealer", "--json")
    first = json.loads(monitor.line(r'"type": "connect:(delay|retry)"'))
    assert first["address"] == address
    peer = start("recv", "--type", "router", "--bind", address)
    connect = json.loads(monitor.line(r'"type": "connect"'))
    handshake = json.loads(monitor.line(r'"type": "handshake"'))
    assert connect["address"] == handshake["address"] == address
    assert handshake["time"] >= connect["time"]
    peer.proc.terminate()
    assert peer.wait()[0] == 0
    json.loads(monitor.line(r'"type": "disconnect"'))
    monitor.proc.send_signal(signal.SIGINT)
    assert monitor.wait(timeout=5)[0] == 0


def test_monitor_text_count_and_bind(start: type[Running]) -> None:
    """monitor --bind prints the bind event as text; --count ends it after N events."""
    done = gzmq_run("monitor", "--bind", "tcp://127.0.0.1:*", "--count", "1")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} bind tcp://127\.0\.0\.1:\d+\n", done.stdout)


def test_monitor_duration_ends_it() -> None:
    """monitor --duration stops it after that long, status 0."""
    started = time.monotonic()
    done = gzmq_run("monitor", free_tcp_endpoint(), "--duration", "0.5")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 15
    assert "connect:" in done.stdout


# -- proxy --------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_proxy_forwards_pipeline_and_prints_statistics(
    start: type[Running], transport: str, tmp_path: Path
) -> None:
    """proxy PULL|PUSH forwards send's messages to recv and prints statistics; SIGTERM ends it."""
    if transport == "tcp":
        ends = ["tcp://127.0.0.1:*", "tcp://127.0.0.1:*"]
    else:
        ends = [f"ipc://{tmp_path}/front.ipc", f"ipc://{tmp_path}/back.ipc"]
    proxy = start(
        "proxy", "--front-type", "pull", "--back-type", "push", "--interval", "0.1", *ends
    )
    front, back = proxy.bound(), proxy.bound()
    if transport == "ipc":
        assert (front, back) == tuple(ends)
    recv = start("recv", "--connect", back, "--count", "3")
    sent = gzmq_run("send", "--connect", front, "one", "two", "three")
    assert sent.returncode == 0, sent.stderr
    code, out, _ = recv.wait()
    assert code == 0 and out == "one\ntwo\nthree\n"
    stats = proxy.line(r"^front: in 3 / 11 B", "stderr")
    assert re.search(r"\| back: in 0 / 0 B, out 3 / 11 B \| [\d,]+ frames/s$", stats), stats
    proxy.proc.terminate()
    code, _, err = proxy.wait(timeout=10)
    assert code == 0, err
    assert "Traceback" not in err
    last = err.rstrip("\n").rsplit("\n", 1)[-1]
    assert last.startswith("stopped: front: in 3 / 11 B, out 0 / 0 B | back:"), err


def test_proxy_router_dealer_request_reply(start: type[Running]) -> None:
    """The default ROUTER|DEALER proxy carries REQ requests to a REP and the replies back."""
    proxy = start("proxy", "--interval", "0.2", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")
    front, back = proxy.bound(), proxy.bound()
    server = start("recv", "--type", "rep", "--connect", back, "--reply", "pong", "--count", "2")
    done = gzmq_run("send", "--type", "req", "--connect", front, "--timeout", "10", "ping", "ping")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "pong\npong\n"
    assert server.wait()[1] == "ping\nping\n"
    proxy.proc.send_signal(signal.SIGINT)
    code, _, err = proxy.wait(timeout=10)
    assert code == 0, err
    assert "Traceback" not in err


def test_proxy_connects_both_ends(start: type[Running]) -> None:
    """--connect-front/--connect-back: a proxy between a bound sender and a bound receiver."""
    recv = start("recv", "--bind", "tcp://127.0.0.1:*", "--count", "2")
    receiver = recv.bound()
    send = start("send", "--bind", "tcp://127.0.0.1:*", "--timeout", "15", "a", "b")
    sender = send.bound()
    proxy = start(
        "proxy",
        "--front-type",
        "pull",
        "--back-type",
        "push",
        "--connect-front",
        "--connect-back",
        "--quiet",
        sender,
        receiver,
    )
    code, out, _ = recv.wait()
    assert code == 0 and out == "a\nb\n"
    assert send.wait()[0] == 0
    proxy.proc.terminate()
    code, _, err = proxy.wait(timeout=10)
    assert code == 0 and err == "", err  # --quiet: no statistics, and nothing bound


def test_proxy_duration_ends_it() -> None:
    """proxy --duration stops it after that long: status 0 and the final statistics."""
    started = time.monotonic()
    done = gzmq_run(
        "proxy", "--duration", "0.5", "--interval", "0.1", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 15
    assert "stopped: front: in 0 / 0 B" in done.stderr


def test_proxy_endpoint_in_use_exits_1(start: type[Running]) -> None:
    """proxy exits 1 naming the endpoint when it cannot bind it."""
    holder = start("recv", "--bind", "tcp://127.0.0.1:*")
    taken = holder.bound()
    done = gzmq_run("proxy", "tcp://127.0.0.1:*", taken)
    assert done.returncode == 1
    assert taken in done.stderr and "in use" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nowhere", "tcp://127.0.0.1:*"], "not an endpoint"),
        (["tcp://127.0.0.1:*", "smoke://signal"], "unknown transport"),
        (["tcp://127.0.0.1:*"], "the following arguments are required: BACK"),
        (["--front-type", "push", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"], "front end must"),
        (["--back-type", "sub", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"], "back end must"),
        (["--front-type", "nope", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"], "unknown socket"),
        (["--interval", "0", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"], "--interval"),
        (
            ["--front-option", "lingr=0", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"],
            "lingr",
        ),
        (["--capture", "bogus", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"], "not an endpoint"),
    ],
)
def test_proxy_usage_errors_exit_2(args: list[str], expected: str) -> None:
    """Bad proxy arguments (endpoints, types, options) exit 2 saying what is wrong."""
    done = gzmq_run("proxy", *args)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_proxy_capture_gets_copies(start: type[Running]) -> None:
    """proxy --capture publishes a copy of every frame it forwards."""
    proxy = start(
        "proxy",
        "--front-type",
        "pull",
        "--back-type",
        "push",
        "--capture",
        "tcp://127.0.0.1:*",
        "--quiet",
        "tcp://127.0.0.1:*",
        "tcp://127.0.0.1:*",
    )
    front, back = proxy.bound(), proxy.bound()
    capture = proxy.line(r"capture bound ", "stderr").rsplit(" ", 1)[-1]
    spy = start("recv", "--type", "sub", "--connect", capture, "--count", "1")
    # The consumer keeps reading (a PUSH with no peer would hold the proxy back), and the
    # spy's subscription takes a moment to reach the capture PUB: send until it sees one.
    consumer = start("recv", "--connect", back)
    sent = start("send", "--connect", front, "--count", "500", "--interval", "0.02", "copy me")
    assert spy.wait()[1] == "copy me\n"
    assert consumer.line("copy me") == "copy me"
    sent.kill()


def test_proxy_pub_sub(start: type[Running]) -> None:
    """An XSUB|XPUB proxy passes subscriptions upstream and matching messages down."""
    proxy = start(
        "proxy",
        "--front-type",
        "xsub",
        "--back-type",
        "xpub",
        "--quiet",
        "tcp://127.0.0.1:*",
        "tcp://127.0.0.1:*",
    )
    front, back = proxy.bound(), proxy.bound()
    subscriber = start(
        "recv", "--type", "sub", "--connect", back, "--subscribe", "yes", "--count", "2"
    )
    publisher = start(
        "send",
        "--type",
        "pub",
        "--connect",
        front,
        "--count",
        "500",
        "--interval",
        "0.02",
        "yes 1",
        "no 2",
    )
    code, out, _ = subscriber.wait()
    assert code == 0 and out == "yes 1\nyes 1\n"
    publisher.kill()


# -- keygen -------------------------------------------------------------------------------


def test_keygen_prints_a_valid_keypair() -> None:
    """keygen prints a public and a secret Z85 key that belong together, fresh each time."""
    keys = []
    for _ in range(2):
        done = gzmq_run("keygen")
        assert done.returncode == 0, done.stderr
        match = re.fullmatch(r"public: (\S{40})\nsecret: (\S{40})\n", done.stdout)
        assert match is not None, done.stdout
        public, secret = match.groups()
        assert zmq.curve_public(secret.encode()) == public.encode()
        keys.append(secret)
    assert keys[0] != keys[1]


def test_keygen_json() -> None:
    """keygen --json prints {"public": ..., "secret": ...} with a matching pair."""
    done = gzmq_run("keygen", "--json")
    assert done.returncode == 0, done.stderr
    keys = json.loads(done.stdout)
    assert set(keys) == {"public", "secret"}
    assert zmq.curve_public(keys["secret"].encode()) == keys["public"].encode()


def test_keygen_keys_secure_a_real_connection(start: type[Running]) -> None:
    """Keys printed by keygen secure a CURVE REQ/REP exchange between two gzmq processes."""
    server = json.loads(gzmq_run("keygen", "--json").stdout)
    client = json.loads(gzmq_run("keygen", "--json").stdout)
    rep = start(
        "recv",
        "--type",
        "rep",
        "--bind",
        "tcp://127.0.0.1:*",
        "--option",
        "curve_server=true",
        "--option",
        f"curve_secret_key={server['secret']}",
        "--reply",
        "secret handshake ok",
        "--count",
        "1",
    )
    done = gzmq_run(
        "send",
        "--type",
        "req",
        "--connect",
        rep.bound(),
        "--option",
        f"curve_server_key={server['public']}",
        "--option",
        f"curve_public_key={client['public']}",
        "--option",
        f"curve_secret_key={client['secret']}",
        "--timeout",
        "10",
        "hello",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "secret handshake ok\n"
    assert rep.wait()[1] == "hello\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--name", "x"], "--name and --force go with --dir"),
        (["--force"], "--name and --force go with --dir"),
        (["--dir", "certs", "--name", "a/b"], "plain file name"),
        (["--dir", "certs", "--name", ""], "plain file name"),
    ],
)
def test_keygen_usage_errors_exit_2(args: list[str], expected: str, tmp_path: Path) -> None:
    """keygen arguments that do not fit together exit 2 saying why, writing nothing."""
    done = subprocess.run(
        [*GZMQ, "keygen", *args], capture_output=True, text=True, timeout=20, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_keygen_writes_certificates_that_auth_and_pyzmq_read(tmp_path: Path) -> None:
    """keygen --dir D --name N writes N.key and N.key_secret; gzmq.auth and zmq.auth read them."""
    from gzmq import auth

    directory = tmp_path / "certs"  # made when missing
    done = gzmq_run("keygen", "--dir", str(directory), "--name", "server")
    assert done.returncode == 0, done.stderr
    public_file, secret_file = directory / "server.key", directory / "server.key_secret"
    assert done.stdout == (
        f"public: {auth.load_certificate(public_file).public}\n"
        f"public file: {public_file}\nsecret file: {secret_file}\n"
    )
    public, secret = auth.load_certificate(secret_file)
    assert secret is not None
    assert auth.load_certificate(public_file) == (public, None)
    assert zmq.auth.load_certificate(str(secret_file)) == (public.encode(), secret.encode())
    assert zmq.curve_public(secret.encode()) == public.encode()
    assert secret_file.stat().st_mode & 0o077 == 0  # the secret is private to its owner


def test_keygen_json_with_dir(tmp_path: Path) -> None:
    """keygen --dir --json prints the public key and both file paths as JSON; name defaults."""
    done = gzmq_run("keygen", "--dir", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record == {
        "public": record["public"],
        "public_file": str(tmp_path / "gzmq.key"),
        "secret_file": str(tmp_path / "gzmq.key_secret"),
    }
    assert zmq.auth.load_certificate(record["public_file"])[0] == record["public"].encode()


def test_keygen_refuses_to_overwrite_unless_force(tmp_path: Path) -> None:
    """keygen --dir exits 1 and leaves existing certificate files alone; --force replaces them."""
    assert gzmq_run("keygen", "--dir", str(tmp_path), "--name", "c").returncode == 0
    secret_file = tmp_path / "c.key_secret"
    before = secret_file.read_bytes()
    again = gzmq_run("keygen", "--dir", str(tmp_path), "--name", "c")
    assert again.returncode == 1
    assert str(secret_file) in again.stderr and "--force" in again.stderr
    assert again.stdout == "" and "Traceback" not in again.stderr
    assert secret_file.read_bytes() == before
    (tmp_path / "d.key").write_text("someone else's\n")  # half a certificate counts too
    half = gzmq_run("keygen", "--dir", str(tmp_path), "--name", "d")
    assert half.returncode == 1 and "d.key already exists" in half.stderr
    assert (tmp_path / "d.key").read_text() == "someone else's\n"
    forced = gzmq_run("keygen", "--dir", str(tmp_path), "--name", "c", "--force")
    assert forced.returncode == 0, forced.stderr
    assert secret_file.read_bytes() != before
    public, secret = zmq.auth.load_certificate(str(secret_file))
    assert secret is not None and zmq.curve_public(secret) == public


def test_keygen_unwritable_dir_exits_1(tmp_path: Path) -> None:
    """keygen --dir under a regular file exits 1 naming the directory."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    done = gzmq_run("keygen", "--dir", str(blocker / "sub"))
    assert done.returncode == 1
    assert str(blocker / "sub") in done.stderr and "Traceback" not in done.stderr
