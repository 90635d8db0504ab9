"""The documentation (docs/) works as written: its code blocks run, its reference is complete.

The guides' Python and shell blocks run as tests/test_readme.py runs the
README's (tests/markdown_blocks.py: real sockets, a fresh interpreter each);
a block that cannot run says why.  ``.ci/docs`` builds the site with
warnings as errors, which also checks the reference against the modules'
``__all__`` as Sphinx sees it; the test here reads the reference's sources,
so that a name left out fails the ordinary test run too.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_blocks import NOT_CODE, RUNNABLE, Block, blocks, problem, run

import gzmq
import gzmq.green

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)
BLOCKS = [block for page in PAGES for block in blocks(page)]
RUNS = [block for block in BLOCKS if block.runs]


def test_docs_have_guides_with_running_blocks() -> None:
    """The guides exist and most of their code runs (the count guards against a broken parser)."""
    names = {path.relative_to(DOCS).as_posix() for path in PAGES}
    for guide in ("index.md", "quickstart.md", "migrating.md", "guarantees.md", "cli.md",
                  "cookbook/index.md", "development.md", "options.md"):
        assert guide in names
    assert len(RUNS) >= 25, [block.label for block in RUNS]


def test_every_block_runs_or_says_why() -> None:
    """Each block is runnable code, output, or a directive; a not-run mark gives a reason."""
    for block in BLOCKS:
        if block.language.startswith("{"):
            continue
        assert block.language in RUNNABLE + NOT_CODE, (
            f"{block.label}: unknown block language {block.language!r} (use one of "
            f"{RUNNABLE + NOT_CODE}, so that the block runs or is plainly not code)"
        )
        if block.not_run is not None:
            assert block.language in RUNNABLE, f"{block.label}: a not-run mark on a text block"


def test_no_code_hides_in_a_directive() -> None:
    """Code comes as plain blocks (which run) or as examples/ files (which test_examples runs)."""
    for block in BLOCKS:
        assert block.language not in ("{code-block}", "{code}", "{sourcecode}"), block.label
        if block.language == "{literalinclude}":
            included = (block.path.parent / block.argument).resolve()
            assert included.parent == ROOT / "examples" and included.exists(), block.label


@pytest.mark.timeout(60)
@pytest.mark.parametrize("block", RUNS, ids=lambda block: block.label)
def test_doc_block_runs(block: Block, tmp_path: Path) -> None:
    """A guide's code block runs to completion (and prints the output shown under it)."""
    failure = problem(block, run(block, tmp_path))
    assert failure is None, failure


def test_links_between_pages_resolve() -> None:
    """Every relative link of the guides and the README names a file that exists."""
    for page in [*PAGES, ROOT / "README.md"]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#", 1)[0]).resolve()
            assert path.exists(), f"{page.relative_to(ROOT)} links to {target}, which is missing"


# -- the API reference names every public name -----------------------------------------

_DIRECTIVE = re.compile(
    r"^\s*\.\. (?:auto(?P<auto>class|function|data|exception|module|method|attribute)"
    r"|py:(?P<py>class|function|data|exception|module|currentmodule|method|attribute)"
    r"|(?P<module>module|currentmodule)|gzmq-(?P<interface>interface))::\s*(?P<name>\S+)"
)


def documented_names() -> set[str]:
    """The fully qualified names the API pages (docs/api/*.rst) document."""
    names: set[str] = set()
    for page in sorted((DOCS / "api").glob("*.rst")):
        current = "gzmq"
        lines = page.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = _DIRECTIVE.match(line)
            if match is None:
                continue
            name = match["name"]
            if match["auto"] == "module":
                names.add(name)
                current = name
                options = lines[number + 1 : number + 4]
                if not any(":no-members:" in option for option in options):
                    # automodule documents the module's __all__.
                    module = importlib.import_module(name)
                    names.update(f"{name}.{member}" for member in module.__all__)
                continue
            kind = match["py"] or match["module"] or match["auto"] or match["interface"]
            if kind in ("module", "currentmodule"):
                current = name
                if kind == "module":
                    names.add(name)
                continue
            names.add(name if name.startswith("gzmq.") else f"{current}.{name}")
    return names


def test_api_reference_documents_every_public_name() -> None:
    """Every name in gzmq.__all__ (and in the public modules' __all__) is in docs/api."""
    documented = documented_names()
    missing = []
    for module_name in ("gzmq", "gzmq.errors", "gzmq.events", "gzmq.observer", "gzmq.proxy",
                        "gzmq.interfaces", "gzmq.auth", "gzmq.monkey", "gzmq.poll",
                        "gzmq.socket", "gzmq.sockets", "gzmq.draft"):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if f"{module_name}.{name}" in documented:
                continue
            if f"gzmq.{name}" in documented and getattr(gzmq, name, None) is value:
                continue  # documented once, where users import it from
            missing.append(f"{module_name}.{name}")
    for name in gzmq.green.GREEN_NAMES:
        if f"gzmq.green.{name}" not in documented:
            missing.append(f"gzmq.green.{name}")
    assert not missing, f"not in the API reference (docs/api/*.rst): {missing}"


def test_readme_figures_come_from_the_recorded_runs() -> None:
    """README.md's comparison row and performance tables are what docs/generate_figures.py
    writes from docs/figures/*.json (one run of gzmq bench, one of --instructions)."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "docs" / "generate_figures.py"), "--check"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
