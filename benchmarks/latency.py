"""REQ/REP round-trip latency, tcp across processes and inproc (gzmq bench latency).

A thin script: the case lives in gzmq/bench/latency.py so that ``gzmq bench``
finds it in any install.  Options as ``gzmq bench``: --quick, --repeat N,
--json FILE, --markdown.

    python benchmarks/latency.py [--quick] [--repeat N] [--json FILE]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(["latency", *sys.argv[1:]]))
