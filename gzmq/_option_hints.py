"""What was probably meant by an option name a class does not have (UnknownOptionError's text).

Close matches (``lingr`` -> ``linger``), pyzmq's names (``sndhwm`` ->
``send_high_water_mark``, derived from each option's libzmq constant and
pyzmq's aliases for it), pyzmq names of options another class has, and
``subscribe`` (a method of Subscriber, not an option).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import zmq

if TYPE_CHECKING:
    from gzmq.options import Option

#: gzmq.options.options: a class's option registry (passed in: this module is
#: gzmq.options' error path and must not import it back).
Registry = Callable[[type], Mapping[str, "Option[Any]"]]

__all__ = ["pyzmq_names", "unknown_option"]


#: pyzmq's names that no constant of ours spells: ``Socket.hwm`` sets both HWMs.
_PYZMQ_EXTRA = {
    "hwm": ("send_high_water_mark", "receive_high_water_mark"),
    "xpub_verbose": ("verbosity",),
}


def pyzmq_names(cls: type, options: Registry) -> dict[str, tuple[str, ...]]:
    """pyzmq's lowercase option names (sndhwm, rcvtimeo, identity, ...) -> this class's names.

    Derived from each writable option's libzmq constant and pyzmq's aliases
    for it (ZMQ_SNDHWM: ``sndhwm``; ZMQ_ROUTING_ID: ``routing_id`` and
    ``identity``), plus ``hwm`` and ``xpub_verbose``.
    """
    names: dict[str, tuple[str, ...]] = {}
    registry = options(cls)
    for ours, option in registry.items():
        if not option.writable:
            continue
        base = option.constant[4:]
        for constants in (zmq.SocketOption, zmq.ContextOption):
            member = constants.__members__.get(base)
            if member is not None and int(member) == option.id:
                for alias, value in constants.__members__.items():
                    if int(value) == option.id:
                        names.setdefault(alias.lower(), (ours,))
                break
        names.setdefault(base.lower(), (ours,))
    for theirs, candidates in _PYZMQ_EXTRA.items():
        present = tuple(name for name in candidates if name in registry)
        if present:
            names.setdefault(theirs, present)
    return names


def unknown_option(
    cls: type,
    registry: Mapping[str, Option[Any]],
    name: str,
    option: Option[Any] | None,
    options: Registry,
) -> str:
    """Why ``name`` cannot be given to ``cls(...)``, and what was probably meant.

    ``options`` is gzmq.options.options (each class's registry).
    """
    writable = [n for n, o in registry.items() if o.writable]
    valid = ", ".join(writable)
    where = cls.__name__
    if option is not None:
        return f"{name!r} is a read-only option of {where}; writable options: {valid}"
    if name in ("subscribe", "unsubscribe"):
        if hasattr(cls, "subscribe"):
            return (
                f"{name!r} is not an option of {where}: call sub.{name}(b'topic') after "
                f"constructing it (no argument: every message); writable options: {valid}"
            )
        return f"{name!r} is not an option of {where} (only Subscriber subscribes)"
    ours = pyzmq_names(cls, options).get(name.lower())
    if ours is not None and name not in ours:
        spelled = " and ".join(repr(n) for n in ours)
        return (
            f"{name!r} is not an option of {where}: {name!r} is pyzmq's name, gzmq spells it "
            f"out as {spelled}"
        )
    for relative in _relatives(cls, options):
        theirs = pyzmq_names(relative, options).get(name.lower())
        if theirs is not None:
            spelled = " and ".join(repr(n) for n in theirs)
            return (
                f"{name!r} is not an option of {where}: {name!r} is pyzmq's name for {spelled}, "
                f"which {where} does not have; writable options: {valid}"
            )
    close = difflib.get_close_matches(name, writable, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
    return f"{name!r} is not an option of {where}{hint} (writable options: {valid})"


def _relatives(cls: type, options: Registry) -> list[type]:
    """The other classes that share an option mixin with ``cls`` (every socket class)."""
    declared = {id(option) for option in options(cls).values()}
    found: list[type] = []
    pending: list[type] = [
        klass for klass in cls.__mro__
        if any(id(value) in declared for value in vars(klass).values())
    ]
    while pending:
        klass = pending.pop()
        subclasses: list[type] = klass.__subclasses__()
        for sub in subclasses:
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return [klass for klass in found if klass is not cls]
