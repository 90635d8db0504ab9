"""Public surface, errors, context and bad input (DESIGN §2)."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap

import gevent
import pytest
import zmq

import gzmq
import gzmq.errors


def test_all_names_are_importable() -> None:
    """Every name in gzmq.__all__ exists, and every public class is listed."""
    for name in gzmq.__all__:
        assert hasattr(gzmq, name), name
    for name in gzmq.errors.__all__:
        assert name in gzmq.__all__, name
    public_classes = {
        name for name, value in vars(gzmq).items()
        if isinstance(value, type) and not name.startswith("_")
    }
    assert public_classes <= set(gzmq.__all__), public_classes - set(gzmq.__all__)


def test_module_values() -> None:
    """version, capability and curve_keypair() report the linked libzmq."""
    assert gzmq.version == zmq.zmq_version()
    assert set(gzmq.capability) == {"ipc", "pgm", "tipc", "norm", "curve", "gssapi", "draft"}
    assert all(isinstance(value, bool) for value in gzmq.capability.values())
    with pytest.raises(TypeError):
        gzmq.capability["ipc"] = False  # type: ignore[index]
    if gzmq.capability["curve"]:
        pair = gzmq.curve_keypair()
        assert isinstance(pair, gzmq.KeyPair)
        assert len(pair.public) == len(pair.secret) == 40
        assert pair.public != pair.secret


def test_errors_subclass_what_they_are() -> None:
    """gzmq's errors subclass the builtins (and ZMQError) they really are."""
    assert issubclass(gzmq.SocketClosedError, zmq.ZMQError)
    assert issubclass(gzmq.UnknownOptionError, TypeError)
    assert issubclass(gzmq.ReadOnlyOptionError, AttributeError)
    assert issubclass(gzmq.WriteOnlyOptionError, AttributeError)
    assert issubclass(gzmq.OptionValueError, ValueError)
    assert issubclass(gzmq.ObserverModeError, RuntimeError)
    assert issubclass(gzmq.InvalidThreadUseError, RuntimeError)
    assert issubclass(gzmq.NotSupportedError, zmq.ZMQError)
    assert issubclass(gzmq.LateOptionWarning, gzmq.GzmqWarning)
    assert issubclass(gzmq.GzmqWarning, RuntimeWarning)
    assert gzmq.ZMQError is zmq.ZMQError and gzmq.Again is zmq.Again
    assert str(gzmq.SocketClosedError()) == "Socket is closed"


def test_default_context_is_shared_and_recreated_after_close() -> None:
    """gzmq.context is one default Context, used without context=, made anew once closed."""
    first = gzmq.context
    assert isinstance(first, gzmq.Context)
    assert gzmq.context is first
    sock = gzmq.Pair(linger=0)
    assert sock.context is first
    sock.close()


def test_context_close_closes_sockets_without_blocking_the_hub() -> None:
    """Context.close() closes its sockets and terminates while other greenlets keep running."""
    ctx = gzmq.Context(io_threads=1)
    push = gzmq.Push(context=ctx, linger=300)
    push.connect("tcp://127.0.0.1:1")  # nothing there: the message lingers
    push.send(b"stuck")
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.02)) for _ in range(10)])
    gevent.spawn(ctx.close).get(timeout=5)
    assert push.closed and ctx.closed
    ticker.join(2)
    assert len(ticks) >= 5  # the hub kept running while libzmq lingered 300 ms
    with pytest.raises(zmq.ZMQError):
        gzmq.Pair(context=ctx)


def test_context_options() -> None:
    """Context options given to the constructor are applied; unknown ones are refused."""
    ctx = gzmq.Context(io_threads=2, max_sockets=64)
    try:
        assert ctx.io_threads == 2 and ctx.max_sockets == 64
        assert ctx.max_sockets_limit >= 64
    finally:
        ctx.close()
    with pytest.raises(gzmq.UnknownOptionError, match="io_threads"):
        gzmq.Context(io_thread=2)


