"""Hostile input (issue 10): fuzzed ZMTP from raw TCP clients, oversized messages, bad API calls.

The fuzzing target is a separate process (``_child_fuzz_target``) holding
bound gzmq sockets of several types and mechanisms (NULL, PLAIN, CURVE, with
a gzmq.auth.Authenticator answering ZAP); the test holds conversations of
random and mutated ZMTP with them from raw Python sockets, from a seeded
generator (reproducible: the seed is in the test id), waiting for the
target's answers between the handshake steps so that messages are parsed
too, then checks that the process is alive, answers well-formed gzmq peers
on every socket, and has let go of the hostile connections (file
descriptors and memory back near where they were).

The table-driven test gives every public entry point (socket classes,
options, Context, Observer, Proxy, gzmq.green) bad input and checks the
error type and that its message names the fault.
"""

from __future__ import annotations

import errno
import itertools
import json
import math
import os
import random
import socket as pysocket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
import gevent.socket
import gevent.subprocess
import pytest
import zmq

import gzmq
import gzmq.green

TESTS = Path(__file__).resolve().parent
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); import test_hostile; "
    "test_hostile.child_main(sys.argv[1:])"
)
_names = itertools.count()


# -- ZMTP, written by hand --------------------------------------------------------------------


def greeting(mechanism: bytes = b"NULL", *, as_server: int = 0, minor: int = 0) -> bytes:
    """A ZMTP 3.x greeting (64 bytes)."""
    return (
        b"\xff" + bytes(8) + b"\x7f" + bytes([3, minor])
        + mechanism.ljust(20, b"\0") + bytes([as_server]) + bytes(31)
    )


