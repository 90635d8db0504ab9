"""The README's examples work as written: every Python block, and the gzmq command block."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
PYTHON = [code for language, code in BLOCKS if language == "python"]


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def test_readme_has_examples() -> None:
    """The README shows Python examples and the two commands first (this file tests them)."""
    assert len(PYTHON) >= 5
    first = README.read_text(encoding="utf-8").split("```sh\n", 1)[1].splitlines()
    assert "examples/demo.py" in first[0] and "pytest" in first[1]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("number", range(len(PYTHON)))
def test_python_example_runs(number: int, tmp_path: Path) -> None:
    """README Python block number N runs to completion in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PYTHON[number]],
        cwd=tmp_path, capture_output=True, text=True, timeout=50,
    )
    assert done.returncode == 0, f"block {number}:\n{PYTHON[number]}\n{done.stderr}"


@pytest.mark.timeout(120)
def test_command_examples_run(tmp_path: Path) -> None:
    """The README's gzmq command block runs under bash -e with the expected output."""
    block = re.search(r"```sh\n(.*?)```", _section("The gzmq command"), re.S)
    assert block is not None
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    done = subprocess.run(
        ["bash", "-e", "-c", block.group(1).replace("gzmq bench --quick", "gzmq bench --help")],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=110,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for expected in ("hello", "world", "pong", "weather: sunny", "1", "2", "3"):
        assert expected in lines, (expected, done.stdout)
    assert "sport: none" not in lines
    assert (tmp_path / "certs" / "server.key").exists()
