"""gzmq.green where applications look at it as at pyzmq's: generic classes, quiet shutdown."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import zmq

import gzmq.green


def test_context_and_socket_are_generic_like_pyzmqs() -> None:
    """gzmq.green.Context[...] and .Socket[bytes] subscript, subclass and work as pyzmq's."""
    assert zmq.Context[zmq.Socket[bytes]] is not None  # what user code writes for pyzmq
    alias = gzmq.green.Context[gzmq.green.Socket[bytes]]
    assert alias.__origin__ is gzmq.green.Context
    assert gzmq.green.Socket[bytes].__origin__ is gzmq.green.Socket

    class AppSocket(gzmq.green.Socket[bytes]):
        pass

    class AppContext(gzmq.green.Context[AppSocket]):
        _socket_class = AppSocket

    with alias() as plain_ctx, AppContext() as app_ctx:
        sock = plain_ctx.socket(zmq.PAIR)
        app = app_ctx.socket(zmq.PAIR)
        assert type(sock) is gzmq.green.Socket and type(app) is AppSocket
        sock.close(0)
        app.close(0)


def test_pyzmq_style_annotations_evaluate_after_patch() -> None:
    """After patch(), code that evaluates zmq.Context[zmq.Socket[bytes]] at import runs."""
    code = """
        from gzmq import monkey
        monkey.patch()
        import zmq

        class Client(zmq.Context[zmq.Socket[bytes]]):
            pass

        def make(ctx: zmq.Context[zmq.Socket[bytes]]) -> zmq.Socket[bytes]:  # evaluated now
            return ctx.socket(zmq.PAIR)

        import typing
        hints = typing.get_type_hints(make)
        ctx = Client()
        sock = make(ctx)
        print(type(sock).__module__, hints["return"].__origin__.__module__)
        sock.close(0)
        ctx.term()
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["gzmq.green.core", "gzmq.green.core"]


QUIET_TERM = """
import json, sys
import gevent
how, function = sys.argv[1], sys.argv[2]
if how == "monkey":
    from gzmq import monkey
    monkey.patch()
    import zmq
else:
    import gzmq.green as zmq
ctx = zmq.Context()
front, back = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
front.bind("inproc://front")
back.bind("inproc://back")
control = ctx.socket(zmq.PAIR)
control.bind("inproc://control")
calls = {
    "proxy": lambda: zmq.proxy(front, back),
    "device": lambda: zmq.device(zmq.QUEUE, front, back),
    "proxy_steerable": lambda: zmq.proxy_steerable(front, back, None, control),
}


def run():
    try:
        calls[function]()
    except zmq.ContextTerminated:
        return "ContextTerminated"
    finally:
        for sock in (front, back, control):
            sock.close(0)
    return "returned"


runner = gevent.spawn(run)
gevent.sleep(0.1)  # the proxy runs
terminator = gevent.spawn(ctx.term)
gevent.joinall([runner, terminator], timeout=20, raise_error=True)
print(json.dumps([runner.value, ctx.closed]))
"""


@pytest.mark.parametrize("function", ["proxy", "device", "proxy_steerable"])
@pytest.mark.parametrize("how", ["gzmq.green", "monkey"])
def test_proxy_ended_by_term_is_quiet(how: str, function: str) -> None:
    """A green proxy/device ended by ctx.term() raises ContextTerminated to its caller only."""
    result = subprocess.run(
        [sys.executable, "-c", QUIET_TERM, how, function],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == '["ContextTerminated", true]'
    assert result.stderr == ""
