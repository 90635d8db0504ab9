"""Write gzmq/_option_types.py: each class's constructor options as a TypedDict, from the registry.

    python docs/generate_option_types.py          # rewrite it
    python docs/generate_option_types.py --check  # exit 1 if it is out of date

The socket classes (and Context) type their keyword options with
``**options: Unpack[DealerOptions]``, so a type checker rejects an unknown
option name or a wrong value type per class, as zeromq.js's TypeScript does.
The value types come from each option's kind (``Kind.annotation``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import gzmq
from gzmq.options import options

TARGET = Path(__file__).resolve().parent.parent / "gzmq" / "_option_types.py"

#: The classes whose constructors are typed: the standard sockets, then Context.
CLASSES: list[type] = [
    gzmq.Pair, gzmq.Publisher, gzmq.Subscriber, gzmq.Request, gzmq.Reply,
    gzmq.Dealer, gzmq.Router, gzmq.Pull, gzmq.Push, gzmq.XPublisher,
    gzmq.XSubscriber, gzmq.Stream, gzmq.Context,
]

HEADER = '''"""The keyword options of each class's constructor, as TypedDicts for type checkers.

Generated from the option registry by ``python docs/generate_option_types.py``;
do not edit (tests/test_options.py checks that it is up to date).  Only type
checkers read it: ``Dealer.__init__(self, *, context=None, **options:
Unpack[DealerOptions])``.  Every key is optional (``total=False``); the value
types are what the option accepts.
"""

from __future__ import annotations

'''


def source() -> str:
    """The text of gzmq/_option_types.py, as the registry says it should be."""
    blocks = []
    uses_literal = False
    names = []
    for cls in CLASSES:
        name = f"{cls.__name__}Options"
        names.append(name)
        lines = [
            f"class {name}(TypedDict, total=False):",
            f'    """The keyword options of {cls.__name__}(...): its writable options."""',
            "",
        ]
        for option_name, option in options(cls).items():
            if not option.writable:
                continue
            annotation = option.kind.annotation
            uses_literal = uses_literal or annotation.startswith("Literal[")
            lines.append(f"    {option_name}: {annotation}")
        blocks.append("\n".join(lines) + "\n")
    imports = "from typing import Literal, TypedDict\n" if uses_literal else (
        "from typing import TypedDict\n"
    )
    exports = "__all__ = [\n" + "".join(f'    "{name}",\n' for name in sorted(names)) + "]\n"
    return HEADER + imports + "\n" + exports + "\n\n" + "\n\n".join(blocks)


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, verify) gzmq/_option_types.py."""
    wanted = source()
    if argv == ["--check"]:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != wanted:
            sys.stderr.write(f"{TARGET} is out of date; run python {__file__}\n")
            return 1
        return 0
    if argv:
        sys.stderr.write("usage: python docs/generate_option_types.py [--check]\n")
        return 2
    TARGET.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
