"""locust, a real application written for zmq.green, on gzmq.green (and on zmq.green, alike).

locust's master/worker rpc does ``import zmq.green as zmq`` (``locust/rpc/zmqrpc.py``).
Each test runs once with gzmq.green in place of zmq.green (``gzmq.monkey.patch()``, or
``python -m gzmq.monkey -m locust``) and once on pyzmq's zmq.green, and asserts the same
outcome for both.  locust is a test-only dependency: ``.ci/locust`` installs it and runs
this file with ``GZMQ_REQUIRE_LOCUST=1``, which turns the skip for a missing locust into a
failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IMPLEMENTATIONS = ["gzmq.green", "zmq.green"]


@pytest.fixture(autouse=True)
def _locust() -> None:
    """Skip without locust, saying how to get it; fail instead under GZMQ_REQUIRE_LOCUST=1."""
    if importlib.util.find_spec("locust") is None:
        reason = "locust is not installed (pip install locust; .ci/locust installs it)"
        if os.environ.get("GZMQ_REQUIRE_LOCUST") == "1":
            pytest.fail(f"{reason} (GZMQ_REQUIRE_LOCUST=1: these tests must run here)")
        pytest.skip(reason)


RPC_HEADER = """
import json, sys
import gevent
implementation = sys.argv[1]
if implementation == "gzmq.green":
    from gzmq import monkey
    monkey.patch()
from locust.exception import RPCError
from locust.rpc import zmqrpc
from locust.rpc.protocol import Message
import gzmq.green
assert zmqrpc.zmq.__name__ == implementation, zmqrpc.zmq
"""


def run_rpc(code: str, implementation: str) -> Any:
    """Run ``code`` (after RPC_HEADER) in a new interpreter; return its last stdout line as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", RPC_HEADER + textwrap.dedent(code), implementation],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_rpc_many_messages_both_directions(implementation: str) -> None:
    """locust's rpc Server and two Clients over tcp exchange 2x600 messages each way, in order."""
    outcome = run_rpc(
        """
        COUNT = 600
        server = zmqrpc.Server("127.0.0.1", 0)
        clients = {name: zmqrpc.Client("127.0.0.1", server.port, name)
                   for name in ("worker-a", "worker-b")}
        from_workers = {name: [] for name in clients}
        to_workers = {name: [] for name in clients}

        def serve():
            # every worker message is answered; the master also pushes its own messages
            for _ in range(2 * COUNT):
                addr, msg = server.recv_from_client()
                from_workers[addr].append(msg.data["n"])
                server.send_to_client(Message("ack", {"n": msg.data["n"]}, addr))

        def push():
            for n in range(COUNT):
                for name in clients:
                    server.send_to_client(Message("spawn", {"n": n}, name))
                if n % 50 == 0:
                    gevent.sleep(0)

        def work(name):
            client = clients[name]
            acks = []
            for n in range(COUNT):
                client.send(Message("stats", {"n": n}, name))
            while len(acks) < COUNT or len(to_workers[name]) < COUNT:
                msg = client.recv()
                if msg.type == "ack":
                    acks.append(msg.data["n"])
                else:
                    to_workers[name].append(msg.data["n"])
            return acks

        gevent.sleep(0.2)  # the DEALERs connect
        jobs = [gevent.spawn(serve), gevent.spawn(push)]
        workers = {name: gevent.spawn(work, name) for name in clients}
        gevent.joinall([*jobs, *workers.values()], timeout=40, raise_error=True)
        expected = list(range(COUNT))
        print(json.dumps({
            "from_workers": [from_workers[name] == expected for name in clients],
            "to_workers": [to_workers[name] == expected for name in clients],
            "acks": [workers[name].value == expected for name in clients],
            "socket": type(server.socket).__module__,
        }))
        for client in clients.values():
            client.close(linger=0)
        server.close(linger=0)
        """,
        implementation,
    )
    expected_socket = "gzmq.green.core" if implementation == "gzmq.green" else "zmq.green.core"
    assert outcome == {
        "from_workers": [True, True],
        "to_workers": [True, True],
        "acks": [True, True],
        "socket": expected_socket,
    }


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_rpc_worker_goes_away_and_comes_back(implementation: str) -> None:
    """A worker closes; the master's sends to it are dropped silently; it reconnects and talks."""
    outcome = run_rpc(
        """
        server = zmqrpc.Server("127.0.0.1", 0)
        first = zmqrpc.Client("127.0.0.1", server.port, "worker-1")
        first.send(Message("client_ready", None, "worker-1"))
        addr, hello = server.recv_from_client()
        server.send_to_client(Message("ack", None, addr))
        greeted = first.recv().type
        first.close(linger=0)
        gevent.sleep(0.2)
        # the master goes on sending to the worker that has gone (locust's heartbeats do)
        for n in range(100):
            server.send_to_client(Message("heartbeat", {"n": n}, "worker-1"))
        # the worker comes back under the same id and says client_ready until answered
        second = zmqrpc.Client("127.0.0.1", server.port, "worker-1")
        answered = []

        def announce():
            while not answered:
                second.send(Message("client_ready", None, "worker-1"))
                gevent.sleep(0.1)

        def master():
            while True:
                addr, msg = server.recv_from_client()
                if msg.type == "client_ready":
                    server.send_to_client(Message("ack", {"again": True}, addr))
                    return addr

        announcer, master_loop = gevent.spawn(announce), gevent.spawn(master)
        reply = second.recv()
        answered.append(reply)
        gevent.joinall([announcer, master_loop], timeout=20, raise_error=True)
        second.send(Message("stats", {"after": "reconnect"}, "worker-1"))
        while True:
            addr, stats = server.recv_from_client()
            if stats.type == "stats":
                break
        print(json.dumps([hello.type, greeted, master_loop.value, reply.type, reply.data,
                          stats.data]))
        second.close(linger=0)
        server.close(linger=0)
        """,
        implementation,
    )
    assert outcome == [
        "client_ready",
        "ack",
        "worker-1",
        "ack",
        {"again": True},
        {"after": "reconnect"},
    ]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_rpc_close_ends_blocked_receivers(implementation: str) -> None:
    """Closing the server and a client while greenlets wait in recv gives each waiter RPCError."""
    outcome = run_rpc(
        """
        server = zmqrpc.Server("127.0.0.1", 0)
        client = zmqrpc.Client("127.0.0.1", server.port, "worker-1")

        def wait(call):
            try:
                call()
            except RPCError as error:
                return type(error).__name__
            return "returned"

        ticks = []
        ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(10)])
        on_server = gevent.spawn(wait, server.recv_from_client)
        on_client = gevent.spawn(wait, client.recv)
        gevent.sleep(0.2)  # both wait; other greenlets run meanwhile
        running = [not on_server.ready(), not on_client.ready()]
        server.close(linger=0)
        client.close(linger=0)
        gevent.joinall([on_server, on_client, ticker], timeout=10, raise_error=True)
        print(json.dumps([running, on_server.value, on_client.value, len(ticks),
                          server.socket.closed, client.socket.closed]))
        """,
        implementation,
    )
    assert outcome == [[True, True], "RPCError", "RPCError", 10, True, True]


