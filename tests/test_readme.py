"""The README's examples work as written: every Python and shell block runs, or says why not.

The blocks run as the documentation's do (tests/markdown_blocks.py): each in a
fresh interpreter or under ``bash -e``, from an empty directory, with real
sockets; a block followed by a marked ```text block must print those lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_blocks import NOT_CODE, RUNNABLE, Block, blocks, problem, run

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = blocks(README)
RUNS = [block for block in BLOCKS if block.runs]


def test_readme_has_examples() -> None:
    """The README starts with its two commands (install and demo, install and test); code runs."""
    first = README.read_text(encoding="utf-8").split("```sh\n", 1)[1].splitlines()
    assert "examples/demo.py" in first[0] and "pytest" in first[1]
    assert [block.language for block in RUNS].count("python") >= 1
    assert [block.language for block in RUNS].count("sh") >= 1


def test_every_block_runs_or_says_why() -> None:
    """Each README block is runnable code, output, or marked not run with a reason."""
    for block in BLOCKS:
        assert block.language in RUNNABLE + NOT_CODE, f"{block.label}: {block.language!r}"
        if block.not_run is not None:
            assert block.language in RUNNABLE, f"{block.label}: a not-run mark on a text block"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("block", RUNS, ids=lambda block: block.label)
def test_readme_block_runs(block: Block, tmp_path: Path) -> None:
    """A README code block runs to completion (and prints the output shown under it)."""
    failure = problem(block, run(block, tmp_path))
    assert failure is None, failure
