"""Fan-out: 1,000 DEALER clients x 20 requests against one ROUTER (gzmq bench fanout).

A thin script: the case lives in gzmq/bench/fanout.py so that ``gzmq bench``
finds it in any install.  Options as ``gzmq bench``: --quick, --repeat N,
--json FILE, --markdown.

    python benchmarks/fanout.py [--quick] [--repeat N] [--json FILE]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(["fanout", *sys.argv[1:]]))
