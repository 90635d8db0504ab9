"""What a package index shows: DESCRIPTION.md (the long description) reads right and works.

The sdist and the wheel themselves are built and checked by .ci/release-check
(``python -m build``, ``twine check --strict``, the wheel installed alone, the
suite run from the unpacked sdist).
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = ROOT / "DESCRIPTION.md"


def _blocks(language: str) -> list[str]:
    text = DESCRIPTION.read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w+)\n(.*?)```", text, re.S)
    return [code for lang, code in blocks if lang == language]


def test_setup_cfg_uses_the_description_and_declares_the_license() -> None:
    """setup.cfg's long description is DESCRIPTION.md, and the license is BSD-3-Clause."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    metadata = config["metadata"]
    assert metadata["long_description"] == "file: DESCRIPTION.md"
    assert metadata["license_expression"] == "BSD-3-Clause"
    assert "BSD 3-Clause License" in (ROOT / metadata["license_files"]).read_text()
    classifiers = metadata["classifiers"].split("\n")
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers


def test_description_starts_with_what_an_index_reader_needs() -> None:
    """DESCRIPTION.md says what gzmq is, then `pip install gzmq`; no source-tree commands."""
    text = DESCRIPTION.read_text(encoding="utf-8")
    assert text.startswith("# gzmq")
    assert _blocks("sh")[0].splitlines()[0] == "pip install gzmq"
    for source_only in ("pip install -e", "examples/", ".ci/", "tests/", "](docs/", ".venv"):
        assert source_only not in text, source_only


@pytest.mark.timeout(60)
@pytest.mark.parametrize("number", range(len(_blocks("python"))))
def test_description_python_block_runs(number: int, tmp_path: Path) -> None:
    """DESCRIPTION.md's Python block number N runs to completion in a fresh interpreter."""
    code = _blocks("python")[number]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=50
    )
    assert done.returncode == 0, f"block {number}:\n{code}\n{done.stderr}"
