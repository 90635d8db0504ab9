"""A Sphinx extension with what gzmq's documentation needs beyond autodoc and MyST.

* ``.. gzmq-help:: [SUBCOMMAND]``: the ``gzmq`` command's ``--help`` text,
  formatted by its own parser at build time, so the page cannot drift from it.
* ``.. gzmq-interface:: NAME``: a zope.interface interface of gzmq (autodoc
  does not know them) with its methods and attributes, from the interface.
* Socket classes get a line listing their options, linked to the option
  table; the option descriptors themselves are not repeated as members.
* A reference to a gzmq object by the module that defines it
  (``gzmq._context.Context``, as signatures name it) resolves to the name it
  is documented under (``gzmq.Context``); a class's constructor options
  (``Unpack[DealerOptions]``) to the option table.
* Completeness: every name in the ``__all__`` of gzmq and of its public
  modules (for ``gzmq.green``, its own names) must be documented; each one
  missing is a warning, an error under ``sphinx-build -W``.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import os
import re
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles
from zope.interface import Attribute
from zope.interface.interface import InterfaceClass, Method

import gzmq
import gzmq.sockets
from gzmq.options import Option, options

logger = logging.getLogger(__name__)

#: The modules whose public names the reference must document, and the names:
#: their ``__all__``, except for gzmq.green, whose ``__all__`` is all of pyzmq's.
PUBLIC_MODULES = [
    "gzmq",
    "gzmq.errors",
    "gzmq.events",
    "gzmq.observer",
    "gzmq.proxy",
    "gzmq.interfaces",
    "gzmq.auth",
    "gzmq.monkey",
    "gzmq.poll",
    "gzmq.socket",
    "gzmq.sockets",
    "gzmq.draft",
    "gzmq.green",
]

#: Width of the ``gzmq --help`` text on the page (argparse reads COLUMNS).
HELP_COLUMNS = 88


def public_names(module_name: str) -> list[str]:
    """The names of ``module_name`` that the reference must document."""
    module = importlib.import_module(module_name)
    if module_name == "gzmq.green":
        return [*module.GREEN_NAMES, "GREEN_NAMES"]
    return list(module.__all__)


class GzmqHelp(SphinxDirective):
    """The ``gzmq`` command's help (or a subcommand's) as a literal block."""

    optional_arguments = 1
    option_spec = {"caption": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from gzmq.cli import build_parser

        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = str(HELP_COLUMNS)
        try:
            parser = build_parser()
            if self.arguments:
                name = self.arguments[0]
                subparsers = next(
                    action for action in parser._actions if action.dest == "command"
                )
                choices: dict[str, Any] = subparsers.choices  # type: ignore[assignment]
                if name not in choices:
                    raise self.error(f"gzmq has no subcommand {name!r}: {sorted(choices)}")
                parser = choices[name]
            text = parser.format_help()
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        block = nodes.literal_block(text, text, language="text")
        return [block]


class GzmqInterface(SphinxDirective):
    """A zope.interface interface of gzmq: its docstring, bases, methods and attributes."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        interface = getattr(gzmq, name, None)
        if not isinstance(interface, InterfaceClass):
            raise self.error(f"gzmq.{name} is not a zope.interface interface")
        lines = [f".. py:class:: {name}", ""]
        lines += _indented(inspect.cleandoc(interface.__doc__ or ""), 3)
        bases = [base.__name__ for base in interface.__bases__ if base.__name__ != "Interface"]
        if bases:
            lines += ["", "   Extends " + ", ".join(f":class:`{base}`" for base in bases) + "."]
        for member_name, description in interface.namesAndDescriptions(all=False):
            lines.append("")
            if isinstance(description, Method):
                signature = description.getSignatureString()
                lines += [f"   .. py:method:: {member_name}{signature}", ""]
            elif isinstance(description, Attribute):
                lines += [f"   .. py:attribute:: {member_name}", ""]
            else:
                continue
            lines += _indented(inspect.cleandoc(description.getDoc() or ""), 6)
        container = nodes.section()
        container.document = self.state.document
        source = self.get_source_info()[0]
        nested_parse_with_titles(self.state, StringList(lines, source), container)
        return list(container.children)


def _indented(text: str, width: int) -> list[str]:
    return [(" " * width + line) if line else "" for line in text.splitlines()]


def skip_options(
    app: Sphinx, what: str, name: str, obj: Any, skip: bool, opts: Any
) -> bool | None:
    """Leave option descriptors out of the members: the option table documents them."""
    if isinstance(obj, Option):
        return True
    return None


