"""``python -m gzmq``: the ``gzmq`` command."""

import sys

from gzmq.cli import main

if __name__ == "__main__":
    sys.exit(main())