def test_gzmq_monkey_runs_locust() -> None:
    """python -m gzmq.monkey -m locust --version starts (pyzmq's zmq.green is never stacked)."""
    result = subprocess.run(
        [sys.executable, "-m", "gzmq.monkey", "-m", "locust", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("locust ")


# -- a real distributed run: a master and two workers against a local WSGI server -------

WSGI_SERVER = """
import json
from collections import Counter
from gevent.pywsgi import WSGIServer

counts = Counter()  # requests per worker (the X-Worker header)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/_counts":
        body = json.dumps(counts).encode()
    else:
        counts[environ.get("HTTP_X_WORKER", "")] += 1
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


server = WSGIServer(("127.0.0.1", 0), app, log=None)
server.init_socket()
print(server.server_port, flush=True)
server.serve_forever()
"""

LOCUSTFILE = """
import os
from locust import HttpUser, constant, task
from locust.rpc import zmqrpc

with open(os.environ["GZMQ_RPC_REPORT"], "a") as report:  # what each process's rpc runs on
    report.write(f"{os.getpid()} {zmqrpc.zmq.__name__}\\n")


class Visitor(HttpUser):
    wait_time = constant(0.01)

    @task
    def visit(self):
        self.client.get("/", headers={"X-Worker": self.environment.runner.client_id})
"""

USERS = 4


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test; any still running at its end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.timeout(120)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_distributed_run(
    implementation: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    """locust --master --headless and two --workers load a gevent WSGI server for 3 s."""
    server = subprocess.Popen(
        [sys.executable, "-c", WSGI_SERVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    processes.append(server)
    assert server.stdout is not None
    http_port = int(server.stdout.readline())
    (tmp_path / "locustfile.py").write_text(LOCUSTFILE)
    report = tmp_path / "rpc.txt"
    environment = {**os.environ, "GZMQ_RPC_REPORT": str(report), "PYTHONUNBUFFERED": "1"}
    locust = [sys.executable, "-m", "locust", "-f", "locustfile.py"]
    if implementation == "gzmq.green":
        locust = [sys.executable, "-m", "gzmq.monkey", "-m", "locust", "-f", "locustfile.py"]
    master_port = free_port()
    master_command = [
        *locust,
        "--master",
        "--headless",
        "--master-bind-host=127.0.0.1",
        f"--master-bind-port={master_port}",
        "--expect-workers=2",
        f"--users={USERS}",
        f"--spawn-rate={USERS}",
        "--run-time=3s",
        f"--host=http://127.0.0.1:{http_port}",
        "--json",
        "--only-summary",
    ]
    worker_command = [
        *locust,
        "--worker",
        "--master-host=127.0.0.1",
        f"--master-port={master_port}",
    ]
    logs = {name: (tmp_path / f"{name}.err").open("wb") for name in ("master", "w1", "w2")}
    master = subprocess.Popen(
        master_command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=logs["master"]
    )
    processes.append(master)
    workers = [
        subprocess.Popen(
            worker_command,
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=logs[name],
        )
        for name in ("w1", "w2")
    ]
    processes.extend(workers)
    stdout, _ = master.communicate(timeout=90)
    exits = [master.returncode] + [worker.wait(timeout=30) for worker in workers]
    for log in logs.values():
        log.close()
    stderr = {name: (tmp_path / f"{name}.err").read_text() for name in logs}
    assert exits == [0, 0, 0], stderr
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/_counts", timeout=10) as response:
        served: dict[str, int] = json.loads(response.read())
    server.send_signal(signal.SIGTERM)

    stats = json.loads(stdout)
    requests = sum(entry["num_requests"] for entry in stats)
    failures = sum(entry["num_failures"] for entry in stats)
    rpc = sorted(line.split()[1] for line in report.read_text().splitlines())
    print(
        f"locust distributed run on {implementation}: master counted {requests} requests "
        f"({failures} failed), the server served {sum(served.values())}: "
        f"{sorted(served.values())} from the {len(served)} workers"
    )
    assert rpc == [implementation] * 3  # the master's and both workers' rpc
    assert len(served) == 2 and all(count > 0 for count in served.values())
    assert requests > 0 and failures == 0
    # Requests still in flight when the run stopped were served but never recorded.
    assert 0 <= sum(served.values()) - requests <= USERS
    assert "Traceback" not in "".join(stderr.values())