def add_option_list(
    app: Sphinx, what: str, name: str, obj: Any, opts: Any, lines: list[str]
) -> None:
    """After the docstring of Socket, of a socket class or of Context, list its options."""
    if what != "class" or not isinstance(obj, type):
        return
    if not issubclass(obj, (gzmq.Socket, gzmq.Context)):
        return
    shared = _shared_options()
    names = sorted(options(obj)) if obj is not gzmq.Socket else sorted(shared)
    if obj is gzmq.Context:
        text = "Options: " + _literals(names)
    elif obj is gzmq.Socket:
        text = "Options of every socket class: " + _literals(names)
    else:
        own = [name for name in names if name not in shared]
        text = "Options: those of every socket (:class:`Socket`)"
        text += f", and {_literals(own)}" if own else ""
    lines += ["", text + "; see :doc:`/options`."]


def _shared_options() -> set[str]:
    """The options every standard socket class has."""
    return set.intersection(*(set(options(getattr(gzmq, name))) for name in gzmq.sockets.__all__))


def _literals(names: list[str]) -> str:
    return ", ".join(f"``{name}``" for name in names)


def resolve_by_definition(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve ``gzmq.<module>.Name`` to ``gzmq.Name`` when both are the same object.

    An unqualified name in a signature is looked up in the module being
    documented; one that module imports only for type checkers is gzmq's.
    """
    if node.get("refdomain") != "py":
        return None
    target: str = node.get("reftarget", "")
    if re.fullmatch(r"(gzmq\._option_types\.)?\w+Options", target):
        # A class's constructor options (Unpack[DealerOptions]): the option table.
        return make_refnode(app.builder, node["refdoc"], "options", "", contnode, "options")
    py = env.get_domain("py")
    if "." not in target and str(node.get("py:module") or "").startswith("gzmq"):
        # A name of gzmq's that only one module documents (a type alias such as
        # Message, written unqualified in a signature of another module).
        found = [name for name in py.objects if name.endswith(f".{target}")]  # type: ignore[attr-defined]
        if len(found) == 1 and found[0].startswith("gzmq."):
            entry = py.objects[found[0]]  # type: ignore[attr-defined]
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, found[0]
            )
        target = f"{node['py:module']}.{target}"
    if not target.startswith("gzmq."):
        return None
    module_name, _, name = target.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    value = getattr(module, name, None)
    for documented in (target, f"gzmq.{name}", f"gzmq.green.{name}"):
        # The target itself when documented as another kind (a type alias is
        # data, a signature refers to it as a class), else where it is re-exported.
        owner = importlib.import_module(documented.rpartition(".")[0])
        if value is not None and getattr(owner, name, None) is not value:
            continue
        entry = py.objects.get(documented)  # type: ignore[attr-defined]
        if entry is not None:
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, documented
            )
    return None


def builtins_exactly(app: Sphinx, doctree: nodes.document) -> None:
    """A builtin in a signature (``type``) names the builtin, not any member called so.

    Sphinx looks an annotation up loosely, and ``type`` would also match
    ``Event.type`` and ``ISocket.type``; looked up exactly, it is the builtin.
    """
    for node in doctree.findall(pending_xref):
        if node.get("refdomain") == "py" and hasattr(builtins, node.get("reftarget", "")):
            node.attributes.pop("refspecific", None)


def check_complete(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn for each public name the reference does not document."""
    py = env.get_domain("py")
    documented = set(py.objects) | set(py.modules)  # type: ignore[attr-defined]
    top = importlib.import_module("gzmq")
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            qualified = f"{module_name}.{name}"
            if qualified in documented:
                continue
            # Documented once where users import it: gzmq.<name> for gzmq's re-exports.
            value = getattr(module, name)
            if f"gzmq.{name}" in documented and getattr(top, name, None) is value:
                continue
            logger.warning(
                "%s is public (in %s's public names) but the API reference does not document it",
                qualified,
                module_name,
                type="gzmq",
                subtype="undocumented",
            )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("gzmq-help", GzmqHelp)
    app.add_directive("gzmq-interface", GzmqInterface)
    app.connect("autodoc-skip-member", skip_options)
    app.connect("autodoc-process-docstring", add_option_list)
    app.connect("missing-reference", resolve_by_definition)
    app.connect("doctree-read", builtins_exactly)
    app.connect("env-check-consistency", check_complete)
    return {"version": gzmq.__version__, "parallel_read_safe": True, "parallel_write_safe": True}
