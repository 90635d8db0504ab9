"""The option registry (DESIGN §4, §2.2): names, access, types, validation, effect, docs."""

from __future__ import annotations

import errno
import re
import string
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gevent
import pytest
import zmq
import zmq.utils.z85

import gzmq
from gzmq._options_doc import markdown as options_markdown
from gzmq.options import (
    Binary,
    Bool,
    Choice,
    Cidr,
    CurveKey,
    Int32,
    Int64,
    NullableText,
    Option,
    Text,
    UInt64,
)

# -- the expected table, one line per option as zeromq.js's defineOpt lines ----------------

ALL = (
    gzmq.Pair, gzmq.Publisher, gzmq.Subscriber, gzmq.Request, gzmq.Reply, gzmq.Dealer,
    gzmq.Router, gzmq.Pull, gzmq.Push, gzmq.XPublisher, gzmq.XSubscriber, gzmq.Stream,
)
WRITABLES = (
    gzmq.Pair, gzmq.Publisher, gzmq.Request, gzmq.Reply, gzmq.Dealer, gzmq.Router,
    gzmq.Push, gzmq.XPublisher, gzmq.XSubscriber, gzmq.Stream,
)
READABLES = (
    gzmq.Pair, gzmq.Subscriber, gzmq.Request, gzmq.Reply, gzmq.Dealer, gzmq.Router,
    gzmq.Pull, gzmq.XPublisher, gzmq.XSubscriber, gzmq.Stream,
)
CONFLATABLES = (gzmq.Pull, gzmq.Push, gzmq.Subscriber, gzmq.Publisher, gzmq.Dealer)
R, W, RW = "r", "w", "rw"
NOW = True  # takes effect at once: no LateOptionWarning after bind/connect

