"""The code blocks of a Markdown file, and running one as its reader would.

Shared by tests/test_readme.py (README.md) and tests/test_docs.py (the guides
in docs/).  A fenced block is found with its language and line:

* ```python runs in a fresh interpreter (``python -c``), ```sh under
  ``bash -e`` with this interpreter's scripts (``gzmq``) first on PATH; both
  in a scratch directory holding only a link to the repository's
  ``examples/``, as if run from a checkout.  Every such block runs unless the
  line just before its fence is ``<!-- not run: REASON -->``, which says why
  (a server that runs until stopped, a command that installs software...).
* ```text shows output or help; it is not code.  Marked
  ``<!-- output of the block above -->`` it is what the preceding block must
  print: each of its lines, in order, among the lines printed, ``...`` in a
  line standing for any text (a port number, a duration).
* A MyST directive (```{name}) is not a code block; any other language is an
  error, so that no block escapes these rules by its spelling.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Languages whose blocks run, and the one that is not code.
RUNNABLE = ("python", "sh")
NOT_CODE = ("text",)

_FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^`]*)$")
_NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>\S.*?) -->$")
_OUTPUT_MARK = "<!-- output of the block above -->"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Block:
    """One fenced block of a Markdown file."""

    path: Path
    line: int  # of the opening fence, 1-based
    language: str  # "python", "sh", "text", or "{directive}"
    argument: str  # the rest of the fence's line (a directive's argument)
    code: str
    not_run: str | None  # the reason given by a not-run mark
    expected: tuple[str, ...] | None  # lines the block must print, from an output block

    @property
    def label(self) -> str:
        """``docs/page.md:LINE`` (from the repository's root), for test ids and messages."""
        try:
            name = self.path.relative_to(ROOT).as_posix()
        except ValueError:
            name = self.path.name
        return f"{name}:{self.line}"

    @property
    def runs(self) -> bool:
        """Whether the block is code that runs (a runnable language, not marked otherwise)."""
        return self.language in RUNNABLE and self.not_run is None


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` in order, each with its mark and expected output."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    number = 0
    while number < len(lines):
        match = _FENCE.match(lines[number])
        if match is None:
            number += 1
            continue
        fence = match["fence"]
        language, _, argument = match["info"].strip().partition(" ")
        end = number + 1
        while end < len(lines) and lines[end].rstrip() != fence:
            end += 1
        if end == len(lines):
            raise ValueError(f"{path}:{number + 1}: a code fence that is never closed")
        previous = lines[number - 1] if number else ""
        reason = _NOT_RUN.match(previous)
        block = Block(
            path=path,
            line=number + 1,
            language=language,
            argument=argument.strip(),
            code="\n".join(lines[number + 1 : end]) + "\n",
            not_run=reason["reason"] if reason else None,
            expected=None,
        )
        if previous == _OUTPUT_MARK:
            if not found or found[-1].expected is not None or language != "text":
                raise ValueError(f"{block.label}: an output mark must precede a text block "
                                 "that follows a code block")
            found[-1] = Block(**{**found[-1].__dict__, "expected": tuple(block.code.splitlines())})
        found.append(block)
        number = end + 1
    return found


def run(block: Block, directory: Path, timeout: float = 50) -> subprocess.CompletedProcess[str]:
    """Run ``block`` in ``directory`` as its reader would: python -c, or bash -e."""
    if not (directory / "examples").exists():
        (directory / "examples").symlink_to(EXAMPLES, target_is_directory=True)
    environment = dict(os.environ)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    if block.language == "python":
        command = [sys.executable, "-c", block.code]
    elif block.language == "sh":
        command = ["bash", "-e", "-c", block.code]
    else:
        raise ValueError(f"{block.label}: a {block.language} block does not run")
    return subprocess.run(
        command, cwd=directory, env=environment, capture_output=True, text=True, timeout=timeout
    )


def problem(block: Block, done: subprocess.CompletedProcess[str]) -> str | None:
    """Why the run of ``block`` failed (exit status or missing output), or None."""
    if done.returncode != 0:
        return f"{block.label} exited {done.returncode}:\n{block.code}\n{done.stdout}{done.stderr}"
    if block.expected is not None:
        printed = iter(done.stdout.splitlines())
        for wanted in block.expected:
            pattern = re.compile(".*".join(map(re.escape, wanted.rstrip().split("..."))))
            if not any(pattern.fullmatch(line.rstrip()) for line in printed):
                return (f"{block.label} did not print {wanted!r} (in order, after the lines "
                        f"before it):\n{done.stdout}")
    return None
