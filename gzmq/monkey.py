"""Make code that does ``import zmq`` or ``import zmq.green`` cooperative on gzmq.green.

::

    from gzmq import monkey
    monkey.patch()          # before the application creates its contexts

    import zmq              # zmq.Context, zmq.Socket, zmq.Poller... are green now
    import zmq.green        # is gzmq.green

or run a script (or, with ``-m``, a module) patched, as ``python -m
gevent.monkey`` does::

    python -m gzmq.monkey [--gevent] script.py [args...]
    python -m gzmq.monkey [--gevent] -m package.module [args...]

``--gevent`` also runs ``gevent.monkey.patch_all()`` first.

:func:`patch` replaces ``Context``, ``Socket``, ``SyncContext``,
``SyncSocket``, ``Poller``, ``select``, ``zmq_poll``, ``device``, ``proxy``
and ``proxy_steerable`` in ``zmq`` and in the ``zmq.sugar`` modules that
define or re-export them (only where a module holds the original).  It also
makes pyzmq's gevent package ``zmq.green`` and each of its modules
(``zmq.green.core``, ``.poll``, ``.device``, ``.eventloop``, ...) resolve to
gzmq.green's namesake, so that an application written for ``zmq.green``
runs on gzmq.green and pyzmq's zmq.green is never stacked on the patched
classes.  It is idempotent; the first saved original wins; :func:`unpatch`
restores everything.  Nothing happens on import.

Patching late warns (:class:`gzmq.GzmqWarning`): when pyzmq contexts exist
already (sockets made from those stay blocking), and when pyzmq's zmq.green
was imported already.  In that case ``import zmq.green`` gives gzmq.green from
then on and pyzmq's zmq.green module object, which modules imported earlier
still hold, is given gzmq.green's classes and functions; the warning names
what still uses pyzmq's zmq.green (names imported from it, subclasses of its
classes, contexts made from it).

Libraries that put a green layer of their own on plain pyzmq (subclassing
``zmq.Socket`` and waiting on ``zmq.FD`` themselves, as zerorpc does) keep
working when imported after the patch: they subclass gzmq.green's classes,
whose non-blocking calls never wait.
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from gzmq.errors import GzmqWarning

__all__ = ["get_original", "is_patched", "main", "patch", "patched", "unpatch"]

#: The modules whose attributes are replaced (when they hold the original).
MODULES = ("zmq", "zmq.sugar", "zmq.sugar.context", "zmq.sugar.socket", "zmq.sugar.poll")

#: pyzmq's gevent package: it and every module under it resolve to gzmq's namesake.
GREEN_PACKAGE = "zmq.green"

#: (module name, attribute) -> the original object; the first saved wins.
_saved: dict[tuple[str, str], Any] = {}

#: pyzmq's zmq.green modules that were imported when patch() replaced them.
_saved_modules: dict[str, ModuleType] = {}

#: pyzmq's zmq.green modules imported by get_original() while patched.
_pyzmq_green: dict[str, ModuleType] = {}


def _replacements() -> dict[str, Any]:
    import gzmq.green

    return {name: getattr(gzmq.green, name) for name in gzmq.green.GREEN_NAMES}


def _modules() -> list[Any]:
    return [importlib.import_module(name) for name in MODULES]


def _is_green_module(name: str) -> bool:
    """Whether ``name`` is pyzmq's zmq.green package or a module in it."""
    return name == GREEN_PACKAGE or name.startswith(GREEN_PACKAGE + ".")


def _green_module_names() -> list[str]:
    """The zmq.green module names in sys.modules now (pyzmq's modules or aliases)."""
    return [name for name in list(sys.modules) if _is_green_module(name)]


def _namesake(name: str) -> str:
    """gzmq's module for pyzmq's zmq.green module ``name`` (zmq.green.core -> gzmq.green.core)."""
    return "g" + name


class _Alias(importlib.abc.Loader):
    """Loads a zmq.green module as gzmq.green's namesake: the same module object."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a placeholder, replaced in sys.modules by exec_module

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns what sys.modules holds for the name once
        # this returns, and binds it on the parent package (zmq.green on zmq).
        sys.modules[module.__name__] = importlib.import_module(self.target)
        _alias_submodules(module.__name__)


def _alias_submodules(name: str) -> None:
    """Register zmq.green.x for each gzmq.green.x imported already, under zmq.green ``name``.

    Importing them later then finds them and, unlike a fresh load, does not
    bind them on their package: ``gzmq.green.device`` stays the function.
    """
    prefix = _namesake(name) + "."
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith(prefix):
            sys.modules.setdefault(module_name[1:], module)


class _GreenFinder(importlib.abc.MetaPathFinder):
    """While patched, ``import zmq.green[.module]`` finds gzmq.green[.module]."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not _is_green_module(fullname):
            return None
        namesake = _namesake(fullname)
        if importlib.util.find_spec(namesake) is None:
            return None  # gzmq has no such module: "No module named 'zmq.green.x'"
        return importlib.machinery.ModuleSpec(fullname, _Alias(namesake))


