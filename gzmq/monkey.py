"""Make code that does ``import zmq`` cooperative: patch pyzmq with :mod:`gzmq.green`.

::

    from gzmq import monkey
    monkey.patch()          # before the application creates its contexts

    import zmq              # zmq.Context, zmq.Socket, zmq.Poller... are green now

or run a script (or, with ``-m``, a module) patched, as ``python -m
gevent.monkey`` does::

    python -m gzmq.monkey [--gevent] script.py [args...]
    python -m gzmq.monkey [--gevent] -m package.module [args...]

``--gevent`` also runs ``gevent.monkey.patch_all()`` first.

:func:`patch` replaces ``Context``, ``Socket``, ``SyncContext``,
``SyncSocket``, ``Poller``, ``select``, ``zmq_poll``, ``device``, ``proxy``
and ``proxy_steerable`` in ``zmq`` and in the ``zmq.sugar`` modules that
define or re-export them (only where a module holds the original).  It is
idempotent; the first saved original wins; :func:`unpatch` restores them.
Nothing happens on import.  Patching after pyzmq contexts exist warns
(:class:`gzmq.GzmqWarning`): sockets made from those stay blocking.
"""

from __future__ import annotations

import gc
import os
import runpy
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gzmq.errors import GzmqWarning

__all__ = ["get_original", "is_patched", "main", "patch", "patched", "unpatch"]

#: The modules whose attributes are replaced (when they hold the original).
MODULES = ("zmq", "zmq.sugar", "zmq.sugar.context", "zmq.sugar.socket", "zmq.sugar.poll")

#: (module name, attribute) -> the original object; the first saved wins.
_saved: dict[tuple[str, str], Any] = {}


def _replacements() -> dict[str, Any]:
    import gzmq.green

    return {name: getattr(gzmq.green, name) for name in gzmq.green.GREEN_NAMES}


def _modules() -> list[Any]:
    import importlib

    return [importlib.import_module(name) for name in MODULES]


def _late_contexts() -> list[Any]:
    """pyzmq contexts (not green, not closed, not gzmq's own) that exist already."""
    import zmq

    import gzmq.green
    from gzmq._context import Context as NativeContext

    candidates: list[Any] = []
    instance = getattr(get_original("Context"), "_instance", None)
    if instance is not None:
        candidates.append(instance)
    # gzmq's native contexts hold a pyzmq context; their sockets are cooperative.
    native: set[int] = set()
    for obj in gc.get_objects():
        if isinstance(obj, NativeContext):
            native.add(id(obj._zmq))
        elif (
            isinstance(obj, zmq.backend.Context)
            and not isinstance(obj, gzmq.green.Context)
            and obj is not instance
        ):
            candidates.append(obj)
    return [ctx for ctx in candidates if id(ctx) not in native and not ctx.closed]


def patch() -> None:
    """Replace pyzmq's blocking classes and functions with gzmq.green's. Idempotent.

    Warns (GzmqWarning) when pyzmq contexts already exist: their sockets stay
    blocking.  Patch first thing, before the application imports its zmq code.
    """
    late = _late_contexts() if not is_patched() else []
    replacements = _replacements()
    for module in _modules():
        for name, green in replacements.items():
            current = module.__dict__.get(name)
            if current is None or current is green:
                continue
            _saved.setdefault((module.__name__, name), current)
            setattr(module, name, green)
    if late:
        warnings.warn(
            f"gzmq.monkey.patch() was called after {len(late)} pyzmq context(s) were "
            "created; sockets of those contexts stay blocking. Patch before the "
            "application creates its contexts (e.g. run it with python -m gzmq.monkey).",
            GzmqWarning,
            stacklevel=2,
        )


def unpatch() -> None:
    """Put pyzmq's originals back (a no-op when not patched)."""
    import importlib

    for (module_name, name), original in list(_saved.items()):
        module = importlib.import_module(module_name)
        setattr(module, name, original)
    _saved.clear()


def is_patched(name: str = "Context") -> bool:
    """Whether ``zmq.<name>`` is currently gzmq.green's."""
    import zmq

    replacement = _replacements().get(name)
    if replacement is None:
        raise ValueError(f"gzmq.monkey does not patch {name!r}; it patches {_names()}")
    return getattr(zmq, name, None) is replacement


def get_original(name: str) -> Any:
    """pyzmq's own object for ``name``, whether or not it is patched now.

    ``name`` is an attribute of ``zmq`` ("Context") or a dotted path to one
    of the patched modules' attributes ("zmq.sugar.poll.Poller").
    """
    import importlib

    module_name, _, attribute = name.rpartition(".")
    module_name = module_name or "zmq"
    if attribute not in _replacements():
        raise ValueError(f"gzmq.monkey does not patch {name!r}; it patches {_names()}")
    saved = _saved.get((module_name, attribute))
    if saved is not None:
        return saved
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"{module_name} has no attribute {attribute!r}") from None


def _names() -> str:
    import gzmq.green

    return ", ".join(gzmq.green.GREEN_NAMES)


@contextmanager
def patched() -> Iterator[None]:
    """Patch for the duration of a ``with`` block (left patched if it was already)."""
    already = is_patched()
    patch()
    try:
        yield
    finally:
        if not already:
            unpatch()


_USAGE = """\
usage: python -m gzmq.monkey [--gevent] script.py [args...]
       python -m gzmq.monkey [--gevent] -m module [args...]

Run a script or module with pyzmq patched by gzmq.green (gzmq.monkey.patch()).
  --gevent   also run gevent.monkey.patch_all() first
  -m MODULE  run a library module as a script (like python -m)
"""


def main(argv: list[str] | None = None) -> int:
    """``python -m gzmq.monkey``: run a script or module with pyzmq patched."""
    args = list(sys.argv[1:] if argv is None else argv)
    patch_gevent = False
    module = None
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option in ("-h", "--help"):
            sys.stdout.write(_USAGE)
            return 0
        if option == "--gevent":
            patch_gevent = True
        elif option in ("-m", "--module"):
            if not args:
                sys.stderr.write("gzmq.monkey: -m needs a module name\n" + _USAGE)
                return 2
            module = args.pop(0)
            break
        else:
            sys.stderr.write(f"gzmq.monkey: unknown option {option!r}\n" + _USAGE)
            return 2
    if module is None and not args:
        sys.stderr.write("gzmq.monkey: no script given\n" + _USAGE)
        return 2
    if patch_gevent:
        from gevent import monkey as gevent_monkey

        gevent_monkey.patch_all()
    patch()
    if module is not None:
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script = args[0]
        if not os.path.exists(script):
            sys.stderr.write(f"gzmq.monkey: no such script: {script}\n")
            return 2
        sys.argv = args
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    # Run the real module's main (not this __main__ copy), so that the saved
    # originals live in ``gzmq.monkey`` where the script can query them.
    from gzmq.monkey import main as _main

    sys.exit(_main())
