"""``gzmq bench --quick``: it runs every case and produces every row (never a timing check)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gzmq.bench import CASE_NAMES, load
from gzmq.bench._model import IMPLS

_SCRIPT = shutil.which("gzmq", path=str(Path(sys.executable).parent))
GZMQ = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "gzmq"]


def _expected_rows() -> list[tuple[str, str, str]]:
    return [
        (name, variant.key, metric.key)
        for name in CASE_NAMES
        for variant in load(name).variants
        for metric in variant.metrics
    ]


@pytest.mark.timeout(240)
def test_quick_run_produces_every_row(tmp_path: Path) -> None:
    """gzmq bench --quick exits 0, prints a table and writes JSON with every row and contender."""
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [*GZMQ, "bench", "--quick", "--no-progress", "--json", str(out)],
        capture_output=True, text=True, timeout=220,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    rows = {(row["case"], row["variant"], row["metric"]): row for row in result["rows"]}
    assert sorted(rows) == sorted(_expected_rows())
    for key, row in rows.items():
        assert set(row["values"]) == set(IMPLS), key
        for impl, value in row["values"].items():
            # Each cell is a figure or a failure that says why.
            assert value["median"] is not None or value["failures"], (key, impl)
            for failure in value["failures"]:
                assert failure["reason"], (key, impl)
        assert row["label"] in done.stdout
    assert result["machine"]["cores"]
    assert "targets met" in done.stdout


def test_unknown_case_is_a_clear_error() -> None:
    """An unknown case name exits 2 naming it and the cases there are."""
    done = subprocess.run(
        [*GZMQ, "bench", "nosuchcase"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "nosuchcase" in done.stderr
    assert "throughput" in done.stderr


def test_list_names_every_case() -> None:
    """gzmq bench --list names every case and variant without running anything."""
    done = subprocess.run(
        [*GZMQ, "bench", "--list"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    for name in CASE_NAMES:
        assert f"{name}:" in done.stdout


def test_progress_bar_only_on_a_terminal() -> None:
    """The progress bar is drawn when stderr is a terminal, never into a redirected stderr."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    command = [*GZMQ, "bench", "overhead", "--quick"]
    redirected = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert redirected.returncode == 0, redirected.stderr[-2000:]
    assert redirected.stderr == ""
    assert "gzmq's C accelerator: " in redirected.stdout

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    drawn = b""
    try:
        bench = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        while True:  # read as it comes: a full terminal buffer would stop the command
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command ended and its terminal is drained
                break
            if not chunk:
                break
            drawn += chunk
        assert bench.wait(timeout=60) == 0
    finally:
        os.close(leader)
    assert b"\r" in drawn and b"overhead/" in drawn, drawn[-500:]
