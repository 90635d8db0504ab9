"""Core speed: per-operation overhead and PUSH->PULL throughput (gzmq bench overhead throughput).

A thin script over ``gzmq bench`` (the cases live in gzmq/bench/); each
figure is the median of the rounds, gzmq side by side with raw pyzmq,
zmq.green and zmq.asyncio.  ``python benchmarks/all.py`` runs every case.

    python benchmarks/core.py [--quick] [--repeat N] [--json FILE]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(["overhead", "throughput", *sys.argv[1:]]))
