"""Sphinx configuration for gzmq's documentation (``tox -e docs`` builds it into docs/_build/html).

The guides are Markdown (MyST), so that tests/test_docs.py runs their code
blocks as tests/test_readme.py runs the README's; the API reference is
reStructuredText, because autodoc emits reStructuredText.  ``_ext/gzmq_docs.py``
adds what is particular to gzmq: the ``gzmq`` command's help, taken from its
parser at build time; the option lists of the socket classes; references to
gzmq's objects by the module that defines them (``gzmq._context.Context`` in a
signature is the documented ``gzmq.Context``); and a check, warning (an error
under ``-W``) for each public name the reference does not document.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import gzmq  # noqa: E402 - the version comes from the package being documented

project = "gzmq"
author = "the gzmq authors"
copyright = "the gzmq authors, BSD-3-Clause"
release = gzmq.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "myst_parser",
    "gzmq_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# generate_options.py's README summary and examples/ live outside docs/: nothing else is read.

myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "undoc-members": False}
autoclass_content = "class"
# Signatures say Message, not the union it stands for (documented on the Sockets page).
autodoc_type_aliases = {"Message": "gzmq.socket.Message", "Frame": "gzmq.socket.Frame"}

# Every cross-reference must resolve (sphinx-build -n), except those below.
# The standard library's and the libraries gzmq builds on: linking them would
# need their inventories downloaded (intersphinx), and the build works offline.
# Private helpers that signatures mention (the type of ``auth.ANY``, the
# protocol of objects with ``fileno()``), type variables and typing's
# constructs (which older Sphinx releases do not resolve) are shown unlinked.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(zmq|gevent|greenlet|zope|typing_extensions)(\..*)?"),
    (r"py:.*", r"(collections|os|pathlib|json|enum|ipaddress|types|typing)(\..*)?"),
    (r"py:class", r"Self|Unpack"),
    (r"py:class", r"gzmq(\.\w+)*\._\w+"),
    (r"py:class", r"gzmq(\.\w+)*\.T"),
]

html_theme = "furo"
html_title = f"gzmq {release}"
html_static_path: list[str] = []