# -- bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [42, 3.5, {"a": 1}, [b"ok", 7], (b"ok", object()), [], set()],
    ids=["int", "float", "dict", "list-with-int", "tuple-with-object", "empty-list", "set"],
)
def test_bad_message_raises_before_sending(message: object, endpoint, connected) -> None:
    """A message of the wrong type raises naming it; nothing is sent, nothing queued is lost."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    push.send(b"queued before")
    with pytest.raises((TypeError, ValueError)) as info:
        push.send(message)  # type: ignore[arg-type]
    assert "frame" in str(info.value) or "message" in str(info.value)
    push.send(b"queued after")
    assert pull.recv(timeout=5) == [b"queued before"]
    assert pull.recv(timeout=5) == [b"queued after"]
    with pytest.raises(zmq.Again):
        pull.recv(timeout=0.1)


@pytest.mark.parametrize(
    ("endpoint_text", "expected"),
    [
        ("127.0.0.1:5555", "expected transport://address"),
        ("nosuch://x", "nosuch://x"),
        ("tcp://127.0.0.1:99999", "tcp://127.0.0.1:99999"),
        ("tcp://256.1.1.1:5555", "tcp://256.1.1.1:5555"),
    ],
)
def test_bad_endpoint_names_it(endpoint_text: str, expected: str, context: gzmq.Context) -> None:
    """bind/connect with a bad endpoint raises ZMQError naming it in the message and .address."""
    sock = gzmq.Dealer(context=context, linger=0)
    for action in (sock.bind, sock.connect):
        if action == sock.connect and endpoint_text.startswith("tcp://256"):
            continue  # libzmq resolves connect addresses in the background
        with pytest.raises(zmq.ZMQError) as info:
            action(endpoint_text)
        assert expected in str(info.value)
        assert info.value.address == endpoint_text  # type: ignore[attr-defined]
    assert sock.endpoints == ()


def test_endpoint_of_wrong_type(context: gzmq.Context) -> None:
    """A non-str endpoint raises TypeError naming the type."""
    sock = gzmq.Dealer(context=context, linger=0)
    with pytest.raises(TypeError, match="int"):
        sock.bind(5555)  # type: ignore[arg-type]


def test_address_in_use_keeps_class_and_errno(context: gzmq.Context) -> None:
    """Binding a used port raises ZMQError EADDRINUSE naming the endpoint."""
    first = gzmq.Pull(context=context, linger=0)
    first.bind("tcp://127.0.0.1:*")
    second = gzmq.Pull(context=context, linger=0)
    with pytest.raises(zmq.ZMQError) as info:
        second.bind(first.last_endpoint)
    assert info.value.errno == errno.EADDRINUSE
    assert first.last_endpoint in str(info.value)


def test_unknown_option_lists_valid_names(context: gzmq.Context) -> None:
    """An unknown or read-only constructor option raises UnknownOptionError listing valid names."""
    with pytest.raises(gzmq.UnknownOptionError) as info:
        gzmq.Dealer(context=context, lingr=0)
    assert "'lingr'" in str(info.value) and "linger" in str(info.value)
    with pytest.raises(gzmq.UnknownOptionError, match="read-only"):
        gzmq.Dealer(context=context, last_endpoint="x")
    with pytest.raises(TypeError):
        gzmq.Dealer("positional")  # type: ignore[misc]


def test_misspelled_attribute_is_an_error(context: gzmq.Context) -> None:
    """Setting an attribute that is not an option raises instead of being kept silently."""
    sock = gzmq.Dealer(context=context, linger=0)
    with pytest.raises(AttributeError):
        sock.lingr = 5  # type: ignore[attr-defined]


def test_use_after_close(endpoint, connected) -> None:
    """Every call on a closed socket raises SocketClosedError ("Socket is closed")."""
    pull, push = connected(gzmq.Pull, gzmq.Push, endpoint())
    push.close()
    push.close()  # idempotent
    calls = [
        lambda: push.send(b"x"),
        lambda: push.send([b"x", b"y"]),
        lambda: push.bind("inproc://after-close"),
        lambda: push.connect("inproc://after-close"),
        lambda: push.linger,
        lambda: setattr(push, "linger", 0),
    ]
    for call in calls:
        with pytest.raises(gzmq.SocketClosedError, match="Socket is closed"):
            call()
    pull.close()
    with pytest.raises(gzmq.SocketClosedError):
        pull.recv()
    assert list(pull) == []
    assert push.closed and pull.closed


def test_abstract_socket_cannot_be_made() -> None:
    """The Socket base class is abstract."""
    with pytest.raises(TypeError, match="abstract"):
        gzmq.Socket()


def test_wrong_option_types_are_refused_before_libzmq(context: gzmq.Context) -> None:
    """Option values of the wrong type or range raise before libzmq sees them."""
    sock = gzmq.Dealer(context=context, linger=0)
    with pytest.raises(TypeError, match="linger"):
        sock.linger = "10"  # type: ignore[assignment]
    with pytest.raises(gzmq.OptionValueError, match="linger"):
        sock.linger = 2**31
    assert sock.linger == 0


def test_interpreter_exit_does_not_hang_on_unsent_messages() -> None:
    """With queued undeliverable messages, exit warns once and ends in bounded time."""
    script = textwrap.dedent(
        """
        import gzmq
        push = gzmq.Push()
        push.connect("tcp://127.0.0.1:1")
        push.send(b"never delivered")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("waiting for queued messages") == 1


