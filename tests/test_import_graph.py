"""gzmq's import graph has no circle, and each module imports alone (tests/import_graph.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "import_graph.py"
ROOT = SCRIPT.parent.parent


@pytest.mark.timeout(300)
def test_no_import_circle_and_each_module_imports_alone() -> None:
    """No module depends on itself through others, and each one imports first in a fresh
    interpreter (python tests/import_graph.py prints the graph)."""
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=290
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no import circle" in result.stdout


def test_the_socket_module_does_not_import_the_observer_at_import() -> None:
    """gzmq.socket imports gzmq.observer only when a socket's Observer is first asked for
    (no module-level import of it, TYPE_CHECKING aside)."""
    tree = ast.parse((ROOT / "gzmq" / "socket.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.module != "gzmq.observer", "gzmq.socket imports gzmq.observer at import"
        elif isinstance(node, ast.Import):
            assert all(alias.name != "gzmq.observer" for alias in node.names)