# (classes, name, libzmq constant, access, Python type, immediate)
DEFINE: list[tuple[tuple[type, ...], str, str, str, str, bool]] = [
    (WRITABLES, "send_buffer_size", "ZMQ_SNDBUF", RW, "int", False),
    (WRITABLES, "send_high_water_mark", "ZMQ_SNDHWM", RW, "int", NOW),
    (WRITABLES, "send_timeout", "ZMQ_SNDTIMEO", RW, "int", NOW),
    (WRITABLES, "multicast_hops", "ZMQ_MULTICAST_HOPS", RW, "int", False),
    (READABLES, "receive_buffer_size", "ZMQ_RCVBUF", RW, "int", False),
    (READABLES, "receive_high_water_mark", "ZMQ_RCVHWM", RW, "int", NOW),
    (READABLES, "receive_timeout", "ZMQ_RCVTIMEO", RW, "int", NOW),
    (ALL, "affinity", "ZMQ_AFFINITY", RW, "int", False),
    ((gzmq.Request, gzmq.Reply, gzmq.Router, gzmq.Dealer), "routing_id", "ZMQ_ROUTING_ID",
     RW, "bytes", False),
    (ALL, "rate", "ZMQ_RATE", RW, "int", False),
    (ALL, "recovery_interval", "ZMQ_RECOVERY_IVL", RW, "int", False),
    (ALL, "type", "ZMQ_TYPE", R, "int", False),
    (ALL, "linger", "ZMQ_LINGER", RW, "int", NOW),
    (ALL, "reconnect_interval", "ZMQ_RECONNECT_IVL", RW, "int", False),
    (ALL, "backlog", "ZMQ_BACKLOG", RW, "int", False),
    (ALL, "reconnect_max_interval", "ZMQ_RECONNECT_IVL_MAX", RW, "int", False),
    (ALL, "max_message_size", "ZMQ_MAXMSGSIZE", RW, "int", False),
    (ALL, "last_endpoint", "ZMQ_LAST_ENDPOINT", R, "str", False),
    ((gzmq.Router,), "mandatory", "ZMQ_ROUTER_MANDATORY", W, "bool", NOW),
    (ALL, "tcp_keepalive", "ZMQ_TCP_KEEPALIVE", RW, "int", False),
    (ALL, "tcp_keepalive_count", "ZMQ_TCP_KEEPALIVE_CNT", RW, "int", False),
    (ALL, "tcp_keepalive_idle", "ZMQ_TCP_KEEPALIVE_IDLE", RW, "int", False),
    (ALL, "tcp_keepalive_interval", "ZMQ_TCP_KEEPALIVE_INTVL", RW, "int", False),
    (ALL, "tcp_accept_filter", "ZMQ_TCP_ACCEPT_FILTER", W, "str", False),
    (ALL, "immediate", "ZMQ_IMMEDIATE", RW, "bool", False),
    (ALL, "ipv6", "ZMQ_IPV6", RW, "bool", False),
    (ALL, "security", "ZMQ_MECHANISM", R, "enum", False),
    (ALL, "plain_server", "ZMQ_PLAIN_SERVER", RW, "bool", False),
    (ALL, "plain_username", "ZMQ_PLAIN_USERNAME", RW, "str", False),
    (ALL, "plain_password", "ZMQ_PLAIN_PASSWORD", RW, "str", False),
    (ALL, "curve_server", "ZMQ_CURVE_SERVER", RW, "bool", False),
    (ALL, "curve_public_key", "ZMQ_CURVE_PUBLICKEY", RW, "key", False),
    (ALL, "curve_secret_key", "ZMQ_CURVE_SECRETKEY", RW, "key", False),
    (ALL, "curve_server_key", "ZMQ_CURVE_SERVERKEY", RW, "key", False),
    ((gzmq.Router, gzmq.Dealer, gzmq.Request), "probe_router", "ZMQ_PROBE_ROUTER", W, "bool",
     NOW),
    ((gzmq.Request,), "correlate", "ZMQ_REQ_CORRELATE", W, "bool", NOW),
    ((gzmq.Request,), "relaxed", "ZMQ_REQ_RELAXED", W, "bool", NOW),
    (CONFLATABLES, "conflate", "ZMQ_CONFLATE", W, "bool", False),
    (ALL, "zap_domain", "ZMQ_ZAP_DOMAIN", RW, "str", False),
    ((gzmq.Router,), "handover", "ZMQ_ROUTER_HANDOVER", W, "bool", NOW),
    (ALL, "type_of_service", "ZMQ_TOS", RW, "int", False),
    (ALL, "gssapi_server", "ZMQ_GSSAPI_SERVER", RW, "bool", False),
    (ALL, "gssapi_principal", "ZMQ_GSSAPI_PRINCIPAL", RW, "str", False),
    (ALL, "gssapi_service_principal", "ZMQ_GSSAPI_SERVICE_PRINCIPAL", RW, "str", False),
    (ALL, "gssapi_plain_text", "ZMQ_GSSAPI_PLAINTEXT", RW, "bool", False),
    (ALL, "gssapi_principal_name_type", "ZMQ_GSSAPI_PRINCIPAL_NAMETYPE", RW, "enum", False),
    (ALL, "gssapi_service_principal_name_type", "ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE", RW,
     "enum", False),
    (ALL, "handshake_interval", "ZMQ_HANDSHAKE_IVL", RW, "int", False),
    (ALL, "socks_proxy", "ZMQ_SOCKS_PROXY", RW, "str", False),
    ((gzmq.XPublisher, gzmq.Publisher), "no_drop", "ZMQ_XPUB_NODROP", W, "bool", NOW),
    ((gzmq.XPublisher,), "manual", "ZMQ_XPUB_MANUAL", W, "bool", NOW),
    ((gzmq.XPublisher,), "welcome_message", "ZMQ_XPUB_WELCOME_MSG", W, "bytes", False),
    ((gzmq.Stream,), "notify", "ZMQ_STREAM_NOTIFY", W, "bool", False),
    ((gzmq.Router,), "notify", "ZMQ_ROUTER_NOTIFY", RW, "enum", False),
    ((gzmq.Publisher, gzmq.Subscriber, gzmq.XPublisher), "invert_matching",
     "ZMQ_INVERT_MATCHING", RW, "bool", False),
    ((gzmq.XPublisher,), "verbosity", "ZMQ_XPUB_VERBOSER", W, "enum", NOW),
    (ALL, "heartbeat_interval", "ZMQ_HEARTBEAT_IVL", RW, "int", False),
    (ALL, "heartbeat_time_to_live", "ZMQ_HEARTBEAT_TTL", RW, "int", False),
    (ALL, "heartbeat_timeout", "ZMQ_HEARTBEAT_TIMEOUT", RW, "int", False),
    (ALL, "connect_timeout", "ZMQ_CONNECT_TIMEOUT", RW, "int", False),
    (ALL, "tcp_max_retransmit_timeout", "ZMQ_TCP_MAXRT", RW, "int", False),
    (ALL, "thread_safe", "ZMQ_THREAD_SAFE", R, "bool", False),
    (ALL, "multicast_max_transport_data_unit", "ZMQ_MULTICAST_MAXTPDU", RW, "int", False),
    (ALL, "vmci_buffer_size", "ZMQ_VMCI_BUFFER_SIZE", RW, "int", False),
    (ALL, "vmci_buffer_min_size", "ZMQ_VMCI_BUFFER_MIN_SIZE", RW, "int", False),
    (ALL, "vmci_buffer_max_size", "ZMQ_VMCI_BUFFER_MAX_SIZE", RW, "int", False),
    (ALL, "vmci_connect_timeout", "ZMQ_VMCI_CONNECT_TIMEOUT", RW, "int", False),
    (ALL, "interface", "ZMQ_BINDTODEVICE", RW, "str", False),
    (ALL, "zap_enforce_domain", "ZMQ_ZAP_ENFORCE_DOMAIN", RW, "bool", False),
    (ALL, "loopback_fast_path", "ZMQ_LOOPBACK_FASTPATH", RW, "bool", False),
]

CONTEXT_DEFINE = [
    ("io_threads", "ZMQ_IO_THREADS", RW, "int"),
    ("max_sockets", "ZMQ_MAX_SOCKETS", RW, "int"),
    ("max_sockets_limit", "ZMQ_SOCKET_LIMIT", R, "int"),
    ("thread_priority", "ZMQ_THREAD_PRIORITY", W, "int"),
    ("thread_scheduling_policy", "ZMQ_THREAD_SCHED_POLICY", W, "int"),
    ("max_message_size", "ZMQ_MAX_MSGSZ", RW, "int"),
    ("ipv6", "ZMQ_IPV6", RW, "bool"),
    ("blocky", "ZMQ_BLOCKY", RW, "bool"),
]

_ACCESS = {R: gzmq.Access.READ, W: gzmq.Access.WRITE, RW: gzmq.Access.READ_WRITE}
_FAMILY: dict[type, str] = {
    Bool: "bool", Int32: "int", Int64: "int", UInt64: "int", Text: "str", NullableText: "str",
    Cidr: "str", Binary: "bytes", CurveKey: "key", Choice: "enum",
}


