"""Green variants of pyzmq test classes that pyzmq's suite does not run (.ci/pyzmq-suite).

Copied by .ci/pyzmq-suite into the unpacked pyzmq tests as ``test_gzmq_extra_green.py``
(the ``test_`` name would make gzmq's own pytest collect it here, without pyzmq's tests).
"""

import test_context
import test_message
from zmq_test_utils import GreenTest


class TestContextGreen(GreenTest, test_context.TestContext):
    """pyzmq's own green context tests (test_context.py defines them under ``if False``).

    The same three tests that need real threads are skipped, as pyzmq's definition does.
    """

    test_gc = GreenTest.skip_green
    test_term_thread = GreenTest.skip_green
    test_destroy_linger = GreenTest.skip_green
    _repr_cls = "zmq.green.Context"


class TestFrameGreen(GreenTest, test_message.TestFrame):
    """pyzmq's Frame tests (zero-copy, trackers, RCVMORE) on green sockets."""
