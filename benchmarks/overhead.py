"""Per-operation overhead: send+recv of 64 B with no waiting (gzmq bench overhead).

A thin script: the case lives in gzmq/bench/overhead.py so that ``gzmq bench``
finds it in any install.  Options as ``gzmq bench``: --quick, --repeat N,
--json FILE, --markdown.

    python benchmarks/overhead.py [--quick] [--repeat N] [--json FILE]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(["overhead", *sys.argv[1:]]))
