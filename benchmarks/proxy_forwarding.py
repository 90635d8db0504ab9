"""Proxy forwarding: gzmq.Proxy vs zmq.proxy in a thread vs zmq.green.device (gzmq bench proxy).

A thin script: the case lives in gzmq/bench/proxy.py so that ``gzmq bench``
finds it in any install.  Options as ``gzmq bench``: --quick, --repeat N,
--json FILE, --markdown.

    python benchmarks/proxy_forwarding.py [--quick] [--repeat N] [--json FILE]
"""

import sys

from gzmq.bench import main

if __name__ == "__main__":
    sys.exit(main(["proxy", *sys.argv[1:]]))