def _family(option: Option[Any]) -> str:
    return _FAMILY[type(option.kind)]


def _expected(cls: type) -> dict[str, tuple[str, str, str, bool]]:
    rows = {}
    for classes, name, constant, access, family, immediate in DEFINE:
        if cls in classes:
            assert name not in rows, f"{name} defined twice for {cls.__name__}"
            rows[name] = (constant, access, family, immediate)
    return rows


def _id_of(constant: str) -> int:
    name = constant.removeprefix("ZMQ_")
    for enum in (zmq.SocketOption, zmq.ContextOption):
        if name in enum.__members__:
            return int(enum.__members__[name])
    raise AssertionError(f"pyzmq has no {constant}")


# -- the registry itself ---------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_class_has_exactly_zeromq_js_options(cls: type) -> None:
    """Each class has exactly zeromq.js's options, with its constant, access, type and effect."""
    expected = _expected(cls)
    registry = gzmq.options(cls)
    assert sorted(registry) == sorted(expected)
    for name, (constant, access, family, immediate) in expected.items():
        option = registry[name]
        assert option.constant == constant, name
        assert option.id == _id_of(constant), name
        assert option.access == _ACCESS[access], name
        assert _family(option) == family, name
        assert option.immediate == immediate, name
        assert getattr(cls, name) is option


def test_context_has_exactly_zeromq_js_options() -> None:
    """Context has zeromq.js's context options with their constant, access and type."""
    registry = gzmq.options(gzmq.Context)
    assert sorted(registry) == sorted(row[0] for row in CONTEXT_DEFINE)
    for name, constant, access, family in CONTEXT_DEFINE:
        option = registry[name]
        assert (option.constant, option.access, _family(option)) == (
            constant, _ACCESS[access], family
        )
        assert option.id == _id_of(constant)


def _all_options() -> Iterator[tuple[str, Option[Any]]]:
    for cls in (*ALL, gzmq.Context):
        for name, option in gzmq.options(cls).items():
            yield f"{cls.__name__}.{name}", option


def test_every_docstring_starts_with_the_libzmq_constant() -> None:
    """Every option's docstring (also on the class attribute) starts "ZMQ_X: ..."."""
    for where, option in _all_options():
        assert re.match(r"ZMQ_[A-Z0-9_]+( / ZMQ_[A-Z0-9_]+)*: \S", option.__doc__ or ""), where
        owner, name = where.split(".")
        assert getattr(getattr(gzmq, owner), name).__doc__ == option.__doc__


def test_kinds_agree_with_pyzmq_wire_types() -> None:
    """A socket option's kind uses pyzmq's wire type for its id (pyzmq is the one table)."""
    for where, option in _all_options():
        if where.startswith("Context."):
            continue
        assert option.kind.wire == zmq.SocketOption(option.id)._opt_type.value, where
    with pytest.raises(TypeError, match="ZMQ_LINGER is int in pyzmq"):
        Option(zmq.SocketOption.LINGER, Text(), doc="ZMQ_LINGER: wrong kind")


def test_options_query_is_read_only_and_works_on_instances(context: gzmq.Context) -> None:
    """gzmq.options() gives the same read-only mapping for a class and its instances."""
    registry = gzmq.options(gzmq.Router)
    with gzmq.Router(context=context) as router:
        assert gzmq.options(router) is registry
    assert gzmq.options(context) is gzmq.options(gzmq.Context)
    with pytest.raises(TypeError):
        registry["linger"] = registry["type"]  # type: ignore[index]
    assert "send" not in registry and "recv" not in registry


def test_generated_docs_match_the_registry() -> None:
    """docs/options.md is exactly what the registry generates (regenerate it if not)."""
    path = Path(__file__).resolve().parent.parent / "docs" / "options.md"
    assert path.read_text(encoding="utf-8") == options_markdown(), (
        "docs/options.md is out of date: run python docs/generate_options.py"
    )
    text = options_markdown()
    for cls in ALL:
        assert f" {cls.__name__} |" in text
    for where, option in _all_options():
        assert f"`{option.constant}`" in text, where


def test_readme_option_summary_matches_the_registry() -> None:
    """README.md's generated option summary is what docs/generate_options.py writes."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "docs" / "generate_options.py"), "--check"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_generated_constructor_types_match_the_registry() -> None:
    """gzmq/_option_types.py is what docs/generate_option_types.py writes (regenerate it if not)."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "docs" / "generate_option_types.py"), "--check"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("cls", [*ALL, gzmq.Context], ids=lambda cls: cls.__name__)
def test_constructor_types_list_each_writable_option(cls: type) -> None:
    """Each class's TypedDict has exactly its writable options (what the constructor takes)."""
    from gzmq import _option_types

    typed = getattr(_option_types, f"{cls.__name__}Options")
    writable = {name for name, option in gzmq.options(cls).items() if option.writable}
    assert set(typed.__annotations__) == writable
    assert typed.__total__ is False


# -- round trips ---------------------------------------------------------------------------

KEYS = gzmq.curve_keypair()

SAMPLES: dict[str, list[Any]] = {
    "affinity": [2**64 - 1, 2**63, 0b1011, 0],
    "max_message_size": [2**63 - 1, 0xFFFFFFFF, -1],
    "heartbeat_time_to_live": [6_553_500, 1200, 0],
    "tcp_keepalive": [1, 0, -1],
    "routing_id": [b"\x01\x00with\x00NULs\x00", b"x" * 255, "åbç"],
    "zap_domain": ["global", "ü" * 10],
    "socks_proxy": ["127.0.0.1:1080", None],
    "interface": ["lo", None],
    "plain_username": ["admin", "x" * 255],
    "plain_password": ["s3cret", "ü"],
    "curve_public_key": [KEYS.public],
    "curve_secret_key": [KEYS.secret],
    "curve_server_key": [KEYS.public, zmq.utils.z85.decode(KEYS.secret)],
}


