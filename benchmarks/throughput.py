"""Throughput PUSH->PULL, 64 B and 64 KiB, inproc and tcp (gzmq bench throughput).

A thin script: the case lives in gzmq/bench/throughput.py so that ``gzmq bench``
finds it in any install.  Options as ``gzmq bench``: --quick, --repeat N,
--json FILE, --markdown.

    python benchmarks/throughput.py [--quick] [--repeat N] [--json FILE]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(["throughput", *sys.argv[1:]]))
