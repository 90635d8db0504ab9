"""``gzmq bench``: every case and row runs (never a timing check); ``--instructions`` counts.

The ``--instructions`` tests need valgrind and strace; they skip without them,
and fail instead under GZMQ_REQUIRE_TOOLS=1 (CI, which installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gzmq.bench import CASE_NAMES, load
from gzmq.bench._baseline import BASELINE
from gzmq.bench._baseline import load as load_baseline
from gzmq.bench._counts_cli import GZMQ_CONTENDERS
from gzmq.bench._instructions import parse_strace

_SCRIPT = shutil.which("gzmq", path=str(Path(sys.executable).parent))
GZMQ = [_SCRIPT] if _SCRIPT else [sys.executable, "-m", "gzmq"]


def _expected_rows() -> dict[tuple[str, str, str], tuple[str, ...]]:
    return {
        (name, variant.key, metric.key): variant.impls
        for name in CASE_NAMES
        for variant in load(name).variants
        for metric in variant.metrics
    }


def _need_tools() -> None:
    """Skip unless valgrind and strace are installed; fail instead under GZMQ_REQUIRE_TOOLS=1."""
    missing = [tool for tool in ("valgrind", "strace") if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"gzmq bench --instructions needs {' and '.join(missing)} (apt-get install it)"
    if os.environ.get("GZMQ_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (GZMQ_REQUIRE_TOOLS=1: this test must run here)")
    pytest.skip(reason)


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
    expected = _expected_rows()
    assert sorted(rows) == sorted(expected)
    for key, row in rows.items():
        assert set(row["values"]) == set(expected[key]), key
        for impl, value in row["values"].items():
            # Each cell is a figure or a failure that says why.
            assert value["median"] is not None or value["failures"], (key, impl)
            for failure in value["failures"]:
                assert failure["reason"], (key, impl)
        assert row["label"] in done.stdout
    assert result["machine"]["cores"]
    assert "targets met" in done.stdout
    # The pure-Python row ran with the accelerator off (its measure raises otherwise) and
    # its ratio is taken against raw pyzmq's plain send+recv.
    pure = rows[("overhead", "pure", "time")]
    assert pure["values"]["gzmq"]["median"] is not None, pure["values"]["gzmq"]["failures"]
    assert pure["ratios"]["gzmq/pyzmq"] is not None


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


def test_counting_options_need_instructions() -> None:
    """--ops without --instructions, and a timed case with it, exit 2 saying what is wrong."""
    done = subprocess.run(
        [*GZMQ, "bench", "--ops", "5"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "--ops: only with --instructions" in done.stderr
    done = subprocess.run(
        [*GZMQ, "bench", "--instructions", "overhead"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "overhead" in done.stderr and "sendrecv, pipe, req" in done.stderr


@pytest.mark.parametrize("present", [(), ("valgrind",), ("strace",)])
def test_instructions_without_the_tools_names_them(
    tmp_path: Path, present: tuple[str, ...]
) -> None:
    """Without valgrind or strace on PATH, --instructions exits 3 naming what to install."""
    for tool in present:
        found = shutil.which(tool)
        if found is None:
            pytest.skip(f"{tool} is not installed")
        (tmp_path / tool).symlink_to(found)
    done = subprocess.run(
        [sys.executable, "-m", "gzmq", "bench", "--instructions"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PATH": str(tmp_path)},
    )
    assert done.returncode == 3, done.stderr
    assert "apt-get install valgrind strace" in done.stderr
    missing = [tool for tool in ("valgrind", "strace") if tool not in present]
    assert f"not found on PATH: {', '.join(missing)}." in done.stderr
    assert done.stdout == ""


def test_parse_strace_summary() -> None:
    """The total and per-syscall counts come from strace -c's table, with or without errors."""
    text = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- -------------------
 23.63    0.000502           0       560        84 newfstatat
 19.63    0.000417           2       163           read
------ ----------- ----------- --------- --------- -------------------
100.00    0.002124           1       723        84 total
"""
    assert parse_strace(text) == (723, {"newfstatat": 560, "read": 163})
    with pytest.raises(ValueError, match="total"):
        parse_strace("strace: exec: No such file or directory\n")


def test_committed_baseline_holds_gzmqs_cases() -> None:
    """gzmq/bench/baseline.json is a valid baseline with every case of gzmq's contenders."""
    baseline = load_baseline(BASELINE)
    expected = {
        (case, contender)
        for case in ("sendrecv", "pipe", "req")
        for contender in GZMQ_CONTENDERS
        if contender != "gzmq-pure" or case == "sendrecv"
    }
    assert set(baseline.pairs()) == expected
    assert baseline.tolerance == pytest.approx(0.10)
    assert all(count > 0 for count in baseline.instructions.values())


def test_bad_baseline_is_a_clear_error(tmp_path: Path) -> None:
    """A baseline file that is missing or malformed exits 2 naming the file."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"ops": 10, "tolerance": 0.1, "instructions": {"nosuch/gzmq": 5}}')
    for path, words in ((tmp_path / "missing.json", "no baseline at"), (bad, "nosuch/gzmq")):
        done = subprocess.run(
            [*GZMQ, "bench", "--instructions", "--check-baseline", str(path)],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert str(path) in done.stderr and words in done.stderr


@pytest.mark.timeout(300)
def test_instructions_counts_per_operation() -> None:
    """--instructions --json - prints per-operation instruction and syscall counts as JSON."""
    _need_tools()
    done = subprocess.run(
        [*GZMQ, "bench", "--instructions", "sendrecv", "--contenders", "gzmq,pyzmq",
         "--ops", "100", "--json", "-"],
        capture_output=True, text=True, timeout=280,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    counts = {item["contender"]: item for item in result["results"]}
    assert set(counts) == {"gzmq", "pyzmq"}
    for item in counts.values():
        assert item["errors"] == []
        # A send and a recv through Python and libzmq: thousands of instructions, not none.
        assert item["instructions_per_op"] > 500
        assert item["syscalls_per_op"] is not None
    assert counts["gzmq"]["accelerated"] is True
    assert result["ops"] == 100
    assert "sendrecv" in done.stderr and "instructions" in done.stderr  # the table


@pytest.mark.timeout(300)
def test_gate_fails_on_growth(tmp_path: Path) -> None:
    """--check-baseline passes on a fresh baseline and fails, naming the case, on a 2x growth."""
    _need_tools()
    baseline = tmp_path / "baseline.json"
    common = ["--no-progress", "--jobs", "2"]
    done = subprocess.run(
        [*GZMQ, "bench", "--instructions", "--write-baseline", str(baseline), "sendrecv",
         "--contenders", "pyzmq", "--ops", "100", *common],
        capture_output=True, text=True, timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    recorded = json.loads(baseline.read_text())
    assert list(recorded["instructions"]) == ["sendrecv/pyzmq"]
    assert recorded["ops"] == 100

    check = [*GZMQ, "bench", "--instructions", "--check-baseline", str(baseline), *common]
    done = subprocess.run(check, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "perf gate passed" in done.stdout

    recorded["instructions"]["sendrecv/pyzmq"] /= 2  # as if the code had doubled in cost
    baseline.write_text(json.dumps(recorded))
    done = subprocess.run(check, capture_output=True, text=True, timeout=90)
    assert done.returncode == 1
    assert "GREW" in done.stdout
    assert "perf gate FAILED: sendrecv/pyzmq" in done.stdout