def _samples(name: str, option: Option[Any], current: Any) -> list[Any]:
    if name in SAMPLES:
        return SAMPLES[name]
    kind = option.kind
    if isinstance(kind, Bool):
        return [not current, current]
    if isinstance(kind, Choice):
        return list(kind.names)
    if isinstance(kind, (Int32, Int64, UInt64)):
        return [kind.maximum, kind.minimum, min(max(7, kind.minimum), kind.maximum)]
    raise AssertionError(f"no samples for {name}")


def _expected_back(name: str, value: Any) -> Any:
    if name == "routing_id" and isinstance(value, str):
        return value.encode("utf-8")
    if name == "curve_server_key" and isinstance(value, bytes):
        return zmq.utils.z85.encode(value).decode("ascii")
    return value


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_every_read_write_option_round_trips(cls: type, context: gzmq.Context) -> None:
    """Every readable and writable option reads back what was set, on a live socket."""
    checked = 0
    with cls(context=context, linger=0) as sock:
        sock.bind("tcp://127.0.0.1:*")
        for name, option in gzmq.options(cls).items():
            if option.access != gzmq.Access.READ_WRITE or not option.supported:
                continue
            for value in _samples(name, option, getattr(sock, name)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", gzmq.LateOptionWarning)
                    setattr(sock, name, value)
                assert getattr(sock, name) == _expected_back(name, value), (name, value)
            checked += 1
    expected = [n for n, row in _expected(cls).items() if row[1] == RW]
    assert checked == len([n for n in expected if gzmq.options(cls)[n].supported]) >= 36


def test_routing_id_keeps_nul_bytes_on_the_wire(context: gzmq.Context) -> None:
    """A routing id with NUL bytes reaches the ROUTER intact, not truncated at NUL."""
    identity = b"\x07id\x00with\x00nuls\x00"
    with gzmq.Router(context=context, linger=0) as router, gzmq.Dealer(
        context=context, linger=0, routing_id=identity
    ) as dealer:
        router.bind("tcp://127.0.0.1:*")
        dealer.connect(router.last_endpoint)
        dealer.send(b"hello")
        assert router.recv(timeout=5) == [identity, b"hello"]
        router.send([identity, b"back"])
        assert dealer.recv(timeout=5) == [b"back"]


def test_nullable_text_options_clear_with_none(context: gzmq.Context) -> None:
    """None clears socks_proxy and interface, and plain credentials return to NULL security."""
    with gzmq.Dealer(context=context) as sock:
        assert sock.socks_proxy is None and sock.plain_username is None
        sock.socks_proxy = "proxy.example:1080"
        assert sock.socks_proxy == "proxy.example:1080"
        sock.socks_proxy = None
        assert sock.socks_proxy is None
        sock.plain_username = "admin"
        assert sock.security == "plain"
        sock.plain_username = None
        assert sock.security is None


def test_curve_keys_read_back_as_z85_and_none_until_set(context: gzmq.Context) -> None:
    """Unset CURVE keys read None; raw 32-byte keys read back as their Z85 text."""
    with gzmq.Dealer(context=context) as sock:
        assert sock.curve_secret_key is None and sock.security is None
        sock.curve_secret_key = zmq.utils.z85.decode(KEYS.secret)
        assert sock.curve_secret_key == KEYS.secret
        assert sock.security == "curve"


def test_security_reflects_the_mechanism(context: gzmq.Context) -> None:
    """security reads None, then 'plain' or 'curve' as the options choose the mechanism."""
    with gzmq.Pair(context=context) as sock:
        assert sock.security is None
        sock.plain_server = True
        assert sock.security == "plain"
        sock.curve_server = True
        assert sock.security == "curve"
        sock.curve_server = False
        assert sock.security is None


def test_read_only_socket_options(context: gzmq.Context) -> None:
    """type, last_endpoint, security and thread_safe read libzmq's values and cannot be set."""
    with gzmq.Router(context=context, linger=0) as sock:
        assert sock.type == zmq.ROUTER
        assert sock.last_endpoint == ""
        sock.bind("tcp://127.0.0.1:*")
        assert re.fullmatch(r"tcp://127\.0\.0\.1:\d+", sock.last_endpoint)
        assert sock.thread_safe is False
        for name, value in [("type", 1), ("last_endpoint", "x"), ("security", None),
                            ("thread_safe", True)]:
            with pytest.raises(gzmq.ReadOnlyOptionError, match=name):
                setattr(sock, name, value)


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_socket_types(cls: type, context: gzmq.Context) -> None:
    """type reads the libzmq socket type of each class."""
    with cls(context=context) as sock:
        assert sock.type == cls._socket_type


# -- options the linked libzmq lacks ------------------------------------------------------


def _unsupported() -> list[tuple[type, str]]:
    found = []
    for cls in (gzmq.Dealer, gzmq.Router):
        for name, option in gzmq.options(cls).items():
            if not option.supported and (cls is gzmq.Dealer or name == "notify"):
                found.append((cls, name))
    return found


def test_gssapi_vmci_and_draft_options_raise_not_supported(context: gzmq.Context) -> None:
    """gssapi_*, vmci_* and Router.notify raise NotSupportedError where libzmq lacks them."""
    expected = set()
    if not gzmq.capability["gssapi"]:
        expected |= {name for name in gzmq.options(gzmq.Dealer) if name.startswith("gssapi_")}
    if not zmq.has("vmci"):
        expected |= {name for name in gzmq.options(gzmq.Dealer) if name.startswith("vmci_")}
    if not gzmq.capability["draft"]:
        expected.add("notify")
    if not expected:
        pytest.skip("this libzmq has gssapi, vmci and draft: nothing is unsupported")
    assert {name for _, name in _unsupported()} == expected
    for cls, name in _unsupported():
        option = gzmq.options(cls)[name]
        with cls(context=context) as sock:
            with pytest.raises(gzmq.NotSupportedError, match=name) as raised:
                getattr(sock, name)
            assert isinstance(raised.value, NotImplementedError)
            value = {Bool: True, UInt64: 1, Int32: 1, Choice: None, NullableText: "x"}[
                type(option.kind)
            ]
            with pytest.raises(gzmq.NotSupportedError, match="needs libzmq"):
                setattr(sock, name, value)


# -- validation before libzmq ---------------------------------------------------------------

WRONG: dict[type, list[Any]] = {
    Bool: [1, 0, "yes", None],
    Int32: ["5", 5.0, True, None, b"1"],
    Int64: ["5", 5.5, False],
    UInt64: ["5", 1.0, True],
    Text: [b"bytes", 5, None],
    NullableText: [b"bytes", 5, ["x"]],
    Cidr: [b"127.0.0.1", 5],
    Binary: [5, None, ["x"]],
    CurveKey: [None, 5, ["x" * 40]],
    Choice: [1, True, b"all_subs"],
}


def _writable_options() -> Iterator[tuple[type, str, Option[Any]]]:
    seen = set()
    for cls in ALL:
        for name, option in gzmq.options(cls).items():
            if option.writable and option.supported and id(option) not in seen:
                seen.add(id(option))
                yield cls, name, option


@pytest.mark.parametrize(
    ("cls", "name", "option"),
    [pytest.param(*row, id=f"{row[0].__name__}.{row[1]}") for row in _writable_options()],
)
def test_wrong_type_raises_type_error_naming_option_and_type(
    cls: type, name: str, option: Option[Any], context: gzmq.Context
) -> None:
    """A value of the wrong type is a TypeError naming the option and its type; nothing changes."""
    with cls(context=context) as sock:
        before = getattr(sock, name) if option.readable else None
        for value in WRONG[type(option.kind)]:
            with pytest.raises(TypeError) as raised:
                setattr(sock, name, value)
            message = str(raised.value)
            assert repr(name) in message and option.kind.expected in message, message
            with pytest.raises(TypeError, match=re.escape(repr(name))):
                cls(context=context, **{name: value})
        if option.readable:
            assert getattr(sock, name) == before


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("linger", -2), ("linger", 2**31), ("send_high_water_mark", -1),
        ("receive_timeout", -(2**31) - 1), ("rate", 0), ("tcp_keepalive", 2),
        ("type_of_service", 256), ("heartbeat_time_to_live", 6_553_600),
        ("affinity", -1), ("affinity", 2**64), ("max_message_size", 2**63),
        ("max_message_size", -2), ("routing_id", b""), ("routing_id", b"x" * 256),
        ("routing_id", b"\x00leading-nul"), ("zap_domain", ""), ("zap_domain", "a\x00b"),
        ("plain_username", ""), ("plain_password", "x" * 256), ("interface", "x" * 16),
        ("curve_server_key", "x" * 39), ("curve_server_key", "x" * 41),
        ("curve_server_key", "~" * 40), ("curve_server_key", b"x" * 31),
        ("curve_secret_key", KEYS.secret[:-1] + ","), ("tcp_accept_filter", "localhost"),
        ("tcp_accept_filter", "10.0.0.0/33"), ("tcp_accept_filter", "10.0.0.0/x"),
        ("tcp_accept_filter", "::1/129"),
    ],
)
def test_out_of_range_values_raise_option_value_error(
    name: str, value: Any, context: gzmq.Context
) -> None:
    """A value of the right type but outside what the option accepts is OptionValueError."""
    sock = gzmq.Dealer(context=context)
    option = gzmq.options(sock)[name]
    before = getattr(sock, name) if option.readable else None
    with pytest.raises(gzmq.OptionValueError, match=re.escape(repr(name))):
        setattr(sock, name, value)
    if option.readable:
        assert getattr(sock, name) == before  # checked before libzmq saw it
    sock.close()
    assert issubclass(gzmq.OptionValueError, ValueError)


