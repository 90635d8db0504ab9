"""Generates docs/options.md from the option registry (docs/generate_options.py).

Only documentation tools import this module; the runtime never does.
"""

from __future__ import annotations

from typing import Any

from gzmq.options import READ, READ_WRITE, WRITE, Option, options

__all__ = ["markdown"]

_ACCESS_TEXT = {READ: "read", WRITE: "write", READ_WRITE: "read-write"}
_ACCESS_CELL = {READ: "r", WRITE: "w", READ_WRITE: "rw"}


def _documented_classes() -> tuple[type, list[type]]:
    """The Context class and every public socket class of gzmq."""
    import gzmq
    from gzmq.socket import Socket

    sockets = {
        value
        for value in (getattr(gzmq, name) for name in gzmq.__all__ if name[:1].isupper())
        if isinstance(value, type) and issubclass(value, Socket) and hasattr(value, "_socket_type")
    }
    # libzmq's socket type numbers give zeromq.js's order: Pair, Publisher, ...
    return gzmq.Context, sorted(sockets, key=lambda cls: (cls._socket_type, cls.__name__))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _summary(option: Option[Any]) -> str:
    first = option.doc.strip().splitlines()[0]
    return _cell(first.split(":", 1)[1].strip() if ":" in first else first)


def _needs(option: Option[Any]) -> str:
    needs = []
    if option.capability:
        needs.append(option.capability)
    if option.since:
        needs.append("libzmq ≥ " + ".".join(map(str, option.since)))
    return ", ".join(needs)


def _effect(option: Option[Any]) -> str:
    if not option.writable:
        return "(read-only)"
    return "at once" if option.immediate else "next connect/bind"


def markdown() -> str:
    """The option tables of docs/options.md, generated from the registry."""
    context_cls, socket_classes = _documented_classes()
    lines = [
        "# Options",
        "",
        "<!-- Generated from the option registry by `python docs/generate_options.py`;",
        "     do not edit by hand (tests/test_options.py checks it is up to date). -->",
        "",
        "Options are attributes, spelled out in snake_case, on exactly the classes",
        "that have them; any writable one may also be given to the constructor as a",
        "keyword, e.g. `gzmq.Dealer(linger=0, routing_id=b\"worker-1\")`.",
        "",
        "* **access**: reading a write-only option raises `WriteOnlyOptionError`;",
        "  setting a read-only one raises `ReadOnlyOptionError`.",
        "* **values** are checked before libzmq sees them: a wrong type raises a",
        "  `TypeError` naming the option and the expected type, a value out of range",
        "  `OptionValueError`.",
        "* **effect**: `at once` options may be changed at any time; the others apply",
        "  to connections made afterwards, and setting them on a socket that is already",
        "  bound or connected warns `LateOptionWarning`.",
        "* **needs**: options the linked libzmq may lack raise `NotSupportedError`.",
        "",
        "## Context",
        "",
        "| option | libzmq | type | access | description |",
        "|---|---|---|---|---|",
    ]
    for name, option in options(context_cls).items():
        lines.append(
            f"| `{name}` | `{option.constant}` | {_cell(option.kind.describe())} | "
            f"{_ACCESS_TEXT[option.access]} | {_summary(option)} |"
        )
    lines += [
        "",
        "## Which socket class has which option",
        "",
        "r = read-only, w = write-only, rw = read-write, blank = not on that class.",
        "",
        "| option | " + " | ".join(cls.__name__ for cls in socket_classes) + " |",
        "|---|" + "|".join(":-:" for _ in socket_classes) + "|",
    ]
    everything: dict[str, Option[Any]] = {}
    for cls in socket_classes:
        everything.update(options(cls))
    for name in sorted(everything):
        cells = []
        for cls in socket_classes:
            found = options(cls).get(name)
            cells.append(_ACCESS_CELL[found.access] if found is not None else "")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Socket options",
        "",
        "| option | libzmq | type | effect | needs | description |",
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(everything):
        variants: dict[tuple[str, str, str, str, str], list[str]] = {}
        for cls in socket_classes:
            found = options(cls).get(name)
            if found is not None:
                key = (
                    found.constant,
                    found.kind.describe(),
                    _effect(found),
                    _needs(found),
                    _summary(found),
                )
                variants.setdefault(key, []).append(cls.__name__)
        for (constant, kind, effect, needs, summary), owners in variants.items():
            label = f"`{name}`"
            if len(variants) > 1:
                label += " (" + ", ".join(owners) + ")"
            lines.append(
                f"| {label} | `{constant}` | {_cell(kind)} | {effect} | {needs} | {summary} |"
            )
    lines.append("")
    return "\n".join(lines)
