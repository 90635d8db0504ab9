"""examples/proxy_control.py runs as a user would run it and shows what it claims.

Started as ``python examples/proxy_control.py`` in a fresh interpreter,
bounded by a timeout, like the examples of tests/test_examples.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "proxy_control.py"


def test_proxy_control() -> None:
    """proxy_control.py: pause holds every message, resume delivers all in order, hub unstalled."""
    try:
        done = subprocess.run(
            [sys.executable, str(EXAMPLE)],
            capture_output=True,
            text=True,
            timeout=45,
            cwd=EXAMPLE.parent.parent,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"proxy_control.py did not end within 45 s; output so far:\n{expired.stdout}")
    out = done.stdout
    assert done.returncode == 0, f"exited {done.returncode}:\n{out}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
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