def test_enums_accept_their_names_only(context: gzmq.Context) -> None:
    """verbosity takes None, 'all_subs' or 'all_subs_unsubs'; other names are OptionValueError."""
    with gzmq.XPublisher(context=context) as xpub:
        for name in (None, "all_subs", "all_subs_unsubs"):
            xpub.verbosity = name
        for bad in ("allSubs", "ALL_SUBS", ""):
            with pytest.raises(gzmq.OptionValueError, match="'all_subs_unsubs'"):
                xpub.verbosity = bad


def test_verbosity_all_subs_passes_duplicate_subscribes_only(context: gzmq.Context) -> None:
    """verbosity 'all_subs' passes a duplicate subscribe but not a duplicate unsubscribe."""
    with gzmq.XPublisher(context=context, linger=0, verbosity="all_subs") as xpub:
        xpub.bind("inproc://verbosity-all-subs")
        subs = [gzmq.Subscriber(context=context, linger=0) for _ in range(2)]
        for sub in subs:
            sub.connect(xpub.last_endpoint)
            sub.subscribe(b"t")
        assert [xpub.recv(timeout=5), xpub.recv(timeout=5)] == [[b"\x01t"], [b"\x01t"]]
        subs[0].unsubscribe(b"t")
        with pytest.raises(zmq.Again):
            xpub.recv(timeout=0.3)
        subs[1].unsubscribe(b"t")  # the last one is passed up
        assert xpub.recv(timeout=5) == [b"\x00t"]
        for sub in subs:
            sub.close()


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_verbosity_passes_duplicate_subscriptions(
    transport: str, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """verbosity 'all_subs' passes up a duplicate subscribe; 'all_subs_unsubs' every unsubscribe."""
    with gzmq.XPublisher(context=context, linger=0, verbosity="all_subs_unsubs") as xpub:
        xpub.bind(endpoint())
        first = gzmq.Subscriber(context=context, linger=0)
        second = gzmq.Subscriber(context=context, linger=0)
        for sub in (first, second):
            sub.connect(xpub.last_endpoint)
            sub.subscribe(b"topic")
        assert xpub.recv(timeout=5) == [b"\x01topic"]
        assert xpub.recv(timeout=5) == [b"\x01topic"]
        first.unsubscribe(b"topic")
        assert xpub.recv(timeout=5) == [b"\x00topic"]
        first.close()
        second.close()


def test_constructor_rejects_unknown_and_read_only_names(context: gzmq.Context) -> None:
    """Unknown or read-only keyword options raise UnknownOptionError listing the valid names."""
    with pytest.raises(gzmq.UnknownOptionError) as raised:
        gzmq.Dealer(context=context, lingr=0)
    message = str(raised.value)
    assert "'lingr' is not an option of Dealer" in message
    assert "linger" in message and "routing_id" in message and "send_timeout" in message
    with pytest.raises(gzmq.UnknownOptionError, match="'type' is a read-only option"):
        gzmq.Dealer(context=context, type=zmq.DEALER)
    with pytest.raises(gzmq.UnknownOptionError, match="'send_timeout' is not an option"):
        gzmq.Subscriber(context=context, send_timeout=0)
    with pytest.raises(gzmq.UnknownOptionError, match="'mandatory' is not an option of Dealer"):
        gzmq.Dealer(context=context, mandatory=True)
    assert issubclass(gzmq.UnknownOptionError, TypeError)
    assert context.sockets == []  # the sockets made before the error were closed


def test_constructor_keywords_are_validated_like_attributes(context: gzmq.Context) -> None:
    """Constructor keywords go through the same checks and reach libzmq."""
    with pytest.raises(gzmq.OptionValueError, match="'linger'"):
        gzmq.Dealer(context=context, linger=-5)
    with gzmq.Router(
        context=context, linger=0, mandatory=True, routing_id=b"r\x00", send_timeout=0
    ) as router:
        assert (router.linger, router.routing_id, router.send_timeout) == (0, b"r\x00", 0)
        with pytest.raises(zmq.ZMQError) as raised:
            router.send([b"nobody", b"x"])  # mandatory: an unknown peer is an error
        assert raised.value.errno == zmq.EHOSTUNREACH


def test_access_errors(context: gzmq.Context) -> None:
    """Reading a write-only option or writing a read-only one raises the AttributeError kind."""
    with gzmq.Router(context=context) as router:
        with pytest.raises(gzmq.WriteOnlyOptionError, match="'mandatory' is write-only"):
            router.mandatory  # noqa: B018 - the read is the test
        with pytest.raises(gzmq.ReadOnlyOptionError, match="'security' is read-only"):
            router.security = "plain"
    assert issubclass(gzmq.WriteOnlyOptionError, AttributeError)
    assert issubclass(gzmq.ReadOnlyOptionError, AttributeError)


@pytest.mark.parametrize("cls", [*ALL, gzmq.Context], ids=lambda cls: cls.__name__)
def test_misspelled_attributes_raise(cls: type, context: gzmq.Context) -> None:
    """__slots__ make a misspelled option an AttributeError instead of a new attribute."""
    target = context if cls is gzmq.Context else cls(context=context)
    with pytest.raises(AttributeError):
        target.lingr = 1
    with pytest.raises(AttributeError):
        target.sendTimeout = 1
    assert not hasattr(target, "__dict__")
    if target is not context:
        target.close()


def test_options_of_another_class_are_absent(context: gzmq.Context) -> None:
    """A class has only its options: Subscriber has no send_timeout, Pull no routing_id."""
    with gzmq.Subscriber(context=context) as sub, gzmq.Pull(context=context) as pull:
        with pytest.raises(AttributeError):
            sub.send_timeout = 5
        with pytest.raises(AttributeError):
            pull.routing_id  # noqa: B018 - the read is the test


def test_tcp_accept_filter_admits_only_matching_peers(context: gzmq.Context) -> None:
    """A listener filtered to another address admits nobody; None removes the filters."""
    def delivered(**filters: Any) -> bool:
        with gzmq.Pull(context=context, linger=0) as pull, gzmq.Push(
            context=context, linger=0
        ) as push:
            for value in filters.get("add", ()):
                pull.tcp_accept_filter = value
            if filters.get("clear"):
                pull.tcp_accept_filter = None
            pull.bind("tcp://127.0.0.1:*")
            push.connect(pull.last_endpoint)
            push.send(b"x")
            try:
                return pull.recv(timeout=0.5) == [b"x"]
            except zmq.Again:
                return False

    assert delivered(add=["127.0.0.1"])
    assert delivered(add=["10.9.9.9", "127.0.0.0/8"])
    assert not delivered(add=["10.9.9.9"])
    assert delivered(add=["10.9.9.9"], clear=True)


def test_max_message_size_drops_larger_messages(context: gzmq.Context) -> None:
    """max_message_size disconnects a peer sending more; smaller messages arrive."""
    # (libzmq applies the limit to ZMTP commands too: keep room for the READY handshake)
    with gzmq.Pull(context=context, linger=0, max_message_size=100) as pull, gzmq.Push(
        context=context, linger=0
    ) as push:
        pull.bind("tcp://127.0.0.1:*")
        push.connect(pull.last_endpoint)
        push.send(b"small")
        assert pull.recv(timeout=5) == [b"small"]
        push.send(b"x" * 101)
        with pytest.raises(zmq.Again):
            pull.recv(timeout=0.5)


# -- LateOptionWarning ---------------------------------------------------------------------


def _settable_sample(name: str, option: Option[Any]) -> Any:
    if name == "socks_proxy":
        return None  # libzmq 4.3.5 aborts when a proxy refuses the connection
    if name in SAMPLES:
        return SAMPLES[name][0]
    kind = option.kind
    if isinstance(kind, Bool):
        return False
    if isinstance(kind, Choice):
        return next(iter(kind.names))
    if isinstance(kind, (Int32, Int64, UInt64)):
        return max(kind.minimum, 0) if name != "rate" else 100
    if isinstance(kind, Binary):
        return b""
    if isinstance(kind, Cidr):
        return "127.0.0.1"
    raise AssertionError(name)


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_late_option_warning_follows_zeromq_js_exemptions(
    cls: type, context: gzmq.Context
) -> None:
    """After connect, only options that apply to future connections warn LateOptionWarning."""
    with cls(context=context, linger=0) as sock:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for name, option in gzmq.options(cls).items():  # nothing warns before connect
                if option.writable and option.supported:
                    setattr(sock, name, _settable_sample(name, option))
        sock.connect("tcp://127.0.0.1:9")  # nobody listens: libzmq keeps retrying
        for name, option in gzmq.options(cls).items():
            if not option.writable or not option.supported:
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                setattr(sock, name, _settable_sample(name, option))
            late = [w for w in caught if issubclass(w.category, gzmq.LateOptionWarning)]
            assert len(late) == (0 if option.immediate else 1), name
            for warning in late:
                assert "will not take effect until next connect/bind" in str(warning.message)
                assert warning.filename == __file__  # points at the line that set it


def test_late_option_warning_after_bind(context: gzmq.Context) -> None:
    """Binding counts too: a late routing_id warns, a late linger or timeout does not."""
    with gzmq.Dealer(context=context, linger=0) as sock:
        sock.bind("inproc://late-bind")
        with pytest.warns(gzmq.LateOptionWarning, match="'routing_id' will not take effect"):
            sock.routing_id = b"late"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sock.linger = 5
            sock.send_timeout = 5
            sock.receive_high_water_mark = 5
    assert issubclass(gzmq.LateOptionWarning, gzmq.GzmqWarning)


# -- context options -------------------------------------------------------------------------


def test_context_options_defaults_and_round_trip() -> None:
    """Context options read libzmq's defaults and round-trip through kwargs and attributes."""
    ctx = gzmq.Context()
    try:
        assert (ctx.io_threads, ctx.max_sockets, ctx.ipv6, ctx.blocky) == (1, 1023, False, True)
        assert ctx.max_sockets_limit >= ctx.max_sockets
        assert ctx.max_message_size == 2**31 - 1
        ctx.io_threads = 3
        ctx.max_sockets = 64
        ctx.max_message_size = 1 << 20
        ctx.ipv6 = True
        ctx.blocky = False
        ctx.thread_priority = 0
        ctx.thread_scheduling_policy = 0  # SCHED_OTHER, the only one without privileges
        assert (ctx.io_threads, ctx.max_sockets, ctx.max_message_size, ctx.ipv6, ctx.blocky) == (
            3, 64, 1 << 20, True, False
        )
    finally:
        ctx.close()


def test_context_option_errors() -> None:
    """Context options: write-only, read-only, type, range and unknown names all raise."""
    with pytest.raises(gzmq.UnknownOptionError, match="'max_sockets_limit' is a read-only"):
        gzmq.Context(max_sockets_limit=5)
    with pytest.raises(gzmq.UnknownOptionError, match="io_threads"):
        gzmq.Context(threads=2)
    ctx = gzmq.Context()
    try:
        with pytest.raises(gzmq.WriteOnlyOptionError, match="thread_priority"):
            ctx.thread_priority  # noqa: B018 - the read is the test
        with pytest.raises(gzmq.WriteOnlyOptionError, match="thread_scheduling_policy"):
            ctx.thread_scheduling_policy  # noqa: B018 - the read is the test
        with pytest.raises(gzmq.ReadOnlyOptionError, match="max_sockets_limit"):
            ctx.max_sockets_limit = 1
        with pytest.raises(TypeError, match="'io_threads' expects int"):
            ctx.io_threads = "2"
        with pytest.raises(TypeError, match="'blocky' expects bool"):
            ctx.blocky = 0
        with pytest.raises(gzmq.OptionValueError, match="'max_sockets'"):
            ctx.max_sockets = 0
        with pytest.raises(gzmq.OptionValueError, match="'io_threads'"):
            ctx.io_threads = 2**31
    finally:
        ctx.close()


def test_context_options_shape_new_sockets() -> None:
    """blocky=False gives new sockets linger 0, ipv6 carries over, max_sockets is enforced."""
    ctx = gzmq.Context(blocky=False, ipv6=True, max_sockets=2, io_threads=0)
    try:
        first = gzmq.Pair(context=ctx)
        second = gzmq.Pair(context=ctx)
        assert (first.linger, first.ipv6) == (0, True)
        with pytest.raises(zmq.ZMQError) as raised:
            gzmq.Pair(context=ctx)
        assert raised.value.errno == errno.EMFILE
        first.bind("inproc://io-threads-0")  # io_threads=0 still carries inproc
        second.connect("inproc://io-threads-0")
        second.send(b"ping")
        assert first.recv(timeout=5) == [b"ping"]
    finally:
        ctx.close()


# -- security options actually securing connections ---------------------------------------


def _delivered(server: gzmq.Pull, client: gzmq.Push, payload: bytes) -> bool:
    client.send(payload)
    try:
        return server.recv(timeout=0.75) == [payload]
    except zmq.Again:
        return False


@pytest.mark.timeout(30)
@pytest.mark.parametrize("transport", ["tcp", "ipc"])  # inproc has no security handshake
def test_curve_secures_a_connection(
    transport: str, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """CURVE: the right server key delivers; a wrong server key fails the handshake."""
    server_keys, client_keys, other = gzmq.curve_keypair(), KEYS, gzmq.curve_keypair()
    with gzmq.Pull(
        context=context, linger=0, curve_server=True, curve_secret_key=server_keys.secret
    ) as server:
        server.bind(endpoint())
        assert server.security == "curve"

        def client(server_key: str) -> gzmq.Push:
            push = gzmq.Push(
                context=context, linger=0, curve_server_key=server_key,
                curve_public_key=client_keys.public, curve_secret_key=client_keys.secret,
            )
            push.connect(server.last_endpoint)
            return push

        with client(other.public) as wrong:
            assert wrong.security == "curve"
            assert not _delivered(server, wrong, b"wrong key")
        with client(server_keys.public) as right:
            assert _delivered(server, right, b"right key")
        with client(zmq.utils.z85.decode(server_keys.public)) as raw:  # 32 raw bytes work too
            assert _delivered(server, raw, b"raw key")


def _zap_handler(
    router: gzmq.Router, passwords: dict[bytes, bytes], log: list[list[bytes]]
) -> None:
    """A ZAP (RFC 27) handler: accept PLAIN users whose password matches, refuse the rest."""
    for frames in router:
        peer, delimiter, version, request_id, _domain, _address, _identity, mechanism, *creds = (
            frames
        )
        log.append(frames)
        assert delimiter == b"" and version == b"1.0"
        ok = mechanism == b"PLAIN" and passwords.get(creds[0]) == creds[1]
        status, text, user = (b"200", b"OK", creds[0]) if ok else (b"400", b"Denied", b"")
        router.send([peer, b"", b"1.0", request_id, status, text, user, b""])


@pytest.mark.timeout(30)
@pytest.mark.parametrize("transport", ["tcp", "ipc"])  # inproc has no security handshake
def test_plain_with_a_zap_handler(
    transport: str, endpoint: Callable[[], str], context: gzmq.Context
) -> None:
    """PLAIN: a ZAP handler greenlet accepts the right password and refuses a wrong one."""
    log: list[list[bytes]] = []
    zap = gzmq.Router(context=context, linger=0)
    zap.bind("inproc://zeromq.zap.01")
    handler = gevent.spawn(_zap_handler, zap, {b"admin": b"s3cret"}, log)
    try:
        with gzmq.Pull(context=context, linger=0, plain_server=True, zap_domain="test") as server:
            server.bind(endpoint())
            assert server.security == "plain"

            def client(password: str) -> gzmq.Push:
                push = gzmq.Push(
                    context=context, linger=0, plain_username="admin", plain_password=password
                )
                push.connect(server.last_endpoint)
                return push

            with client("wrong") as wrong:
                assert wrong.security == "plain"
                assert not _delivered(server, wrong, b"intruder")
            with client("s3cret") as right:
                assert _delivered(server, right, b"welcome")
        mechanisms = {(frames[7], frames[8], frames[9]) for frames in log}
        assert (b"PLAIN", b"admin", b"wrong") in mechanisms
        assert (b"PLAIN", b"admin", b"s3cret") in mechanisms
        assert all(frames[4] == b"test" for frames in log)  # the server's zap_domain
    finally:
        zap.close()
        assert handler.get(timeout=5) is None


def test_z85_alphabet_is_checked_character_by_character(context: gzmq.Context) -> None:
    """Every non-Z85 printable character in an otherwise valid key is OptionValueError."""
    z85 = set(string.digits + string.ascii_letters + ".-:+=^!/*?&<>()[]{}@%$#")
    with gzmq.Dealer(context=context) as sock:
        for char in sorted(set(string.printable) - z85):
            with pytest.raises(gzmq.OptionValueError, match="not Z85"):
                sock.curve_server_key = char + KEYS.public[1:]
        sock.curve_server_key = KEYS.public
        assert sock.curve_server_key == KEYS.public
