"""Shared socket: 50 receivers on one PULL vs one receiver (gzmq bench shared).

A thin script: the case lives in gzmq/bench/shared.py so that ``gzmq bench``
finds it in any install.  Options as ``gzmq bench``: --quick, --repeat N,
--json FILE, --markdown.

    python benchmarks/shared_socket.py [--quick] [--repeat N] [--json FILE]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(["shared", *sys.argv[1:]]))
