"""The optional C accelerator and the pure-Python fallback behave alike."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gzmq
import gzmq._native

TESTS = Path(__file__).parent


@pytest.mark.skipif(
    importlib.util.find_spec("gzmq._speedups") is None,
    reason="the C accelerator was not built (no compiler at install time)",
)
def test_accelerator_is_bound_when_built() -> None:
    """When gzmq._speedups is built, all three hot-path functions are bound to libzmq."""
    assert gzmq._native.getsockopt_int is not None
    assert gzmq._native.recv_message is not None
    assert gzmq._native.send_frame is not None


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


@pytest.mark.timeout(180)
def test_pure_python_fallback_passes_the_core_tests() -> None:
    """With GZMQ_PURE_PYTHON=1 the core's own tests pass on pyzmq alone."""
    env = dict(os.environ, GZMQ_PURE_PYTHON="1")
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
            str(TESTS / "test_waiting.py"), str(TESTS / "test_sockets.py"),
            "-k", "not fifty and not fork",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