def test_interpreter_exit_with_patched_threads_does_not_hang() -> None:
    """With gevent's threading patched, exit still warns once and ends in bounded time."""
    script = textwrap.dedent(
        """
        from gevent import monkey
        monkey.patch_all()
        import gzmq
        push = gzmq.Push()
        push.connect("tcp://127.0.0.1:1")
        push.send(b"never delivered")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("waiting for queued messages") == 1


def test_interpreter_exit_delivers_queued_messages(context: gzmq.Context) -> None:
    """A message queued just before exit is delivered: exit waits for the socket's linger."""
    pull = gzmq.Pull(context=context, linger=0)
    pull.bind("tcp://127.0.0.1:*")
    script = textwrap.dedent(
        f"""
        import gzmq
        push = gzmq.Push()
        push.connect({pull.last_endpoint!r})
        push.send(b"last words")
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        assert pull.recv(timeout=20) == [b"last words"]
    finally:
        _, stderr = child.communicate(timeout=30)
    assert child.returncode == 0, stderr


def test_bind_to_host_name_resolves_cooperatively(context: gzmq.Context) -> None:
    """bind("tcp://localhost:*") resolves through gevent; endpoints and unbind use the name."""
    pull = gzmq.Pull(context=context, linger=0)
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.001)) for _ in range(3)])
    pull.bind("tcp://localhost:*")
    bound = pull.last_endpoint
    assert bound.startswith("tcp://127.0.0.1:")
    assert pull.endpoints == (bound,)
    push = gzmq.Push(context=context, linger=0)
    push.connect(bound)
    push.send(b"via localhost")
    assert pull.recv(timeout=5) == [b"via localhost"]
    pull.unbind("tcp://localhost:*")
    assert pull.endpoints == ()
    ticker.join(1)


def test_bind_to_unresolvable_host_names_it(context: gzmq.Context) -> None:
    """A host name that does not resolve raises ZMQError naming the endpoint."""
    pull = gzmq.Pull(context=context, linger=0)
    with pytest.raises(zmq.ZMQError) as info:
        pull.bind("tcp://no-such-host.invalid:5555")
    assert "no-such-host.invalid" in str(info.value)
    assert info.value.address == "tcp://no-such-host.invalid:5555"  # type: ignore[attr-defined]