def frame(body: bytes, *, more: bool = False, command: bool = False) -> bytes:
    """One ZMTP 3.x frame: flags, a short (1 byte) or long (8 bytes) size, the body."""
    flags = (1 if more else 0) | (4 if command else 0)
    if len(body) > 255:
        return bytes([flags | 2]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def command(name: bytes, data: bytes = b"") -> bytes:
    return frame(bytes([len(name)]) + name + data, command=True)


def metadata(**properties: bytes) -> bytes:
    out = b""
    for name, value in properties.items():
        key = name.replace("_", "-").encode()
        out += bytes([len(key)]) + key + struct.pack(">I", len(value)) + value
    return out


def ready(socket_type: bytes) -> bytes:
    return command(b"READY", metadata(Socket_Type=socket_type))


def message(*frames: bytes) -> bytes:
    return b"".join(frame(f, more=i < len(frames) - 1) for i, f in enumerate(frames))


def plain_hello(user: bytes = b"user", password: bytes = b"secret") -> bytes:
    return command(b"HELLO", bytes([len(user)]) + user + bytes([len(password)]) + password)


def handshake(connection: Any, socket_type: bytes) -> None:
    """Complete a NULL handshake as a raw client: send ours, read the server's greeting and READY.

    libzmq rejects a message that arrives before it has sent its own READY
    (as "unexpected command"), so a well-behaved raw peer waits for it.
    """
    connection.sendall(greeting() + ready(socket_type))

    def read_exactly(size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            assert chunk, "the server hung up during the handshake"
            data += chunk
        return data

    assert read_exactly(64)[10] == 3, "not a ZMTP 3 greeting"
    flags, size = read_exactly(2)
    assert flags & 4, "the server's first frame is not a command"
    if flags & 2:
        size = struct.unpack(">Q", bytes([size]) + read_exactly(7))[0]
    assert read_exactly(size).startswith(b"\x05READY")


def curve_hello(rng: random.Random) -> bytes:
    """A CURVE HELLO of the right shape with random keys and box: it cannot decrypt."""
    return command(b"HELLO", b"\x01\x00" + bytes(72) + rng.randbytes(32 + 8 + 80))


# -- the fuzzing target (a helper process) ----------------------------------------------------

#: name -> (socket class, mechanism, the ZMTP socket type a well-formed peer announces)
TARGETS: dict[str, tuple[str, str, bytes]] = {
    "router-null": ("Router", "null", b"DEALER"),
    "reply-null": ("Reply", "null", b"REQ"),
    "pull-null": ("Pull", "null", b"PUSH"),
    "xpublisher-null": ("XPublisher", "null", b"SUB"),
    "stream-null": ("Stream", "null", b""),
    "router-plain": ("Router", "plain", b"DEALER"),
    "router-curve": ("Router", "curve", b"DEALER"),
}


def child_main(argv: list[str]) -> None:
    """Entry point of a helper process: run ``_child_<argv[0]>(*argv[1:])``."""
    name, *args = argv
    globals()[f"_child_{name}"](*args)


def _say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def _child_fuzz_target(curve_secret: str) -> None:
    """Bind one socket per TARGETS entry and serve: echo, or report probes, or publish them."""
    from gzmq.auth import ANY, Authenticator

    # libzmq 4.3.5 refuses every PLAIN client when no ZAP handler serves the
    # context; with one, CURVE handshakes are put to it too.
    authenticator = Authenticator()
    authenticator.configure_plain(passwords={"user": "secret"})
    authenticator.configure_curve(keys=ANY)
    authenticator.start()
    endpoints = {}
    greenlets = []
    for name, (class_name, mechanism, _) in TARGETS.items():
        options: dict[str, Any] = {"linger": 0, "handshake_interval": 2000}
        if mechanism == "plain":
            options["plain_server"] = True
        elif mechanism == "curve":
            options.update(curve_server=True, curve_secret_key=curve_secret)
        sock = getattr(gzmq, class_name)(**options)
        sock.bind("tcp://127.0.0.1:*")
        endpoints[name] = sock.last_endpoint
        if class_name in ("Router", "Reply", "Stream"):
            greenlets.append(gevent.spawn(_echo, sock))
        elif class_name == "Pull":
            greenlets.append(gevent.spawn(_report_probes, sock))
        else:
            greenlets.append(gevent.spawn(_publish_probes, sock))
    _say(ready=endpoints)
    gevent.joinall(greenlets, raise_error=True)


def _echo(sock: Any) -> None:
    stream = isinstance(sock, gzmq.Stream)
    reply = isinstance(sock, gzmq.Reply)
    for received in sock:
        if not stream:
            sock.send(received)
            if reply and received[0].startswith(b"probe"):
                _say(replied=received[0].decode())
            continue
        if received[-1] == b"":
            continue  # a Stream's connect/disconnect notice: echoing it would hang up
        try:
            # libzmq's STREAM answers EAGAIN forever for a peer that has gone
            # while its disconnect notice is unread, and EHOSTUNREACH after:
            # a blocking send would wait for ever, so drop the echo instead.
            sock.send(received, timeout=0)
        except zmq.ZMQError as error:
            if error.errno not in (zmq.EAGAIN, zmq.EHOSTUNREACH):
                raise


def _report_probes(sock: gzmq.Pull) -> None:
    for received in sock:
        if received[0].startswith(b"probe"):
            _say(pulled=received[0].decode())


def _publish_probes(sock: gzmq.XPublisher) -> None:
    def drain() -> None:
        for _ in sock:  # subscriptions, hostile or not
            pass

    gevent.spawn(drain)
    while True:
        sock.send(b"probe")
        gevent.sleep(0.02)


class Target:
    """The fuzzing target process and the endpoints of its sockets."""

    def __init__(self) -> None:
        self.server_keys = gzmq.curve_keypair()
        self._stderr = tempfile.TemporaryFile()
        self.proc = gevent.subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(TESTS), "fuzz_target", self.server_keys.secret],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.endpoints: dict[str, str] = self.read()["ready"]

    def read(self, timeout: float = 15.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = ""
        with gevent.Timeout(timeout, False):
            line = self.proc.stdout.readline()
        if not line:
            pytest.fail(f"the fuzzing target is gone or silent ({self.proc.poll()}):\n"
                        f"{self.stderr()}")
        result: dict[str, Any] = json.loads(line)
        return result

    def saw(self, key: str, value: str, timeout: float = 10.0) -> bool:
        """Whether the target reports ``{key: value}`` within ``timeout`` (skipping other lines)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.stdout is not None
            line = ""
            with gevent.Timeout(max(0.01, deadline - time.monotonic()), False):
                line = self.proc.stdout.readline()
            if line and json.loads(line).get(key) == value:
                return True
            if not line and not self.alive():
                return False
        return False

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self._stderr.close()

    def host_port(self, name: str) -> tuple[str, int]:
        host, port = self.endpoints[name][len("tcp://"):].rsplit(":", 1)
        return host, int(port)

    def check_serves(self, name: str, number: int) -> None:
        """A well-formed peer gets an answer from socket ``name`` (within generous time)."""
        class_name, mechanism, _ = TARGETS[name]
        endpoint = self.endpoints[name]
        probe = f"probe {name} {number}".encode()
        options: dict[str, Any] = {"linger": 0}
        if mechanism == "plain":
            options.update(plain_username="user", plain_password="secret")
        elif mechanism == "curve":
            client = gzmq.curve_keypair()
            options.update(
                curve_server_key=self.server_keys.public,
                curve_public_key=client.public,
                curve_secret_key=client.secret,
            )
        if class_name == "Router":
            with gzmq.Dealer(**options) as dealer:
                dealer.connect(endpoint)
                dealer.send(probe)
                assert dealer.recv(timeout=10) == [probe]
        elif class_name == "Reply":
            for attempt in range(2):
                with gzmq.Request(**options) as request:
                    request.connect(endpoint)
                    request.send(probe)
                    try:
                        assert request.recv(timeout=10) == [probe]
                        break
                    except zmq.Again:
                        # libzmq 4.3.5's REP loses the reply to the first good
                        # request after a malformed one (no empty delimiter) from
                        # a peer that has gone: its router keeps a stale "more"
                        # flag.  Pure pyzmq does the same.  Retry once, with a
                        # fresh REQ, only if gzmq did receive and answer.
                        assert attempt == 0, f"{name}: two replies lost in a row"
                        assert self.saw("replied", probe.decode()), (
                            f"{name}: the request never reached the echoing greenlet"
                        )
        elif class_name == "Pull":
            with gzmq.Push(**options) as push:
                push.connect(endpoint)
                push.send(probe)
                assert self.saw("pulled", probe.decode()), f"{name}: the probe never arrived"
        elif class_name == "XPublisher":
            with gzmq.Subscriber(**options) as sub:
                sub.subscribe("probe")
                sub.connect(endpoint)
                assert sub.recv(timeout=10) == [b"probe"]
        else:  # Stream: raw bytes, echoed
            connection = gevent.socket.create_connection(self.host_port(name), timeout=10)
            with connection:
                connection.sendall(probe)
                echoed = b""
                while len(echoed) < len(probe):
                    chunk = connection.recv(4096)
                    assert chunk, "the Stream socket closed a well-formed connection"
                    echoed += chunk
                assert echoed == probe


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    """One fuzzing target process for the module (its sockets survive every test)."""
    made = Target()
    yield made
    made.close()


# -- the fuzzer ------------------------------------------------------------------------------


#: A hostile client's byte stream, in chunks: after each chunk but the last it waits for the
#: target's answer (its greeting, READY, WELCOME...) as a real peer does; libzmq rejects
#: messages sent before its own READY, so without the pauses no message would be parsed.
Case = list[bytes]


def _valid_stream(name: str, rng: random.Random) -> Case:
    """A well-formed conversation for target ``name``: greeting, handshake, a few messages.

    CURVE stops at a HELLO whose box cannot be opened (the test has no crypto).
    """
    _, mechanism, socket_type = TARGETS[name]
    if mechanism == "null":
        chunks = [greeting(b"NULL", minor=rng.choice([0, 1])) + ready(socket_type)]
    elif mechanism == "plain":
        user, password = rng.choice([(b"user", b"secret"), (b"user", b"wrong"), (b"", b"")])
        chunks = [
            greeting(b"PLAIN") + plain_hello(user, password),
            command(b"INITIATE", metadata(Socket_Type=socket_type)),
        ]
    else:
        return [greeting(b"CURVE") + curve_hello(rng)]
    if socket_type == b"REQ":
        body = message(b"", b"request") + message(b"no delimiter", b"request")
    elif socket_type == b"SUB":
        body = message(b"\x01probe") + command(b"SUBSCRIBE", b"pro") + message(b"\x00pro")
    else:
        body = message(b"part one", b"part two") + message(rng.randbytes(rng.randint(0, 300)))
    return [*chunks, body]


def _truncate(chunks: Case, rng: random.Random) -> Case:
    """The conversation cut off at a random byte."""
    cut = rng.randrange(sum(map(len, chunks)) + 1)
    out = []
    for chunk in chunks:
        if cut <= 0:
            break
        out.append(chunk[:cut])
        cut -= len(chunk)
    return out


_HUGE_SIZES = [2**63 - 1, 2**63, 2**64 - 1, 2**40, 2**32, 2**31, 256, 0]


def _garbage_frames(rng: random.Random) -> bytes:
    """Frames with random flags (reserved bits too) and sizes that lie."""
    out = b""
    for _ in range(rng.randint(1, 6)):
        flags = rng.randrange(256)
        if flags & 2:
            out += bytes([flags]) + struct.pack(">Q", rng.choice(_HUGE_SIZES))
        else:
            out += bytes([flags, rng.randrange(256)])
        out += rng.randbytes(rng.randint(0, 64))
    return out


def _odd_commands(rng: random.Random) -> bytes:
    """Commands that exist, with wrong contents, and ones that do not exist."""
    choices = [
        command(b"PING", struct.pack(">H", rng.randrange(65536)) + rng.randbytes(20)),
        command(b"PONG", rng.randbytes(rng.randint(0, 40))),
        command(b"ERROR", bytes([200]) + b"short"),
        command(b"READY", b"\x0bSocket-Type\xff\xff\xff\xffX"),  # a value length that lies
        command(b"READY", metadata(Socket_Type=b"NOSUCHTYPE")),
        command(b"SUBSCRIBE", rng.randbytes(10)),
        command(b"CANCEL", b""),
        command(b"", rng.randbytes(5)),
        command(rng.randbytes(rng.randint(1, 20))),
        frame(b"\xff", command=True),  # the name's length runs past the frame
    ]
    return b"".join(rng.choice(choices) for _ in range(rng.randint(1, 4)))


def _old_protocols(rng: random.Random) -> bytes:
    """ZMTP 1.0 and 2.0 openings (libzmq still speaks them), some broken."""
    choices = [
        b"\x01\x00" + rng.randbytes(rng.randint(0, 30)),  # 1.0: an anonymous identity
        b"\xff" + bytes(8) + b"\x7f" + b"\x01" + bytes([rng.randrange(12)]) + b"\x00\x00",
        b"\xff" + bytes(8) + b"\x7f" + b"\x01\x05" + b"\x00\xff" + rng.randbytes(300),
        b"\xff" + struct.pack(">Q", rng.choice(_HUGE_SIZES)) + b"\x7f" + rng.randbytes(20),
        b"\x05\x00abcd" + b"\xff\x00" + rng.randbytes(50),
    ]
    return rng.choice(choices)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """A few random byte-level mutations: flips, overwrites, insertions, deletions, repeats."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buffer:
            buffer += rng.randbytes(rng.randint(1, 16))
            continue
        at = rng.randrange(len(buffer))
        kind = rng.randrange(6)
        if kind == 0:
            buffer[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            buffer[at] = rng.choice([0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF, rng.randrange(256)])
        elif kind == 2:
            buffer[at:at] = rng.randbytes(rng.randint(1, 32))
        elif kind == 3:
            del buffer[at:at + rng.randint(1, 32)]
        elif kind == 4:
            end = min(len(buffer), at + rng.randint(1, 64))
            buffer[at:at] = buffer[at:end] * rng.randint(2, 5)
        else:
            del buffer[at:]
    return bytes(buffer)


def fuzz_case(name: str, rng: random.Random) -> Case:
    """One hostile conversation with target ``name``."""
    _, mechanism, socket_type = TARGETS[name]
    mechanism_name = {"null": b"NULL", "plain": b"PLAIN", "curve": b"CURVE"}[mechanism]
    kind = rng.randrange(9)
    if kind == 0:
        return [rng.randbytes(rng.randint(0, 600))]
    if kind == 1:
        return _truncate(_valid_stream(name, rng), rng)
    if kind in (2, 3):  # one chunk mutated: the handshake, or the messages after it
        chunks = _valid_stream(name, rng)
        at = rng.randrange(len(chunks))
        chunks[at] = _mutate(chunks[at], rng)
        return chunks
    if kind == 4:  # a good handshake, then frames with lying flags and sizes
        return [*_valid_stream(name, rng)[:-1], _garbage_frames(rng)]
    if kind == 5:
        opening = [greeting(mechanism_name)]
        if mechanism == "null":
            opening = [opening[0] + ready(socket_type)]
        return [*opening, _odd_commands(rng)]
    if kind == 6:
        return [_mutate(_old_protocols(rng), rng) if rng.random() < 0.5 else _old_protocols(rng)]
    if kind == 7:  # a good conversation, every chunk mutated a little
        return [_mutate(chunk, rng) for chunk in _valid_stream(name, rng)]
    # A greeting with an odd version or mechanism, then anything.
    weird = greeting(
        rng.choice([b"NULL", b"PLAIN", b"CURVE", b"GSSAPI", b"", rng.randbytes(20)]),
        as_server=rng.randrange(256),
        minor=rng.randrange(256),
    )
    weird = weird[:10] + bytes([rng.choice([0, 1, 2, 3, 4, 255])]) + weird[11:]
    return [weird, rng.randbytes(rng.randint(0, 100))]


def _answer(connection: Any) -> bool:
    """Read what the target sends until it has been quiet 50 ms (at most 1 s); False on EOF."""
    deadline = time.monotonic() + 1.0
    connection.settimeout(0.05)
    try:
        while time.monotonic() < deadline:
            if not connection.recv(4096):
                return False
    except TimeoutError:
        return True
    finally:
        connection.settimeout(5)
    return True


def _attack(address: tuple[str, int], chunks: Case, rng: random.Random) -> None:
    """Write ``chunks`` in random pieces, awaiting an answer between chunks, then close
    (FIN or RST), perhaps after reading a little."""
    try:
        connection = gevent.socket.create_connection(address, timeout=5)
    except OSError:
        return  # the listener's backlog was full for a moment: not a failure of the target
    try:
        for number, data in enumerate(chunks):
            if number and not _answer(connection):
                break  # the target hung up
            offset = 0
            while offset < len(data):
                size = rng.randint(1, 200)
                connection.sendall(data[offset:offset + size])
                offset += size
                if rng.random() < 0.3:
                    gevent.sleep(0.001)
        ending = rng.randrange(3)
        if ending == 0:
            connection.settimeout(0.05)
            try:
                connection.recv(4096)
            except OSError:
                pass  # a timeout or a reset: the target may do either
        elif ending == 1:
            connection.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass  # the target hung up on us mid-write: that is its right
    finally:
        connection.close()


def _settled(measure: Callable[[], int], limit: int, seconds: float) -> int:
    """Poll ``measure`` until it is at most ``limit`` (or time runs out); its last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = measure()
        if value <= limit or time.monotonic() > deadline:
            return value
        gevent.sleep(0.1)


CASES = 600  # per socket and seed


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", [1])
@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzzed_zmtp_never_crashes_or_hangs_and_socket_keeps_serving(
    name: str, seed: int, target: Target
) -> None:
    """Fuzzed ZMTP from raw clients: the process lives, all sockets serve, connections are freed."""
    for other in TARGETS:
        target.check_serves(other, 0)  # also warms every socket up before the baseline
    fds_before, rss_before = target.fds(), target.rss_kib()
    rng = random.Random(f"{name}/{seed}")
    address = target.host_port(name)
    cases = [(fuzz_case(name, rng), random.Random(rng.random())) for _ in range(CASES)]
    # A few idle half-greetings: the handshake_interval (2 s) must cut them off
    # (a Stream is raw TCP: it has no handshake to time out).
    stream = TARGETS[name][0] == "Stream"
    idle = [gevent.socket.create_connection(address, timeout=10) for _ in range(0 if stream else 3)]
    for connection in idle:
        connection.sendall(greeting()[:5])
    for start in range(0, CASES, 25):
        batch = cases[start:start + 25]
        gevent.joinall([gevent.spawn(_attack, address, data, local) for data, local in batch])
        assert target.alive(), f"the target died on case {start}..: {target.stderr()}"
    for connection in idle:
        try:
            assert connection.recv(100) is not None  # the greeting, then EOF or reset
            connection.settimeout(10)
            while connection.recv(4096):
                pass
        except ConnectionResetError:
            pass  # libzmq may reset instead of closing: it let go either way
        finally:
            connection.close()
    assert target.alive(), target.stderr()
    for number, other in enumerate(TARGETS, 1):
        target.check_serves(other, number)
    fds_after = _settled(target.fds, fds_before + 4, 10)
    assert fds_after <= fds_before + 4, f"fds {fds_before} -> {fds_after}: connections kept"
    rss_after = target.rss_kib()
    assert rss_after - rss_before < 64 * 1024, f"RSS {rss_before} -> {rss_after} KiB"


# -- max_message_size --------------------------------------------------------------------------


def _event_types_until(observer: gzmq.Observer, wanted: str, timeout: float = 10) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not seen or seen[-1] != wanted:
        try:
            seen.append(observer.recv(timeout=max(0.0, deadline - time.monotonic())).type.value)
        except zmq.Again:
            pytest.fail(f"no {wanted!r} event within {timeout} s; saw {seen}")
    return seen


def _pending_event_types(observer: gzmq.Observer) -> list[str]:
    seen = []
    try:
        while True:
            seen.append(observer.recv(timeout=0).type.value)
    except zmq.Again:
        return seen


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_message_over_max_message_size_disconnects_only_that_peer(
    transport: str, tmp_path: Path
) -> None:
    """An oversized message drops its sender's connection; other peers keep delivering."""
    context = gzmq.Context()
    try:
        pull = gzmq.Pull(context=context, linger=0, max_message_size=1000)
        pull.bind("tcp://127.0.0.1:*" if transport == "tcp" else f"ipc://{tmp_path}/big.ipc")
        good = gzmq.Push(context=context, linger=0)
        bad = gzmq.Push(context=context, linger=0, reconnect_interval=50)
        good_events, bad_events = good.events, bad.events
        for sock, events in ((good, good_events), (bad, bad_events)):
            sock.connect(pull.last_endpoint)
            _event_types_until(events, "handshake")
        good.send(b"x" * 1000)  # exactly the limit is allowed
        assert pull.recv(timeout=5) == [b"x" * 1000]
        bad.send(b"y" * 1001)
        _event_types_until(bad_events, "disconnect")
        for number in range(100):
            good.send(b"good %d" % number)
        assert [pull.recv(timeout=5) for _ in range(100)] == [
            [b"good %d" % number] for number in range(100)
        ]
        assert "disconnect" not in _pending_event_types(good_events)
        _event_types_until(bad_events, "handshake")  # it reconnects, and small is fine
        bad.send(b"small again")
        assert pull.recv(timeout=5) == [b"small again"]
        with pytest.raises(zmq.Again):
            pull.recv(timeout=0.2)  # the oversized one never arrived
    finally:
        context.close(linger=0)


@pytest.mark.parametrize("claimed", [1001, 2**31, 2**63 - 1])
def test_raw_frame_claiming_too_much_is_cut_off(claimed: int) -> None:
    """A raw ZMTP peer whose frame header claims more than max_message_size is disconnected."""
    with gzmq.Pull(linger=0, max_message_size=1000) as pull:
        pull.bind("tcp://127.0.0.1:*")
        host, port = pull.last_endpoint[len("tcp://"):].rsplit(":", 1)
        connection = gevent.socket.create_connection((host, int(port)), timeout=10)
        with connection:
            handshake(connection, b"PUSH")
            connection.sendall(message(b"fine"))
            assert pull.recv(timeout=5) == [b"fine"]
            connection.sendall(bytes([2]) + struct.pack(">Q", claimed) + b"z" * 100)
            try:
                while connection.recv(4096):  # the greeting and READY, then EOF
                    pass
            except ConnectionResetError:
                pass  # a reset is a disconnect too
        with gzmq.Push(linger=0) as push:  # and the socket serves the next peer
            push.connect(pull.last_endpoint)
            push.send(b"next")
            assert pull.recv(timeout=5) == [b"next"]


# -- every public entry point, with bad input ------------------------------------------------


class World:
    """Fresh objects for one row of the table: sockets in each state, contexts, an Observer."""

    def __init__(self) -> None:
        self.name = f"inproc://hostile-{os.getpid()}-{next(_names)}"
        self.ctx = gzmq.Context()
        self.closed_ctx = gzmq.Context()
        self.closed_ctx.close()
        self.pull = gzmq.Pull(context=self.ctx, linger=0)
        self.pull.bind(self.name)
        self.push = gzmq.Push(context=self.ctx, linger=0)
        self.push.connect(self.name)
        self.closed = gzmq.Push(context=self.ctx, linger=0)
        self.closed.close()
        self.sub = gzmq.Subscriber(context=self.ctx, linger=0)
        self.req = gzmq.Request(context=self.ctx, linger=0)
        self.rep = gzmq.Reply(context=self.ctx, linger=0)
        self.router = gzmq.Router(context=self.ctx, linger=0, mandatory=True)
        self.xpub = gzmq.XPublisher(context=self.ctx, linger=0)
        self.observer = self.push.events
        self.closed_observer = self.rep.events
        self.closed_observer.close()
        self.unbound = gzmq.Pull(context=self.ctx, linger=0)
        self.greenlets: list[gevent.Greenlet] = []
        self.gctx = gzmq.green.Context()
        self.gpush = self.gctx.socket(zmq.PUSH)
        self.gpush.linger = 0
        self.gclosed = self.gctx.socket(zmq.PUSH)
        self.gclosed.close()

    def running_proxy(self) -> tuple[gzmq.Proxy, gzmq.Router]:
        """A Proxy running in a greenlet (ROUTER front end, DEALER back end) and its front end."""
        front = gzmq.Router(context=self.ctx, linger=0)
        front.bind(self.name + "-front")
        back = gzmq.Dealer(context=self.ctx, linger=0)
        back.bind(self.name + "-back")
        proxy = gzmq.Proxy(front, back)
        self.greenlets.append(gevent.spawn(proxy.run))
        gevent.sleep(0)  # run() lends the sockets before its first wait
        proxy.statistics()  # answered by libzmq's proxy thread: it runs
        return proxy, front

    def ended_proxy(self) -> gzmq.Proxy:
        """A Proxy that has run and ended."""
        proxy = gzmq.Proxy(self.pull, self.push)
        proxy.terminate()
        proxy.run()
        return proxy

    def pair_rep(self) -> tuple[gzmq.Request, gzmq.Reply]:
        """``req`` and ``rep`` connected to each other (inproc)."""
        self.rep.bind(self.name + "-rep")
        self.req.connect(self.name + "-rep")
        return self.req, self.rep

    def req_sent(self) -> gzmq.Request:
        """``req`` with a request sent and its reply not yet received."""
        req, _ = self.pair_rep()
        req.send(b"first")
        return req

    def rep_received(self) -> gzmq.Reply:
        """``rep`` holding a request it has not answered yet."""
        req, rep = self.pair_rep()
        req.send(b"question")
        rep.recv(timeout=5)
        return rep

    def pull_got(self, message: list[bytes]) -> gzmq.Pull:
        """``pull`` with ``message`` sent to it by ``push``."""
        self.push.send(message)
        return self.pull

    def waiting_in_recv(self, sock: gzmq.Pull) -> gzmq.Pull:
        """``sock``, once a greenlet waits in its recv()."""
        self.greenlets.append(gevent.spawn(sock.recv))
        gevent.sleep(0)
        return sock

    def in_other_thread(self, call: Callable[[], object]) -> object:
        """Run ``call`` in another thread; re-raise what it raised there."""
        outcome: list[BaseException] = []

        def run() -> None:
            try:
                call()
            except BaseException as error:  # noqa: BLE001 - carried back to the test thread
                outcome.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)
        if outcome:
            raise outcome[0]
        return None

    def close(self) -> None:
        gevent.killall(self.greenlets, timeout=5)
        self.ctx.close(linger=0)
        self.gctx.destroy(linger=0)


class _BadFileno:
    """An object whose fileno() is not an fd."""

    def fileno(self) -> str:
        return "three"


def _pull_mode(w: World) -> None:
    with pytest.raises(zmq.Again):
        w.observer.recv(timeout=0)
    w.observer.on("accept", print)


def _push_mode(w: World) -> None:
    w.observer.on("accept", print)
    w.observer.recv(timeout=0)


Row = tuple[str, Callable[[World], object], type[BaseException], str]

ROWS: list[Any] = [
    # constructors
    ("ctor-positional", lambda w: gzmq.Dealer("x"), TypeError, "positional"),
    ("ctor-unknown-option", lambda w: gzmq.Dealer(context=w.ctx, lingr=0),
     gzmq.UnknownOptionError, "'lingr' is not an option of Dealer"),
    ("ctor-unknown-option-close-match", lambda w: gzmq.Dealer(context=w.ctx, lingr=0),
     gzmq.UnknownOptionError, "did you mean 'linger'?"),
    ("ctor-pyzmq-sndhwm", lambda w: gzmq.Dealer(context=w.ctx, sndhwm=10),
     gzmq.UnknownOptionError, "pyzmq's name, gzmq spells it out as 'send_high_water_mark'"),
    ("ctor-pyzmq-rcvhwm", lambda w: gzmq.Pull(context=w.ctx, rcvhwm=10),
     gzmq.UnknownOptionError, "gzmq spells it out as 'receive_high_water_mark'"),
    ("ctor-pyzmq-rcvtimeo", lambda w: gzmq.Pull(context=w.ctx, rcvtimeo=10),
     gzmq.UnknownOptionError, "gzmq spells it out as 'receive_timeout'"),
    ("ctor-pyzmq-sndtimeo", lambda w: gzmq.Push(context=w.ctx, SNDTIMEO=10),
     gzmq.UnknownOptionError, "gzmq spells it out as 'send_timeout'"),
    ("ctor-pyzmq-identity", lambda w: gzmq.Dealer(context=w.ctx, identity=b"a"),
     gzmq.UnknownOptionError, "gzmq spells it out as 'routing_id'"),
    ("ctor-pyzmq-hwm", lambda w: gzmq.Dealer(context=w.ctx, hwm=10),
     gzmq.UnknownOptionError, "'send_high_water_mark' and 'receive_high_water_mark'"),
    ("ctor-pyzmq-name-of-another-class", lambda w: gzmq.Subscriber(context=w.ctx, sndhwm=1),
     gzmq.UnknownOptionError, "pyzmq's name for 'send_high_water_mark', which Subscriber does "
     "not have"),
    ("ctor-subscriber-subscribe", lambda w: gzmq.Subscriber(context=w.ctx, subscribe=b""),
     gzmq.UnknownOptionError, "call sub.subscribe(b'topic') after constructing it"),
    ("ctor-dealer-subscribe", lambda w: gzmq.Dealer(context=w.ctx, subscribe=b""),
     gzmq.UnknownOptionError, "only Subscriber subscribes"),
    ("ctor-read-only-option", lambda w: gzmq.Dealer(context=w.ctx, last_endpoint="x"),
     gzmq.UnknownOptionError, "read-only"),
    ("ctor-option-type", lambda w: gzmq.Dealer(context=w.ctx, linger="10"),
     TypeError, "option 'linger' expects int"),
    ("ctor-option-bool-for-int", lambda w: gzmq.Dealer(context=w.ctx, linger=True),
     TypeError, "option 'linger' expects int"),
    ("ctor-option-range", lambda w: gzmq.Dealer(context=w.ctx, linger=2**40),
     gzmq.OptionValueError, "linger"),
    ("ctor-context-type", lambda w: gzmq.Dealer(context="ctx"),
     TypeError, "context must be a gzmq.Context"),
    ("ctor-closed-context", lambda w: gzmq.Dealer(context=w.closed_ctx),
     zmq.ZMQError, "Context is closed"),
    ("ctor-abstract", lambda w: gzmq.Socket(), TypeError, "abstract"),
    ("ctor-heartbeat-type", lambda w: gzmq.Pull(context=w.ctx, heartbeat_interval="1s"),
     TypeError, "heartbeat_interval"),
    ("ctor-max-message-size", lambda w: gzmq.Pull(context=w.ctx, max_message_size=-5),
     gzmq.OptionValueError, "max_message_size"),
    # endpoints
    ("bind-int", lambda w: w.pull.bind(5555), TypeError, "endpoint must be a str"),
    ("bind-none", lambda w: w.pull.bind(None), TypeError, "NoneType"),
    ("bind-no-transport", lambda w: w.pull.bind("127.0.0.1:5555"),
     zmq.ZMQError, "expected transport://address"),
    ("bind-unknown-transport", lambda w: w.pull.bind("nosuch://x"), zmq.ZMQError, "nosuch://x"),
    ("bind-port-range", lambda w: w.pull.bind("tcp://127.0.0.1:99999"),
     zmq.ZMQError, "out of range"),
    ("bind-empty-inproc", lambda w: w.pull.bind("inproc://"), zmq.ZMQError, "'inproc://'"),
    ("bind-in-use", lambda w: gzmq.Pull(context=w.ctx).bind(w.name),
     zmq.ZMQError, "Address already in use"),
    ("connect-no-port", lambda w: w.push.connect("tcp://127.0.0.1"),
     zmq.ZMQError, "'tcp://127.0.0.1' has no port: a tcp endpoint is tcp://host:port"),
    ("connect-no-port-ipv6", lambda w: w.push.connect("tcp://[::1]"),
     zmq.ZMQError, "'tcp://[::1]' has no port"),
    ("bind-no-port", lambda w: w.pull.bind("tcp://127.0.0.1"),
     zmq.ZMQError, "has no port: a tcp endpoint is tcp://host:port (tcp://host:* binds"),
    ("connect-list", lambda w: w.push.connect(["tcp://127.0.0.1:1"]),
     TypeError, "endpoint must be a str"),
    ("unbind-not-bound", lambda w: w.pull.unbind("tcp://127.0.0.1:1"),
     zmq.ZMQError, "unbind 'tcp://127.0.0.1:1' failed"),
    ("disconnect-not-connected", lambda w: w.push.disconnect("tcp://127.0.0.1:1"),
     zmq.ZMQError, "disconnect 'tcp://127.0.0.1:1' failed"),
    ("router-connect-routing-id", lambda w: w.router.connect(w.name, routing_id=5),
     TypeError, "routing_id"),
    # send / recv
    ("send-int", lambda w: w.push.send(42), TypeError, "frame must be"),
    ("send-list-with-int", lambda w: w.push.send([b"a", 7]), TypeError, "got int"),
    ("send-empty-list", lambda w: w.push.send([]), ValueError, "at least one frame"),
    ("send-dict", lambda w: w.push.send({"a": 1}), TypeError, "dict"),
    ("recv-on-push", lambda w: w.push.recv(), AttributeError, "recv"),
    ("send-on-sub", lambda w: w.sub.send(b"x"), AttributeError, "send"),
    ("recv-empty-timeout-0", lambda w: w.pull.recv(timeout=0), zmq.Again, "Resource"),
    ("req-recv-before-send", lambda w: w.req.recv(timeout=0),
     zmq.ZMQError, "cannot be accomplished in current state"),
    ("rep-send-before-recv", lambda w: w.rep.send(b"x"),
     zmq.ZMQError, "cannot be accomplished in current state"),
    ("req-recv-before-send-names-state", lambda w: w.req.recv(timeout=0),
     zmq.ZMQError, "Request.recv() before send()"),
    ("req-second-send", lambda w: w.req_sent().send(b"second"),
     zmq.ZMQError, "Request.send() a second time before recv() of the reply"),
    ("req-second-send-with-timeout", lambda w: w.req_sent().send(b"second", timeout=1),
     zmq.ZMQError, "Request.send() a second time before recv() of the reply"),
    ("rep-send-before-recv-names-state", lambda w: w.rep.send(b"x"),
     zmq.ZMQError, "Reply.send() before recv()"),
    ("rep-second-recv", lambda w: w.rep_received().recv(timeout=0),
     zmq.ZMQError, "Reply.recv() a second time before send() of the reply"),
    ("request-timeout-str", lambda w: w.pair_rep()[0].request(b"x", timeout="1"),
     TypeError, "timeout must be a number"),
    ("request-bad-frame", lambda w: w.pair_rep()[0].request(7),
     TypeError, "frame must be"),
    # helpers
    ("send-string-bytes", lambda w: w.push.send_string(b"x"),
     TypeError, "send_string() takes a str, got bytes"),
    ("send-string-encoding", lambda w: w.push.send_string("é", encoding="ascii"),
     UnicodeEncodeError, "ascii"),
    ("send-json-unserializable", lambda w: w.push.send_json({"a": object()}),
     TypeError, "not JSON serializable"),
    ("recv-string-multipart", lambda w: w.pull_got([b"a", b"b"]).recv_string(timeout=5),
     gzmq.UnexpectedMessageError, "Pull.recv_string() received a multipart message of 2 frames"),
    ("recv-string-not-utf8", lambda w: w.pull_got([b"\xff"]).recv_string(timeout=5),
     gzmq.UnexpectedMessageError, "not utf-8 text"),
    ("recv-json-not-json", lambda w: w.pull_got([b"{nope"]).recv_json(timeout=5),
     gzmq.UnexpectedMessageError, "Pull.recv_json() received a message that is not JSON"),
    ("recv-json-multipart", lambda w: w.pull_got([b"1", b"2"]).recv_json(timeout=5),
     ValueError, "multipart message of 2 frames"),
    ("recv-string-timeout-0", lambda w: w.pull.recv_string(timeout=0), zmq.Again, "Resource"),
    # readiness and polling
    ("readable-other-thread", lambda w: w.in_other_thread(lambda: w.pull.readable),
     gzmq.InvalidThreadUseError, "belongs to another thread"),
    ("poller-register-str", lambda w: gzmq.Poller().register("x"),
     TypeError, "cannot poll str 'x': it must be a 0MQ socket, an integer fd"),
    ("poller-flags-str", lambda w: gzmq.Poller().register(w.pull, "in"),
     TypeError, "poll flags must be an int"),
    ("poller-flags-range", lambda w: gzmq.Poller().register(w.pull, 64),
     ValueError, "poll flags must combine POLLIN"),
    ("poller-unregister-unknown", lambda w: gzmq.Poller().unregister(w.pull),
     KeyError, "is not registered with this Poller"),
    ("poller-timeout-str", lambda w: gzmq.Poller().poll("1"), TypeError, "timeout"),
    ("poller-nothing-forever", lambda w: gzmq.Poller().poll(), ValueError, "would wait forever"),
    ("poller-bad-fileno", lambda w: gzmq.select([_BadFileno()], [], [], 0),
     ValueError, "must return a valid integer fd"),
    ("select-not-a-socket", lambda w: gzmq.select([object()], [], [], 0),
     TypeError, "must be a 0MQ socket"),
    ("select-timeout-str", lambda w: gzmq.select([w.pull], [], [], "1"), TypeError, "timeout"),
    ("poll-closed-socket", lambda w: gzmq.select([w.closed], [], [], 0),
     gzmq.SocketClosedError, "Socket is closed: gzmq.Push (no endpoints)"),
    ("router-unknown-peer", lambda w: w.router.send([b"nobody", b"x"]),
     zmq.ZMQError, "Host unreachable"),
    ("recv-timeout-str", lambda w: w.pull.recv(timeout="1"), TypeError, "timeout"),
    ("send-timeout-str", lambda w: w.push.send([b"a", b"b"], timeout="1"),
     TypeError, "timeout"),
    # (a NaN timeout is test_nan_timeout_is_refused: it can freeze the whole hub)
    # options
    ("option-type", lambda w: setattr(w.push, "linger", "10"), TypeError, "linger"),
    ("option-range", lambda w: setattr(w.push, "linger", 2**31),
     gzmq.OptionValueError, "linger"),
    ("option-read-only", lambda w: setattr(w.pull, "last_endpoint", "x"),
     gzmq.ReadOnlyOptionError, "option 'last_endpoint' is read-only"),
    ("option-write-only", lambda w: w.sub.conflate,
     gzmq.WriteOnlyOptionError, "option 'conflate' is write-only"),
    ("option-misspelled", lambda w: setattr(w.push, "lingr", 5), AttributeError, "lingr"),
    ("option-choice", lambda w: setattr(w.xpub, "verbosity", "loud"),
     gzmq.OptionValueError, "'all_subs'"),
    ("option-curve-key", lambda w: setattr(w.push, "curve_server_key", "short"),
     gzmq.OptionValueError, "40-character Z85"),
    ("option-routing-id-empty", lambda w: setattr(w.req, "routing_id", b""),
     gzmq.OptionValueError, "1 to 255 bytes"),
    ("option-routing-id-long", lambda w: setattr(w.req, "routing_id", b"x" * 256),
     gzmq.OptionValueError, "1 to 255 bytes"),
    ("option-timeout-range", lambda w: setattr(w.pull, "receive_timeout", -2),
     gzmq.OptionValueError, "receive_timeout"),
    ("options-of-non-socket", lambda w: gzmq.options(5), TypeError, "int"),
    # subscribe
    ("subscribe-int", lambda w: w.sub.subscribe(5), TypeError, "subscription prefix"),
    ("unsubscribe-none", lambda w: w.sub.unsubscribe(None), TypeError, "subscription prefix"),
    # close and closed sockets
    ("close-linger-str", lambda w: w.push.close(linger="x"), TypeError, "linger must be an int"),
    ("closed-send", lambda w: w.closed.send(b"x"), gzmq.SocketClosedError, "Socket is closed"),
    ("closed-bind", lambda w: w.closed.bind("inproc://x"),
     gzmq.SocketClosedError, "Socket is closed"),
    ("closed-connect", lambda w: w.closed.connect(w.name),
     gzmq.SocketClosedError, "Socket is closed"),
    ("closed-unbind", lambda w: w.closed.unbind(w.name),
     gzmq.SocketClosedError, "Socket is closed"),
    ("closed-disconnect", lambda w: w.closed.disconnect(w.name),
     gzmq.SocketClosedError, "Socket is closed"),
    ("closed-option-get", lambda w: w.closed.linger, gzmq.SocketClosedError, "Socket is closed"),
    ("closed-option-set", lambda w: setattr(w.closed, "linger", 0),
     gzmq.SocketClosedError, "Socket is closed"),
    ("closed-events", lambda w: w.closed.events, gzmq.SocketClosedError, "Socket is closed"),
    ("closed-recv", lambda w: (w.pull.close(), w.pull.recv()),
     gzmq.SocketClosedError, "Socket is closed"),
    ("closed-recv-names-socket", lambda w: (w.pull.close(), w.pull.recv()),
     gzmq.SocketClosedError, "Socket is closed: gzmq.Pull (inproc://hostile-"),
    ("closed-send-names-socket", lambda w: (w.push.close(), w.push.send(b"x")),
     gzmq.SocketClosedError, "Socket is closed: gzmq.Push (inproc://hostile-"),
    ("closed-option-names-socket", lambda w: (w.pull.close(), w.pull.linger),
     gzmq.SocketClosedError, "Socket is closed: gzmq.Pull (inproc://hostile-"),
    ("closed-subscribe", lambda w: (w.sub.close(), w.sub.subscribe(b"x")),
     gzmq.SocketClosedError, "Socket is closed"),
    # threads
    ("other-thread-recv", lambda w: w.in_other_thread(lambda: w.pull.recv(timeout=0)),
     gzmq.InvalidThreadUseError, "belongs to another thread"),
    ("other-thread-send", lambda w: w.in_other_thread(lambda: w.push.send(b"x")),
     gzmq.InvalidThreadUseError, "belongs to another thread"),
    ("other-thread-bind", lambda w: w.in_other_thread(lambda: w.pull.bind("inproc://t")),
     gzmq.InvalidThreadUseError, "belongs to another thread"),
    # Context
    ("context-unknown-option", lambda w: gzmq.Context(io_thread=2),
     gzmq.UnknownOptionError, "io_thread"),
    ("context-option-type", lambda w: gzmq.Context(io_threads="2"),
     TypeError, "option 'io_threads' expects int"),
    ("context-option-range", lambda w: gzmq.Context(io_threads=-1),
     gzmq.OptionValueError, "io_threads"),
    ("context-read-only", lambda w: setattr(w.ctx, "max_sockets_limit", 5),
     gzmq.ReadOnlyOptionError, "max_sockets_limit"),
    ("context-closed-option", lambda w: w.closed_ctx.io_threads,
     zmq.ZMQError, "Context is closed"),
    ("context-close-linger-str", lambda w: gzmq.Context().close(linger="x"), TypeError, "linger"),
    ("closed-context-close-linger-str", lambda w: w.closed_ctx.close(linger="x"),
     TypeError, "linger"),
    # module functions
    ("curve-keypair-argument", lambda w: gzmq.curve_keypair(1), TypeError, "positional"),
    # Observer
    ("observer-of-non-socket", lambda w: gzmq.Observer(5), TypeError, "needs a gzmq socket"),
    ("observer-second", lambda w: gzmq.Observer(w.push),
     ValueError, "already has an open Observer"),
    ("observer-recv-timeout-type", lambda w: w.observer.recv(timeout="x"),
     TypeError, "timeout must be a number"),
    ("observer-recv-timeout-nan", lambda w: w.observer.recv(timeout=math.nan),
     ValueError, "nan"),
    ("observer-recv-timeout-0", lambda w: w.observer.recv(timeout=0), zmq.Again, "Resource"),
    ("observer-on-unknown-type", lambda w: w.observer.on("nosuch", print),
     ValueError, "unknown event type 'nosuch'"),
    ("observer-on-int-type", lambda w: w.observer.on(5, print),
     TypeError, "event type must be a str"),
    ("observer-on-not-callable", lambda w: w.observer.on("accept", 5),
     TypeError, "callback must be callable"),
    ("observer-off-unknown-type", lambda w: w.observer.off("nosuch", print),
     ValueError, "unknown event type"),
    ("observer-wait-for-timeout", lambda w: w.observer.wait_for("accept", timeout=0),
     zmq.Again, "Resource"),
    ("observer-pull-then-push", _pull_mode, gzmq.ObserverModeError, "pull mode"),
    ("observer-push-then-pull", _push_mode, gzmq.ObserverModeError, "push mode"),
    ("observer-closed-recv", lambda w: w.closed_observer.recv(timeout=0),
     gzmq.SocketClosedError, "Observer is closed"),
    ("observer-closed-on", lambda w: w.closed_observer.on("accept", print),
     gzmq.SocketClosedError, "Observer is closed"),
    ("observer-closed-wait-for", lambda w: w.closed_observer.wait_for("accept"),
     gzmq.SocketClosedError, "Observer is closed"),
    ("observer-other-thread", lambda w: w.in_other_thread(lambda: w.observer.recv(timeout=0)),
     gzmq.InvalidThreadUseError, "another thread"),
    # Proxy
    ("proxy-front-not-socket", lambda w: gzmq.Proxy(5, w.pull),  # type: ignore[arg-type]
     TypeError, "front_end must be a gzmq socket, got int"),
    ("proxy-back-not-socket", lambda w: gzmq.Proxy(w.pull, "x"),  # type: ignore[arg-type]
     TypeError, "back_end must be a gzmq socket, got str"),
    ("proxy-capture-cannot-send", lambda w: gzmq.Proxy(w.pull, w.push, capture=w.sub),
     TypeError, "capture must be a gzmq socket that can send"),
    ("proxy-capture-is-an-end", lambda w: gzmq.Proxy(w.pull, w.push, capture=w.push),
     ValueError, "capture must be a socket of its own"),
    ("proxy-socket-unbound", lambda w: gzmq.Proxy(w.pull, w.unbound).run(),
     ValueError, "back_end socket must be bound or connected"),
    ("proxy-socket-closed", lambda w: gzmq.Proxy(w.closed, w.pull).run(),
     gzmq.SocketClosedError, "front_end socket is closed"),
    ("proxy-socket-has-waiters", lambda w: gzmq.Proxy(w.waiting_in_recv(w.pull), w.push).run(),
     RuntimeError, "front_end socket has greenlets waiting"),
    ("proxy-run-twice", lambda w: w.running_proxy()[0].run(), RuntimeError, "already running"),
    ("proxy-lent-socket-send", lambda w: w.running_proxy()[1].send([b"id", b"x"]),
     gzmq.InvalidThreadUseError, "in use by <gzmq.Proxy running"),
    ("proxy-lent-socket-option", lambda w: w.running_proxy()[1].linger,
     gzmq.InvalidThreadUseError, "in use by <gzmq.Proxy running"),
    ("proxy-run-after-end", lambda w: w.ended_proxy().run(),
     gzmq.SocketClosedError, "Proxy has ended"),
    ("proxy-pause-after-end", lambda w: w.ended_proxy().pause(),
     gzmq.SocketClosedError, "Proxy has ended"),
    # gzmq.green: pyzmq's errors, as zmq.green gives them
    ("green-socket-type", lambda w: w.gctx.socket(999), zmq.ZMQError, "Invalid argument"),
    ("green-setsockopt-str", lambda w: w.gpush.setsockopt(zmq.LINGER, "x"),
     TypeError, "setsockopt_string"),
    ("green-send-str", lambda w: w.gpush.send("x"), TypeError, "send_string"),
    ("green-send-multipart-int", lambda w: w.gpush.send_multipart([b"a", 3]),
     TypeError, "frame 1 of the message"),
    ("green-send-multipart-empty", lambda w: w.gpush.send_multipart([]),
     ValueError, "at least one frame"),
    ("green-bind-int", lambda w: w.gpush.bind(5), TypeError, "addr"),
    ("green-bind-unknown-transport", lambda w: w.gpush.bind("nosuch://x"),
     zmq.ZMQError, "nosuch://x"),
    ("green-recv-on-push", lambda w: w.gpush.recv(zmq.NOBLOCK),
     zmq.ZMQError, "Operation not supported"),
    ("green-misspelled-option", lambda w: w.gpush.lingr, AttributeError, "LINGR"),
    ("green-closed-send", lambda w: w.gclosed.send(b"x"),
     gzmq.SocketClosedError, "Socket is closed"),
    ("green-poll-not-a-socket", lambda w: gzmq.green.zmq_poll([(object(), zmq.POLLIN)], 0),
     TypeError, "must be a 0MQ socket, an integer fd or have a fileno() method"),
    ("green-select-not-a-socket", lambda w: gzmq.green.select(["x"], [], [], 0),
     TypeError, "must be a 0MQ socket"),
    ("green-poll-nothing-forever", lambda w: gzmq.green.zmq_poll([], -1),
     ValueError, "would wait forever"),
    # draft sockets on a libzmq without the draft API
    pytest.param(
        "draft-without-draft-api", lambda w: gzmq.Server(context=w.ctx),
        gzmq.NotSupportedError, "draft",
        marks=pytest.mark.skipif(gzmq.capability["draft"], reason="this libzmq has drafts"),
    ),
]


def _with_ids(rows: list[Any]) -> list[Any]:
    """Each row as a pytest.param whose id is its label (marks kept)."""
    params = []
    for row in rows:
        if hasattr(row, "marks"):  # already a pytest.param (a tuple too)
            params.append(pytest.param(*row.values, marks=row.marks, id=row.values[0]))
        else:
            params.append(pytest.param(*row, id=row[0]))
    return params


@pytest.fixture
def world() -> Iterator[World]:
    """A fresh World for one row, closed after it."""
    made = World()
    yield made
    made.close()


@pytest.mark.parametrize(("label", "call", "error", "text"), _with_ids(ROWS))
def test_bad_call_raises_documented_error_with_clear_message(
    label: str, call: Callable[[World], object], error: type[BaseException], text: str,
    world: World,
) -> None:
    """Each public entry point given bad input raises its documented error, naming the fault."""
    with gevent.Timeout(5, AssertionError(f"{label}: the call hung")):
        with pytest.raises(error) as info:
            call(world)
    assert text in str(info.value), f"{label}: {info.value!r} does not say {text!r}"


def _child_nan_timeout(case: str) -> None:
    """Call ``case`` with a NaN timeout under a 1 s gevent.Timeout; report what it raised.

    A watchdog thread reports "frozen" if even that Timeout has not fired after 3 s.
    """
    pull = gzmq.Pull(linger=0)
    pull.bind(f"inproc://nan-{os.getpid()}")
    push = gzmq.Push(linger=0)  # connected to nothing: send() must wait
    green = gzmq.green.Context().socket(zmq.PULL)
    calls: dict[str, Callable[[], object]] = {
        "socket-recv": lambda: pull.recv(timeout=math.nan),
        "socket-send": lambda: push.send(b"x", timeout=math.nan),
        "observer-recv": lambda: pull.events.recv(timeout=math.nan),
        "green-poll": lambda: gzmq.green.Poller().poll(math.nan),
        "green-select": lambda: gzmq.green.select([green], [], [], math.nan),
        "poller": lambda: _poller_of(pull).poll(math.nan),
        "select": lambda: gzmq.select([pull], [], [], math.nan),
        "request": lambda: gzmq.Request(linger=0).request(b"x", timeout=math.nan),
    }
    def watchdog() -> None:
        time.sleep(3)
        _say(raised="frozen", message="not even a 1 s gevent.Timeout fired: the hub is frozen")
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        with gevent.Timeout(1):
            calls[case]()
    except BaseException as error:  # noqa: BLE001 - reported to the test, whatever it is
        _say(raised=type(error).__name__, message=str(error))
    else:
        _say(raised=None)


def _poller_of(sock: gzmq.Pull) -> gzmq.Poller:
    poller = gzmq.Poller()
    poller.register(sock, gzmq.POLLIN)
    return poller


@pytest.mark.parametrize("case", [
    "socket-recv", "socket-send", "observer-recv", "green-poll", "green-select",
    "poller", "select", "request",
])
def test_nan_timeout_is_refused(case: str) -> None:
    """A NaN timeout raises ValueError at once (in a child process: a NaN timer freezes the hub)."""
    child = gevent.subprocess.Popen(
        [sys.executable, "-c", _BOOT, str(TESTS), "nan_timeout", case],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = child.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail(f"{case}: the child hung (its watchdog did not fire either)")
    assert child.returncode == 0, err
    outcome = json.loads(out.splitlines()[-1])
    assert outcome["raised"] == "ValueError", f"{case}: {outcome}"
    assert "nan" in outcome["message"].lower(), f"{case}: {outcome}"


@pytest.mark.parametrize("call", ["Request.recv", "Request.send", "Reply.send", "Reply.recv"])
def test_efsm_keeps_pyzmqs_class_and_errno(call: str) -> None:
    """A wrong-state call raises zmq.ZMQError with errno EFSM, not a new type, with its story."""
    world = World()
    try:
        calls: dict[str, Callable[[], object]] = {
            "Request.recv": lambda: world.req.recv(timeout=0),
            "Request.send": lambda: world.req_sent().send(b"again"),
            "Reply.send": lambda: world.rep.send(b"x"),
            "Reply.recv": lambda: world.rep_received().recv(timeout=0),
        }
        with pytest.raises(zmq.ZMQError) as info:
            calls[call]()
        assert type(info.value) is zmq.ZMQError
        assert info.value.errno == zmq.EFSM
        assert str(info.value).startswith(call + "()")
    finally:
        world.close()


def test_errors_keep_errno_and_endpoint() -> None:
    """An endpoint error keeps libzmq's errno and names the endpoint in .address."""
    with gzmq.Pull(linger=0) as pull:
        with pytest.raises(zmq.ZMQError) as info:
            pull.unbind("tcp://127.0.0.1:1")
        assert info.value.errno == errno.ENOENT
        assert info.value.address == "tcp://127.0.0.1:1"  # type: ignore[attr-defined]
