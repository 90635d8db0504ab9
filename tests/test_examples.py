"""Every example in examples/ runs as a user would run it, ends by itself and says what happened.

Each test starts ``python examples/NAME.py`` in a fresh interpreter, bounded
by a timeout, and checks the exit code and the lines that show the example
did its job (not merely that it printed something).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, timeout: float = 45) -> str:
    """Run examples/NAME.py; fail with its output unless it exits 0 within ``timeout``."""
    try:
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / name)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=EXAMPLES.parent,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{name} did not end within {timeout} s; output so far:\n{expired.stdout}")
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


def test_demo() -> None:
    """demo.py: 100 distinct replies on one DEALER, pub/sub filtering, a recv timeout."""
    out = run_example("demo.py")
    assert "router/dealer: 100 replies, all distinct: True" in out
    assert "pub/sub: received ['weather', 'weather']" in out
    assert "timeout: zmq.Again after 0.15 s" in out


def test_gateway() -> None:
    """gateway.py: 20 concurrent HTTP requests all answered by the 4 ZeroMQ workers."""
    out = run_example("gateway.py")
    assert "4 workers connected" in out
    assert "20/20 HTTP requests answered" in out
    assert len(re.findall(r"^  200 worker-\d handled /job/\d+$", out, re.M)) == 20
    per_worker = re.search(r"requests per worker: (\{.*\})", out)
    assert per_worker is not None
    assert sorted(ast.literal_eval(per_worker.group(1))) == [f"worker-{n}" for n in range(4)]


def test_fanout() -> None:
    """fanout.py: the fast subscribers get every message, the slow one drops at its HWM."""
    out = run_example("fanout.py")
    assert "fast subscribers: 10 of 10 received all 5000 messages in order" in out
    slow = re.search(r"slow subscriber: received (\d+) of 5000, (\d+) dropped", out)
    assert slow is not None, out
    received, dropped = int(slow.group(1)), int(slow.group(2))
    assert 0 < received < 5000 and dropped == 5000 - received


def test_broker() -> None:
    """broker.py: every request answered while workers join, crash and hang; events printed."""
    out = run_example("broker.py")
    assert "all 24 requests answered" in out
    assert re.search(r"event: accept tcp://127\.0\.0\.1:\d+", out)
    assert re.search(r"event: disconnect tcp://127\.0\.0\.1:\d+", out)
    assert "broker: worker w2 sent no heartbeat for 0.5 s: expired" in out
    assert "broker: worker w4 is available" in out


def test_legacy_demo() -> None:
    """legacy_demo.py: plain pyzmq code serves requests serially, concurrently once patched."""
    out = run_example("legacy_demo.py")
    plain = re.search(r"plain pyzmq  : 5/5 answered in ([\d.]+) s", out)
    patched = re.search(r"gzmq patched : 5/5 answered in ([\d.]+) s", out)
    assert plain is not None and patched is not None, out
    # Five 0.2 s answers in line take >= 1 s; patched they overlap.  Generous bound only.
    assert float(plain.group(1)) >= 0.9
    assert float(patched.group(1)) < float(plain.group(1))
    assert "zmq.Context is gzmq's now: True" in out


def test_curve_pipeline() -> None:
    """curve_pipeline.py: the known client's messages arrive, the intruder is refused (400)."""
    out = run_example("curve_pipeline.py")
    assert "security=curve" in out
    assert (
        "worker received 5 encrypted messages from the client: "
        "['task 0', 'task 1', 'task 2', 'task 3', 'task 4']" in out
    )
    assert "sent by the client's key: True" in out
    refusals = re.findall(r"^(intruder|worker) sees: +handshake:error:auth .*ZAP status 400\)$",
                          out, re.M)
    assert sorted(refusals) == ["intruder", "worker"]
    assert "nothing from the intruder was delivered" in out
    assert "authenticator: 1 accepted, 1 refused" in out


def test_proxy_control() -> None:
    """proxy_control.py: pause holds every message, resume delivers all in order, hub unstalled."""
    out = run_example("proxy_control.py")
    paused = re.search(r"paused after (\d+) messages; front received (\d+) .*back sent (\d+)", out)
    assert paused is not None, out
    assert 0 < int(paused.group(2)) < 60 and paused.group(2) == paused.group(3), out
    assert "0 messages came through, the proxy read 0 more" in out
    waiting = re.search(r"resumed with (\d+) messages waiting", out)
    assert waiting is not None and int(waiting.group(1)) > 0, out
    assert "statistics: front received 60 (590 B), back sent 60 (590 B)" in out
    assert "consumer received 60 of 60 messages, in order: True" in out
    assert "proxy sockets closed after terminate(): True" in out
    gap = re.search(r"longest gap between 5 ms ticks: (\d+) ms", out)
    assert gap is not None, out
    assert int(gap.group(1)) < 1000, out  # generous: a stalled hub would show seconds
