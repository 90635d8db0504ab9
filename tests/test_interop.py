"""Interop with ZeroMQ stacks nobody here wrote: zeromq.js (Node.js) and JeroMQ (Java).

The foreign peers are the helper programs in tests/interop/: ``peer.js``
(npm ``zeromq`` v6, installed into tests/interop/node_modules) and
``Peer.java`` (compiled here with javac against Debian's libjeromq-java).
Each prints JSON lines: ``{"ready": endpoint}``, ``{"got": [frames]}`` per
message received, ``{"done": true}``.  Every pattern runs both ways round:
gzmq binds and the peer connects, and the reverse; and each side takes each
role.  Without node/zeromq.js or java/JeroMQ the tests skip, saying what to
install (CI installs them in .ci/run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import gevent
import gevent.subprocess
import pytest
import zmq

import gzmq

INTEROP = Path(__file__).resolve().parent / "interop"
JEROMQ_JAR = Path(os.environ.get("GZMQ_JEROMQ_JAR", "/usr/share/java/jeromq.jar"))
COUNT = 5
BINDERS = ["gzmq-binds", "peer-binds"]


class Peer:
    """A foreign peer process that talks in JSON lines."""

    def __init__(self, command: list[str], cwd: Path) -> None:
        self.command = command
        self._stderr = tempfile.TemporaryFile()
        self.proc = gevent.subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    def read(self, timeout: float = 15.0) -> dict[str, Any]:
        """The next JSON line; fails the test (with the peer's stderr) if none comes."""
        assert self.proc.stdout is not None
        line = ""
        with gevent.Timeout(timeout, False):
            line = self.proc.stdout.readline()
        if not line:
            state = self.proc.poll()
            what = f"exited with {state}" if state is not None else f"was silent {timeout} s"
            pytest.fail(f"{self.command[0]} peer {what}; stderr:\n{self.stderr()}")
        result: dict[str, Any] = json.loads(line)
        return result

    def received(self, count: int) -> list[list[str]]:
        """The next ``count`` messages the peer reports having received."""
        messages = []
        while len(messages) < count:
            line = self.read()
            if "got" in line:
                messages.append(line["got"])
        return messages

    def finish(self) -> None:
        """Wait for "done" and a clean exit."""
        while "done" not in self.read():
            pass
        assert self.proc.wait(timeout=15) == 0, self.stderr()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self._stderr.close()


def _missing(reason: str) -> NoReturn:
    """Skip, saying what to install; fail instead under GZMQ_REQUIRE_TOOLS=1 (CI installs it)."""
    if os.environ.get("GZMQ_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (GZMQ_REQUIRE_TOOLS=1: this test must run here)")
    pytest.skip(reason)


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    """Foreign peers started by a test, killed at its end."""
    started: list[Peer] = []
    yield started
    for peer in started:
        peer.close()


# -- zeromq.js --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, once zeromq.js v6 is known to load from tests/interop/node_modules."""
    binary = shutil.which("node")
    if binary is None:
        _missing("Node.js is not installed (apt-get install -y nodejs npm)")
    probe = subprocess.run(
        [binary, "-e", 'process.stdout.write(require("zeromq/package.json").version)'],
        cwd=INTEROP, capture_output=True, text=True, timeout=30,
    )
    if probe.returncode != 0:
        _missing(
            "zeromq.js is not installed for tests/interop: run "
            "`npm install --no-audit --no-fund --no-save --prefix tests/interop zeromq@6`"
        )
    if not probe.stdout.startswith("6."):
        _missing(f"tests/interop has zeromq.js {probe.stdout}, not version 6")
    return binary


@pytest.fixture
def node_peer(node: str, peers: list[Peer]) -> Callable[..., Peer]:
    """Start ``peer.js`` with a config; return it once it reported "ready"."""

    def start(**config: Any) -> Peer:
        peer = Peer([node, "peer.js", json.dumps({"count": COUNT, **config})], INTEROP)
        peers.append(peer)
        return peer

    return start


def _wire(
    binder: str, sock: gzmq.Socket, start: Callable[..., Peer], **config: Any
) -> Peer:
    """Bind one side on tcp://127.0.0.1:*, connect the other to it; return the started peer."""
    if binder == "gzmq-binds":
        sock.bind("tcp://127.0.0.1:*")
        peer = start(bind=False, endpoint=sock.last_endpoint, **config)
        peer.read()  # ready
    else:
        peer = start(bind=True, endpoint="tcp://127.0.0.1:*", **config)
        sock.connect(peer.read()["ready"])
    return peer


def _request_from_gzmq(sock: gzmq.Request, name: str) -> None:
    for number in range(COUNT):
        sock.send([f"req {number}", "second frame"])
        assert sock.recv(timeout=15) == [name.encode(), b"req %d" % number, b"second frame"]


def _reply_from_gzmq(sock: gzmq.Reply, peer: Peer) -> None:
    for number in range(COUNT):
        request = sock.recv(timeout=15)
        assert request == [b"req %d" % number]
        sock.send([b"gzmq", *request])
    assert peer.received(COUNT) == [["gzmq", f"req {n}"] for n in range(COUNT)]
    peer.finish()


def _subscribe_in_gzmq(sock: gzmq.Subscriber) -> None:
    sock.subscribe("weather")
    numbers = []
    for _ in range(COUNT):
        [message] = sock.recv(timeout=15)
        topic, number = message.decode().split()
        assert topic == "weather"
        numbers.append(int(number))
    assert numbers == sorted(numbers) and len(set(numbers)) == COUNT


def _publish_from_gzmq(sock: gzmq.Publisher, peer: Peer) -> None:
    def publish() -> None:
        for number in range(100000):
            sock.send(f"weather {number}")
            sock.send(f"other {number}")
            gevent.sleep(0.01)

    publisher = gevent.spawn(publish)
    try:
        got = peer.received(COUNT)
    finally:
        publisher.kill()
    assert all(len(m) == 1 and m[0].startswith("weather ") for m in got), got
    numbers = [int(m[0].split()[1]) for m in got]
    assert numbers == sorted(numbers) and len(set(numbers)) == COUNT
    peer.finish()


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("node_role", ["rep", "req"])
def test_node_request_reply(node_role: str, binder: str, node_peer: Callable[..., Peer]) -> None:
    """REQ/REP with zeromq.js, multipart, each side as either role and either binder."""
    if node_role == "rep":
        with gzmq.Request(linger=0) as req:
            peer = _wire(binder, req, node_peer, role="rep")
            _request_from_gzmq(req, "node")
            assert peer.received(COUNT) == [[f"req {n}", "second frame"] for n in range(COUNT)]
            peer.finish()
    else:
        with gzmq.Reply(linger=0) as rep:
            peer = _wire(binder, rep, node_peer, role="req")
            _reply_from_gzmq(rep, peer)


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("node_role", ["pub", "sub"])
def test_node_publish_subscribe(
    node_role: str, binder: str, node_peer: Callable[..., Peer]
) -> None:
    """PUB/SUB with zeromq.js: only the subscribed topic arrives, in order, either way round."""
    if node_role == "pub":
        with gzmq.Subscriber(linger=0) as sub:
            _wire(binder, sub, node_peer, role="pub")
            _subscribe_in_gzmq(sub)
    else:
        with gzmq.Publisher(linger=0) as pub:
            peer = _wire(binder, pub, node_peer, role="sub")
            _publish_from_gzmq(pub, peer)


@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("node_role", ["router", "dealer"])
def test_node_router_dealer(node_role: str, binder: str, node_peer: Callable[..., Peer]) -> None:
    """ROUTER/DEALER with zeromq.js: routing ids carry replies back, either way round."""
    if node_role == "router":
        with gzmq.Dealer(linger=0, routing_id=b"gzmq-dealer") as dealer:
            peer = _wire(binder, dealer, node_peer, role="router")
            for number in range(COUNT):
                dealer.send([f"dealer {number}"])
                assert dealer.recv(timeout=15) == [b"node", b"dealer %d" % number]
            assert peer.received(COUNT) == [[f"dealer {n}"] for n in range(COUNT)]
            peer.finish()
    else:
        with gzmq.Router(linger=0) as router:
            peer = _wire(binder, router, node_peer, role="dealer")
            for number in range(COUNT):
                routing_id, body = router.recv(timeout=15)
                assert body == b"dealer %d" % number and routing_id
                router.send([routing_id, b"gzmq", body])
            assert peer.received(COUNT) == [["gzmq", f"dealer {n}"] for n in range(COUNT)]
            peer.finish()


@pytest.mark.skipif(not gzmq.capability["curve"], reason="this libzmq has no CURVE")
@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("server", ["gzmq-is-curve-server", "node-is-curve-server"])
def test_node_curve_pair(server: str, binder: str, node_peer: Callable[..., Peer]) -> None:
    """A CURVE-secured PAIR with zeromq.js: keys from both libraries, either side serving."""
    server_keys, client_keys = gzmq.curve_keypair(), gzmq.curve_keypair()
    if server == "gzmq-is-curve-server":
        options: dict[str, Any] = {"curve_server": True, "curve_secret_key": server_keys.secret}
        curve = {
            "server": False, "public": client_keys.public, "secret": client_keys.secret,
            "serverKey": server_keys.public,
        }
    else:
        options = {
            "curve_server_key": server_keys.public,
            "curve_public_key": client_keys.public,
            "curve_secret_key": client_keys.secret,
        }
        curve = {"server": True, "secret": server_keys.secret}
    with gzmq.Pair(linger=0, **options) as pair:
        assert pair.security == "curve"
        peer = _wire(binder, pair, node_peer, role="pair", curve=curve)
        assert pair.recv(timeout=15) == [b"hello from node"]
        pair.send("hello from gzmq")
        assert peer.received(1) == [["hello from gzmq"]]
        peer.finish()


@pytest.mark.skipif(not gzmq.capability["curve"], reason="this libzmq has no CURVE")
def test_node_curve_with_wrong_server_key_delivers_nothing(node_peer: Callable[..., Peer]) -> None:
    """A gzmq CURVE client holding the wrong server key gets nothing from a zeromq.js server."""
    server_keys, client_keys, impostor = (gzmq.curve_keypair() for _ in range(3))
    with gzmq.Pair(
        linger=0,
        curve_server_key=impostor.public,
        curve_public_key=client_keys.public,
        curve_secret_key=client_keys.secret,
    ) as pair:
        peer = node_peer(
            role="pair", bind=True, endpoint="tcp://127.0.0.1:*",
            curve={"server": True, "secret": server_keys.secret},
        )
        observer = pair.events
        pair.connect(peer.read()["ready"])
        seen = []
        while not seen or not seen[-1].startswith("handshake:error"):
            seen.append(observer.recv(timeout=10).type.value)
        assert "handshake" not in seen, seen  # never a successful handshake
        with pytest.raises(zmq.Again):
            pair.recv(timeout=0.5)


# -- JeroMQ -----------------------------------------------------------------------------------


def _jeromq_version(jar: Path) -> str:
    with zipfile.ZipFile(jar) as archive:
        for line in archive.read("META-INF/MANIFEST.MF").decode().splitlines():
            if line.startswith("Bundle-Version:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


@pytest.fixture(scope="session")
def jeromq(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The java command line (classpath included) that runs Peer.java, compiled here."""
    java, javac = shutil.which("java"), shutil.which("javac")
    if java is None or javac is None:
        _missing(
            "a JDK (java and javac) is not installed (apt-get install -y default-jdk-headless)"
        )
    if not JEROMQ_JAR.is_file():
        _missing(f"JeroMQ is not installed ({JEROMQ_JAR}: apt-get install -y libjeromq-java)")
    classes = tmp_path_factory.mktemp("jeromq-peer")
    built = subprocess.run(
        [javac, "-d", str(classes), "-cp", str(JEROMQ_JAR), str(INTEROP / "Peer.java")],
        capture_output=True, text=True, timeout=120,
    )
    assert built.returncode == 0, f"javac failed:\n{built.stderr}"
    return [java, "-cp", f"{JEROMQ_JAR}{os.pathsep}{classes}", "Peer"]


@pytest.fixture
def java_peer(jeromq: list[str], peers: list[Peer]) -> Callable[..., Peer]:
    """Start the JeroMQ peer; same config keys as the Node one."""

    def start(*, role: str, bind: bool, endpoint: str) -> Peer:
        mode = "bind" if bind else "connect"
        peer = Peer([*jeromq, role, mode, endpoint, str(COUNT)], INTEROP)
        peers.append(peer)
        return peer

    return start


@pytest.mark.timeout(90)
@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("java_role", ["rep", "req"])
def test_jeromq_request_reply(java_role: str, binder: str, java_peer: Callable[..., Peer]) -> None:
    """REQ/REP with JeroMQ, multipart, each side as either role and either binder."""
    if java_role == "rep":
        with gzmq.Request(linger=0) as req:
            peer = _wire(binder, req, java_peer, role="rep")
            _request_from_gzmq(req, "jeromq")
            assert peer.received(COUNT) == [[f"req {n}", "second frame"] for n in range(COUNT)]
            peer.finish()
    else:
        with gzmq.Reply(linger=0) as rep:
            peer = _wire(binder, rep, java_peer, role="req")
            _reply_from_gzmq(rep, peer)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("binder", BINDERS)
@pytest.mark.parametrize("java_role", ["pub", "sub"])
def test_jeromq_publish_subscribe(
    java_role: str, binder: str, java_peer: Callable[..., Peer]
) -> None:
    """PUB/SUB with JeroMQ: only the subscribed topic arrives, in order, either way round."""
    if java_role == "pub":
        with gzmq.Subscriber(linger=0) as sub:
            _wire(binder, sub, java_peer, role="pub")
            _subscribe_in_gzmq(sub)
    else:
        with gzmq.Publisher(linger=0) as pub:
            peer = _wire(binder, pub, java_peer, role="sub")
            _publish_from_gzmq(pub, peer)


def _jeromq_curve_support(jar: Path) -> str | None:
    """None if the jar has CURVE; else why a CURVE handshake with it is impossible."""
    with zipfile.ZipFile(jar) as archive:
        names = archive.namelist()
    if any("mechanism" in name.lower() and "curve" in name.lower() for name in names):
        return None
    return (
        f"JeroMQ {_jeromq_version(jar)} ({jar}) has no CURVE: it is a port of libzmq 3.2, "
        "which speaks ZMTP/2.0 and has no security mechanisms at all (CURVE came with "
        "ZMTP/3.0 in libzmq 4.0, and in JeroMQ 0.4 with its own NaCl code); Debian's "
        "libjeromq-java is this version"
    )


@pytest.mark.parametrize("pattern", ["req-rep", "pub-sub"])
def test_jeromq_curve(pattern: str, jeromq: list[str]) -> None:
    """CURVE with JeroMQ: possible only with a JeroMQ that has CURVE (0.4 or later)."""
    reason = _jeromq_curve_support(JEROMQ_JAR)
    if reason is not None:
        pytest.skip(reason)
    _missing(
        f"JeroMQ {_jeromq_version(JEROMQ_JAR)} has CURVE, but tests/interop/Peer.java is "
        "written against the 0.3 API without it: add a CURVE role to run this"
    )