_FINDER = _GreenFinder()


def _pyzmq_green_modules() -> dict[str, ModuleType]:
    """pyzmq's own zmq.green modules imported now (not gzmq's namesakes)."""
    return {
        name: module
        for name, module in list(sys.modules.items())
        if _is_green_module(name)
        and isinstance(module, ModuleType)
        and not module.__name__.startswith("gzmq.")
    }


def _existing_contexts() -> tuple[list[Any], list[Any]]:
    """Open pyzmq contexts made before the patch: (plain pyzmq's, pyzmq's zmq.green's).

    Not counted: gzmq.green's, and the pyzmq contexts inside gzmq's native
    contexts (their sockets are cooperative).
    """
    import zmq

    import gzmq.green
    from gzmq._context import Context as NativeContext

    candidates: list[Any] = []
    instance = getattr(get_original("Context"), "_instance", None)
    if instance is not None:
        candidates.append(instance)
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
    found = [ctx for ctx in candidates if id(ctx) not in native and not ctx.closed]
    green = [ctx for ctx in found if _is_green_module(type(ctx).__module__)]
    return [ctx for ctx in found if not _is_green_module(type(ctx).__module__)], green


def _green_users(modules: dict[str, ModuleType]) -> list[str]:
    """Names outside zmq and gzmq bound to pyzmq's zmq.green classes, functions or subclasses."""
    own: dict[int, Any] = {}
    for module in modules.values():
        for value in vars(module).values():
            if callable(value) and _is_green_module(getattr(value, "__module__", None) or ""):
                own[id(value)] = value
    classes = tuple(value for value in own.values() if isinstance(value, type))
    users: list[str] = []
    for module_name, module in list(sys.modules.items()):
        if module_name in ("zmq", "gzmq") or module_name.startswith(("zmq.", "gzmq.")):
            continue
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attribute, value in list(namespace.items()):
            if id(value) in own or (
                isinstance(value, type) and classes and issubclass(value, classes)
            ):
                users.append(f"{module_name}.{attribute}")
    return sorted(users)


def _replace_green_modules(pyzmq_modules: dict[str, ModuleType]) -> None:
    """Make zmq.green and its modules gzmq.green's, now and for later imports."""
    import zmq

    import gzmq.green

    for name, module in pyzmq_modules.items():
        try:
            namesake = importlib.import_module(_namesake(name))
        except ImportError:
            continue  # gzmq has no such module: pyzmq's stays (and is named in the warning)
        _saved_modules.setdefault(name, module)
        sys.modules[name] = namesake
    if GREEN_PACKAGE in _saved_modules:
        _alias_submodules(GREEN_PACKAGE)
    if "green" in vars(zmq):
        zmq.green = gzmq.green
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def patch() -> None:
    """Replace pyzmq's blocking classes and functions, and zmq.green, with gzmq.green's.

    Idempotent.  Warns (GzmqWarning) when pyzmq contexts already exist (their
    sockets stay blocking) and when pyzmq's zmq.green was imported already
    (naming what still uses it).  Patch first thing, before the application
    imports its zmq code.
    """
    first = not is_patched() and _FINDER not in sys.meta_path
    late, late_green = _existing_contexts() if first else ([], [])
    pyzmq_green = _pyzmq_green_modules()
    users = _green_users(pyzmq_green) if pyzmq_green else []
    replacements = _replacements()
    modules = _modules()
    if GREEN_PACKAGE in pyzmq_green:
        # Modules that imported zmq.green before the patch hold this module object.
        modules.append(pyzmq_green[GREEN_PACKAGE])
    for module in modules:
        for name, green in replacements.items():
            current = module.__dict__.get(name)
            if current is None or current is green:
                continue
            _saved.setdefault((module.__name__, name), current)
            setattr(module, name, green)
    _replace_green_modules(pyzmq_green)
    if late:
        warnings.warn(
            f"gzmq.monkey.patch() was called after {len(late)} pyzmq context(s) were "
            "created; sockets of those contexts stay blocking. Patch before the "
            "application creates its contexts (e.g. run it with python -m gzmq.monkey).",
            GzmqWarning,
            stacklevel=2,
        )
    if pyzmq_green:
        still = users + (
            [f"{len(late_green)} zmq.green context(s) made already, and their sockets"]
            if late_green
            else []
        )
        warnings.warn(
            "gzmq.monkey.patch() was called after pyzmq's zmq.green was imported: "
            "import zmq.green gives gzmq.green from now on, and pyzmq's zmq.green module "
            "holds gzmq.green's Context, Socket, Poller, select and device, but these "
            f"still use pyzmq's zmq.green: {', '.join(still) or 'nothing found'}. Patch "
            "before the application imports zmq.green (e.g. run it with python -m "
            "gzmq.monkey).",
            GzmqWarning,
            stacklevel=2,
        )


