"""examples/curve_pipeline.py runs as a user would and shows CURVE and the Authenticator work."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, timeout: float = 45) -> str:
    """Run examples/NAME.py in a fresh interpreter; its output, or fail unless it exits 0."""
    try:
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / name)],
            capture_output=True, text=True, timeout=timeout, cwd=EXAMPLES.parent,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{name} did not end within {timeout} s; output so far:\n{expired.stdout!r}")
    assert done.returncode == 0, f"{name} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout


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
