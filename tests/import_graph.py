"""gzmq's import graph: print it, and check that it has no circle.

    python tests/import_graph.py            # the graph, module by module, and the checks
    python tests/import_graph.py --check    # only the checks (exit 1 on a failure)

Every ``import gzmq...`` / ``from gzmq... import`` in gzmq's own modules counts,
at module level or inside a function (a deferred import is still a
dependency), except those under ``if TYPE_CHECKING:`` (annotations only).
Checked: the graph has no circle, and each module imports alone, first, in
a fresh interpreter.  The documentation generator (gzmq._options_doc) may
import anything, and nothing at run time imports it.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gzmq"

#: Modules only documentation tools import (never the runtime).
DOC_ONLY = {"gzmq._options_doc"}

#: Modules that need an optional package (as pyzmq's namesakes do), and which.
OPTIONAL = {
    "gzmq.green.eventloop": "tornado",
    "gzmq.green.eventloop.ioloop": "tornado",
    "gzmq.green.eventloop.zmqstream": "tornado",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """gzmq's modules (name -> file), the __main__ entry excluded."""
    found = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
    found.pop("gzmq.__main__", None)
    return found


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """The line numbers inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    if hasattr(inner, "lineno"):
                        lines.add(inner.lineno)
    return lines


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The gzmq modules ``name`` imports (run-time imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            # ``from gzmq import _thread`` depends on gzmq._thread; ``from gzmq.x
            # import name`` on gzmq.x.
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [target for target in submodules if target in known] or [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("gzmq"):
                found.add(target)
    # A package's submodule imports its package's __init__ first; that edge is
    # Python's, not the module's own, and is left out.
    return found


def graph() -> dict[str, set[str]]:
    table = modules()
    known = set(table)
    return {name: imports_of(name, path, known) for name, path in table.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def check(verbose: bool) -> int:
    edges = graph()
    # The package's __init__ re-exports everything: it is the graph's root, and
    # a submodule importing "gzmq" itself would close a circle through it.
    failures: list[str] = []
    for component in circles(edges):
        failures.append("import circle: " + " -> ".join(component))
    for name, targets in edges.items():
        if name not in DOC_ONLY:
            for target in targets & DOC_ONLY:
                failures.append(f"{name} imports the documentation module {target}")
    if verbose:
        for name in sorted(edges):
            print(f"{name}: {', '.join(sorted(edges[name])) or '-'}")
    for name in sorted(edges):
        if name in OPTIONAL and importlib.util.find_spec(OPTIONAL[name]) is None:
            print(f"{name}: not imported ({OPTIONAL[name]} is not installed)")
            continue
        result = subprocess.run(
            [sys.executable, "-c", f"import {name}"],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )
        if result.returncode != 0:
            failures.append(f"{name} does not import alone: {result.stderr.strip()[-300:]}")
    for failure in failures:
        print(failure)
    if not failures:
        print(f"{len(edges)} modules: no import circle; each imports alone")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(check(verbose="--check" not in sys.argv[1:]))
