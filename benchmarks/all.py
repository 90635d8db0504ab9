"""Every benchmark case, as ``gzmq bench`` (the cases live in gzmq/bench/).

    python benchmarks/all.py [CASE...] [--quick] [--repeat N] [--json FILE] [--markdown]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
