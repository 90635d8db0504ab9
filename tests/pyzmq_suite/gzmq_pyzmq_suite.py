"""pytest plugin: run pyzmq's own green test classes against gzmq.green (.ci/pyzmq-suite).

Loaded with ``-p gzmq_pyzmq_suite`` into pytest running the tests of pyzmq's
sdist.  ``GZMQ_PYZMQ_SUITE`` picks what ``zmq.green`` is:

* ``gzmq.green``: gzmq.green's modules stand in for zmq.green's (as ``import
  gzmq.green as zmq`` does); the rest of pyzmq is untouched;
* ``monkey``: ``gzmq.monkey.patch()`` first (zmq.green and plain zmq are
  gzmq.green's, as under ``python -m gzmq.monkey``);
* ``zmq.green``: pyzmq's own, for comparison.

Only green tests run: methods of every ``GreenTest`` subclass, and tests
parametrized over the ``zmq.green`` package (test_imports).  With gzmq,
:data:`EXCLUDED` tests are skipped (each with its reason), :data:`PENDING`
ones (per mode) are strict xfails: they run, and the run fails once they pass,
so that the entry is removed; :data:`NOT_RUN` ones would hang and are left out.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

MODE = os.environ.get("GZMQ_PYZMQ_SUITE", "gzmq.green")
MODES = ("gzmq.green", "monkey", "zmq.green")

#: Tests that assert zmq.green's own defects; gzmq.green does not have them.
EXCLUDED: dict[str, str] = {
    "test_socket.py::TestSocketGreen::test_warn_set_timeo": (
        "asserts zmq.green's 'TIMEO socket options have no effect' UserWarning on setting "
        "rcvtimeo; gzmq.green honours RCVTIMEO/SNDTIMEO (DESIGN section 9), so it does not warn"
    ),
    "test_socket.py::TestSocketGreen::test_warn_get_timeo": (
        "asserts zmq.green's 'TIMEO socket options have no effect' UserWarning on reading "
        "sndtimeo; gzmq.green honours RCVTIMEO/SNDTIMEO (DESIGN section 9), so it does not warn"
    ),
}

#: Known gzmq.green defects (issue 19), per mode: strict xfails until fixed.
PENDING: dict[str, dict[str, str]] = {
    "gzmq.green": {},
    "monkey": {},
}

#: Known gzmq.green defects whose test cannot run at all (it would hang CI).
NOT_RUN: dict[str, str] = {}


def _alias_gzmq_green() -> None:
    """Make ``zmq.green`` and its modules gzmq.green's (and nothing else of pyzmq)."""
    import zmq

    import gzmq.green

    for name, module in list(sys.modules.items()):
        if name == "gzmq.green" or name.startswith("gzmq.green."):
            sys.modules[name[1:]] = module
    zmq.green = gzmq.green  # type: ignore[attr-defined]


def _install() -> None:
    if MODE not in MODES:
        raise pytest.UsageError(f"GZMQ_PYZMQ_SUITE={MODE!r}: expected one of {', '.join(MODES)}")
    if MODE == "gzmq.green":
        _alias_gzmq_green()
    elif MODE == "monkey":
        from gzmq import monkey

        monkey.patch()


_install()


def _key(item: pytest.Item) -> str:
    """``file.py::Class::test`` of an item (without the tests/ folder)."""
    return item.nodeid.split("/")[-1]


def _is_green(item: pytest.Item) -> bool:
    from zmq_test_utils import GreenTest  # pyzmq's tests folder is on sys.path by now

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, GreenTest):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("pkgname") == "zmq.green"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the green tests; mark the exclusions and the pending defects (gzmq only)."""
    green = [item for item in items if _is_green(item)]
    if not green:
        raise pytest.UsageError("no green test collected: is this pyzmq's tests folder?")
    keys = {_key(item) for item in green}
    listed = set(EXCLUDED).union(NOT_RUN, *PENDING.values())
    if listed - keys:
        raise pytest.UsageError(f"listed tests not found in this pyzmq: {sorted(listed - keys)}")
    dropped = [item for item in items if item not in green]
    if MODE != "zmq.green":
        pending = PENDING[MODE]
        dropped += [item for item in green if _key(item) in NOT_RUN]
        green = [item for item in green if _key(item) not in NOT_RUN]
        for item in green:
            key = _key(item)
            if key in EXCLUDED:
                item.add_marker(pytest.mark.skip(reason=f"excluded: {EXCLUDED[key]}"))
            elif key in pending:
                item.add_marker(pytest.mark.xfail(reason=pending[key], strict=True))
    items[:] = green
    config.hook.pytest_deselected(items=dropped)
    classes = sorted({item.cls.__name__ for item in green if getattr(item, "cls", None)})
    config.stash[_summary] = {
        "green tests": len(green),
        "classes": classes,
        "functions": len([item for item in green if getattr(item, "cls", None) is None]),
    }


_summary = pytest.StashKey[dict[str, Any]]()


def pytest_report_header(config: pytest.Config) -> str:
    import zmq

    import gzmq

    green = sys.modules.get("zmq.green")
    where = getattr(green, "__name__", "not imported yet")
    return (
        f"gzmq-pyzmq-suite: mode {MODE}, pyzmq {zmq.__version__}, gzmq {gzmq.__version__}, "
        f"zmq.green is {where}"
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = config.stash.get(_summary, None)
    if summary is None:
        return
    import zmq

    green = sys.modules["zmq.green"]
    terminalreporter.write_line(
        f"gzmq-pyzmq-suite [{MODE}]: zmq.green was {green.__name__}; "
        f"{summary['green tests']} green tests: {', '.join(summary['classes'])} and "
        f"{summary['functions']} zmq.green cases of test_imports; pyzmq {zmq.__version__}"
    )
    if MODE != "zmq.green":
        tables = (("excluded", EXCLUDED), ("pending", PENDING[MODE]), ("not run", NOT_RUN))
        for label, table in tables:
            for key, reason in table.items():
                terminalreporter.write_line(f"  {label}: {key}: {reason}")
