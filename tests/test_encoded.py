"""send_string / recv_string / send_json / recv_json on typed sockets (issue 16).

pyzmq's everyday helpers with gzmq's ``timeout=``; built on the public
send()/recv(); a message they cannot return as asked raises
UnexpectedMessageError carrying every frame, so nothing is lost.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
import zmq

import gzmq


def _pull_push(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> tuple[gzmq.Pull, gzmq.Push]:
    pull = gzmq.Pull(context=context, linger=0)
    address = endpoint()
    pull.bind(address)
    push = gzmq.Push(context=context, linger=0)
    push.connect(pull.last_endpoint if transport == "tcp" else address)
    return pull, push


def test_strings_round_trip(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """send_string/recv_string carry text, UTF-8 by default or in the encoding asked."""
    pull, push = _pull_push(context, endpoint, transport)
    push.send_string("héllo wörld")
    assert pull.recv_string(timeout=5) == "héllo wörld"
    push.send_string("grüße", encoding="latin-1")
    assert pull.recv(timeout=5) == ["grüße".encode("latin-1")]
    push.send_string("ok", timeout=5)
    assert pull.recv_string(encoding="ascii") == "ok"


def test_json_round_trips(
    context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """send_json/recv_json carry JSON as one UTF-8 frame; keywords go to json.dumps/loads."""
    pull, push = _pull_push(context, endpoint, transport)
    value = {"name": "gzmq", "numbers": [1, 2.5, None], "nested": {"ok": True}, "é": "ü"}
    push.send_json(value)
    assert pull.recv_json(timeout=5) == value
    push.send_json({"b": 1, "a": 2}, sort_keys=True, timeout=5)
    assert pull.recv(timeout=5) == [b'{"a": 2, "b": 1}']
    push.send(b'{"x": 1}')
    assert pull.recv_json(object_hook=lambda d: sorted(d.items())) == [("x", 1)]


def test_helpers_time_out_like_send_and_recv(context: gzmq.Context) -> None:
    """timeout= raises zmq.Again, consuming or sending nothing."""
    lonely_pull = gzmq.Pull(context=context, linger=0)
    lonely_push = gzmq.Push(context=context, linger=0)  # no peer: send() would wait
    for call in (
        lambda: lonely_pull.recv_string(timeout=0.01),
        lambda: lonely_pull.recv_json(timeout=0),
        lambda: lonely_push.send_string("x", timeout=0.01),
        lambda: lonely_push.send_json([1], timeout=0),
    ):
        with pytest.raises(zmq.Again):
            call()


@pytest.mark.parametrize("helper", ["recv_string", "recv_json"])
def test_multipart_message_is_not_lost(
    helper: str, context: gzmq.Context, endpoint: Callable[[], str], transport: str
) -> None:
    """A multipart message raises UnexpectedMessageError holding all of its frames."""
    pull, push = _pull_push(context, endpoint, transport)
    push.send([b"1", b"2", b"3"])
    push.send(b"4")
    with pytest.raises(gzmq.UnexpectedMessageError) as info:
        getattr(pull, helper)(timeout=5)
    assert info.value.frames == [b"1", b"2", b"3"]
    assert isinstance(info.value, ValueError)
    assert f"Pull.{helper}() received a multipart message of 3 frames" in str(info.value)
    assert getattr(pull, helper)(timeout=5) in ("4", 4)  # the next message is next


@pytest.mark.parametrize(
    ("helper", "payload", "text"),
    [("recv_string", b"\xff\xfe", "not utf-8 text"), ("recv_json", b"{not json", "not JSON")],
)
def test_undecodable_message_is_not_lost(
    helper: str, payload: bytes, text: str, context: gzmq.Context
) -> None:
    """A message that does not decode raises UnexpectedMessageError holding it (cause chained)."""
    pull = gzmq.Pull(context=context, linger=0)
    pull.bind("inproc://encoded-undecodable")
    push = gzmq.Push(context=context, linger=0)
    push.connect("inproc://encoded-undecodable")
    push.send(payload)
    with pytest.raises(gzmq.UnexpectedMessageError) as info:
        getattr(pull, helper)(timeout=5)
    assert info.value.frames == [payload]
    assert text in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.frames == [payload] and str(copy) == str(info.value)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda push: push.send_string(b"bytes"), TypeError),
        (lambda push: push.send_string(None), TypeError),
        (lambda push: push.send_string("é", encoding="ascii"), UnicodeEncodeError),
        (lambda push: push.send_json({"x": object()}), TypeError),
        (lambda push: push.send_json(float("nan"), allow_nan=False), ValueError),
    ],
    ids=["bytes", "none", "unencodable", "unserializable", "nan"],
)
def test_bad_value_sends_nothing(
    call: Callable[[gzmq.Push], Any], error: type[Exception], context: gzmq.Context
) -> None:
    """A value the helper cannot encode raises before anything is sent."""
    pull = gzmq.Pull(context=context, linger=0)
    pull.bind("inproc://encoded-bad-value")
    push = gzmq.Push(context=context, linger=0)
    push.connect("inproc://encoded-bad-value")
    with pytest.raises(error):
        call(push)
    push.send(b"after")
    assert pull.recv(timeout=5) == [b"after"]  # nothing went out before it


def test_helpers_go_through_send_and_recv(context: gzmq.Context) -> None:
    """The helpers call the socket's own send()/recv() (a subclass sees every message)."""
    seen: list[str] = []

    class Traced(gzmq.Pair):
        __slots__ = ()

        def send(self, message: gzmq.socket.Message, *, timeout: float | None = None) -> None:
            seen.append("send")
            super().send(message, timeout=timeout)

        def recv(self, *, timeout: float | None = None, copy: bool = True) -> list[Any]:
            seen.append("recv")
            return super().recv(timeout=timeout, copy=copy)

    a = Traced(context=context, linger=0)
    a.bind("inproc://encoded-traced")
    b = Traced(context=context, linger=0)
    b.connect("inproc://encoded-traced")
    a.send_json([1])
    assert b.recv_json(timeout=5) == [1]
    b.send_string("x")
    assert a.recv_string() == "x"
    assert seen == ["send", "recv", "send", "recv"]


def test_no_pickle_helpers() -> None:
    """There are no send_pyobj/recv_pyobj: unpickling network data runs the sender's code."""
    for cls in (gzmq.Pair, gzmq.Dealer, gzmq.Push, gzmq.Pull):
        assert not hasattr(cls, "send_pyobj") and not hasattr(cls, "recv_pyobj")
        assert not hasattr(cls, "send_serialized") and not hasattr(cls, "recv_serialized")
