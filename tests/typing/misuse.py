"""Deliberate misuse of gzmq's typed API: mypy --strict must report exactly the errors marked.

Checked by .ci/check-typing (not collected by pytest, never run).  Each
``# E: message  [code]`` comment is an error mypy must report on that line,
each ``# N: Revealed type is ...`` a reveal_type() answer; any other error,
or a missing one, fails the check.
"""

# ruff: noqa: E501 - each line carries mypy's whole expected message
from __future__ import annotations

from typing_extensions import reveal_type

import gzmq

# Constructor options: names and value types are checked per class.
gzmq.Dealer(lingr=0)  # E: Unexpected keyword argument "lingr" for "Dealer"; did you mean "linger"?  [call-arg]
gzmq.Dealer(linger="0")  # E: Argument "linger" to "Dealer" has incompatible type "str"; expected "int"  [arg-type]
gzmq.Pull(send_high_water_mark=10)  # E: Unexpected keyword argument "send_high_water_mark" for "Pull"; did you mean "receive_high_water_mark"?  [call-arg]
gzmq.Subscriber(subscribe=b"")  # E: Unexpected keyword argument "subscribe" for "Subscriber"  [call-arg]
gzmq.Router(last_endpoint="tcp://127.0.0.1:5555")  # E: Unexpected keyword argument "last_endpoint" for "Router"  [call-arg]
gzmq.XPublisher(verbosity="loud")  # E: Argument "verbosity" to "XPublisher" has incompatible type "Literal['loud']"; expected "Literal['all_subs', 'all_subs_unsubs'] | None"  [arg-type]
gzmq.Request(relaxed=1)  # E: Argument "relaxed" to "Request" has incompatible type "int"; expected "bool"  [arg-type]
gzmq.Context(io_thread=2)  # E: Unexpected keyword argument "io_thread" for "Context"; did you mean "io_threads"?  [call-arg]
gzmq.Dealer("tcp://127.0.0.1:5555")  # E: Too many positional arguments for "Dealer"  [call-arg]  # E: Argument 1 to "Dealer" has incompatible type "str"; expected "Context | None"  [arg-type]

# A class has only the methods it can use.
gzmq.Subscriber().send(b"x")  # E: "Subscriber" has no attribute "send"  [attr-defined]
gzmq.Publisher().recv()  # E: "Publisher" has no attribute "recv"  [attr-defined]
gzmq.Push().recv_json()  # E: "Push" has no attribute "recv_json"  [attr-defined]
gzmq.Dealer().request(b"x")  # E: "Dealer" has no attribute "request"  [attr-defined]
gzmq.Pull().subscribe(b"")  # E: "Pull" has no attribute "subscribe"  [attr-defined]

# The context manager, the default context, the Observer and the helpers keep their types.
with gzmq.Request() as req:
    reveal_type(req)  # N: Revealed type is "gzmq.sockets.Request"
    reveal_type(req.request(b"x"))  # N: Revealed type is "list[bytes]"
    reveal_type(req.events)  # N: Revealed type is "gzmq.observer.Observer"
    reveal_type(req.readable)  # N: Revealed type is "bool"
    reveal_type(req.recv_string())  # N: Revealed type is "str"
    req.send(5)  # E: Argument 1 to "send" of "Request" has incompatible type "int"; expected "bytes | bytearray | memoryview[int] | str | Frame | None | list[bytes | bytearray | memoryview[int] | str | Frame | None] | tuple[bytes | bytearray | memoryview[int] | str | Frame | None, ...]"  [arg-type]
    req.send_string(b"bytes")  # E: Argument 1 to "send_string" of "SendsEncoded" has incompatible type "bytes"; expected "str"  [arg-type]
    req.recv_json(timeout="1")  # E: Argument "timeout" to "recv_json" of "ReceivesEncoded" has incompatible type "str"; expected "float | None"  [arg-type]
    req.request(b"x", timeout="soon")  # E: Argument "timeout" to "request" of "Request" has incompatible type "str"; expected "float | None"  [arg-type]
    req.readable = True  # E: Property "readable" defined in "Socket" is read-only  [misc]
reveal_type(gzmq.context)  # N: Revealed type is "gzmq._context.Context"

# Polling.
poller = gzmq.Poller()
poller.register("tcp://127.0.0.1:5555", gzmq.POLLIN)  # E: Argument 1 to "register" of "Poller" has incompatible type "str"; expected "gzmq.socket.Socket | zmq.sugar.socket.Socket[Any] | int | _HasFileno"  [arg-type]
poller.register(gzmq.Pull(), "in")  # E: Argument 2 to "register" of "Poller" has incompatible type "str"; expected "int"  [arg-type]
reveal_type(poller.poll(100))  # N: Revealed type is "list[tuple[Any, int]]"
gzmq.select([gzmq.Pull()], [], [], timeout="1")  # E: Argument "timeout" to "select" has incompatible type "str"; expected "float | None"  [arg-type]
