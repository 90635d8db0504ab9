"""Write docs/options.md from gzmq's option registry.

    python docs/generate_options.py          # rewrite docs/options.md
    python docs/generate_options.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from gzmq.options import options_markdown

TARGET = Path(__file__).resolve().parent / "options.md"


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, verify) docs/options.md."""
    text = options_markdown()
    if argv == ["--check"]:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            sys.stderr.write(f"{TARGET} is out of date; run python {__file__}\n")
            return 1
        return 0
    if argv:
        sys.stderr.write("usage: python docs/generate_options.py [--check]\n")
        return 2
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