def unpatch() -> None:
    """Put pyzmq's originals back, zmq.green too (a no-op when not patched)."""
    import zmq

    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in _green_module_names():
        if sys.modules[name] is sys.modules.get(_namesake(name)):
            del sys.modules[name]  # an alias: a later import gets pyzmq's module
    # pyzmq's own modules again: those imported before the patch, or for get_original().
    originals = {**_pyzmq_green, **_saved_modules}
    sys.modules.update(originals)
    import gzmq.green

    if GREEN_PACKAGE in originals:
        zmq.green = originals[GREEN_PACKAGE]
    elif vars(zmq).get("green") is gzmq.green:
        del zmq.green
    for (module_name, name), original in list(_saved.items()):
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
        setattr(module, name, original)
    _saved.clear()
    _saved_modules.clear()
    _pyzmq_green.clear()


def is_patched(name: str = "Context") -> bool:
    """Whether ``zmq.<name>`` is currently gzmq.green's (or, for "zmq.green...", that module)."""
    if _is_green_module(name):
        return _FINDER in sys.meta_path
    import zmq

    replacement = _replacements().get(name)
    if replacement is None:
        raise ValueError(f"gzmq.monkey does not patch {name!r}; it patches {_names()}")
    return getattr(zmq, name, None) is replacement


def get_original(name: str) -> Any:
    """pyzmq's own object for ``name``, whether or not it is patched now.

    ``name`` is an attribute of ``zmq`` ("Context"), a dotted path to one
    of the patched modules' attributes ("zmq.sugar.poll.Poller"), pyzmq's
    zmq.green package or one of its modules ("zmq.green.core"), or an
    attribute of one of those ("zmq.green.Context").  While patched, pyzmq's
    zmq.green is imported for this (against pyzmq's own classes) if it was not
    imported before.
    """
    module_name, _, attribute = name.rpartition(".")
    module_name = module_name or "zmq"
    if _is_green_module(name):
        if _is_green_module(module_name):
            # "zmq.green.Context" (an attribute) or "zmq.green.core" (a module)?
            parent = _original_green_module(module_name)
            value = _saved.get((module_name, attribute), vars(parent).get(attribute))
            if value is not None and not isinstance(value, ModuleType):
                return value
        try:
            return _original_green_module(name)
        except ModuleNotFoundError:
            raise ValueError(f"pyzmq's zmq.green has no module or attribute {name!r}") from None
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


def _original_green_module(name: str) -> ModuleType:
    """pyzmq's own zmq.green module ``name``, imported if need be."""
    module = _saved_modules.get(name) or _pyzmq_green.get(name)
    if module is not None:
        return module
    if _FINDER not in sys.meta_path:
        return importlib.import_module(name)
    _import_pyzmq_green(name)
    return _pyzmq_green[name]


def _import_pyzmq_green(name: str) -> None:
    """While patched, import pyzmq's own zmq.green module ``name`` against pyzmq's classes.

    The patch is lifted for the import only (pyzmq's zmq.green subclasses
    ``zmq.Context`` and ``zmq.Socket``) and put back before this returns;
    the modules are kept for :func:`get_original`, not put in sys.modules.
    """
    import zmq

    aliases = {alias: sys.modules.pop(alias) for alias in _green_module_names()}
    green_attribute = vars(zmq).get("green")
    sys.meta_path.remove(_FINDER)
    lifted: list[tuple[ModuleType, str, Any]] = []
    for (module_name, attribute), original in _saved.items():
        module = sys.modules.get(module_name)
        if module is None or _is_green_module(module_name):
            continue
        lifted.append((module, attribute, vars(module).get(attribute)))
        setattr(module, attribute, original)
    imported: dict[str, ModuleType] = {}
    try:
        importlib.import_module(name)
        imported = _pyzmq_green_modules()
    finally:
        for module_name in _green_module_names():
            del sys.modules[module_name]
        sys.modules.update(aliases)
        for module, attribute, value in lifted:
            setattr(module, attribute, value)
        if green_attribute is None:
            vars(zmq).pop("green", None)
        else:
            zmq.green = green_attribute
        sys.meta_path.insert(0, _FINDER)
    _pyzmq_green.update(imported)


def _names() -> str:
    import gzmq.green

    return ", ".join((*gzmq.green.GREEN_NAMES, GREEN_PACKAGE))


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
