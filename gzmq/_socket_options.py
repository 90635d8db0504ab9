"""The socket options every class shares, and those of the readable / writable groups.

These are zeromq.js v6's ``defineOpt([Socket], …)``, ``readables`` and
``writables`` lines as descriptors; :class:`gzmq.socket.Socket`,
:class:`~gzmq.socket.Readable` and :class:`~gzmq.socket.Writable` inherit
them, and :mod:`gzmq.sockets` declares the class-specific ones.  ids and wire
types are pyzmq's (:class:`zmq.SocketOption`).  ``immediate=True`` marks
zeromq.js's exemptions from the "will not take effect until next
connect/bind" warning.
"""

from __future__ import annotations

from zmq import SocketOption as Z

from gzmq.options import (
    READ,
    WRITE,
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

__all__ = ["ReadableOptions", "SocketOptions", "WritableOptions"]

#: libzmq's ZMQ_GSSAPI_NT_* name types (pyzmq has no constants for them).
_NAME_TYPES: dict[str | None, int] = {"host_based": 0, "user_name": 1, "krb5_principal": 2}
_V430 = (4, 3, 0)


def routing_id_kind() -> Binary:
    """A routing id: 1 to 255 bytes, NUL bytes kept, but not a leading NUL (libzmq's)."""
    return Binary(min_bytes=1, max_bytes=255, leading_nul=False)


class SocketOptions:
    """Mixin: the options of every socket class (zeromq.js's ``[Socket]`` lines)."""

    __slots__ = ()

    # -- read-only ----------------------------------------------------------------------

    type = Option(Z.TYPE, Int32(), READ, doc="ZMQ_TYPE: the libzmq socket type number.")
    last_endpoint = Option(
        Z.LAST_ENDPOINT, Text(), READ,
        doc="ZMQ_LAST_ENDPOINT: the endpoint last bound or connected, with the real port "
        "for tcp://host:* ('' before any).",
    )
    security = Option(
        Z.MECHANISM, Choice({None: 0, "plain": 1, "curve": 2, "gssapi": 3}), READ,
        doc="ZMQ_MECHANISM: the security mechanism the options chose: None, 'plain', "
        "'curve' or 'gssapi'.",
    )
    thread_safe = Option(
        Z.THREAD_SAFE, Bool(), READ,
        doc="ZMQ_THREAD_SAFE: whether libzmq lets threads share this socket (draft "
        "sockets only).",
    )

    # -- lifecycle and connections --------------------------------------------------------

    linger = Option(
        Z.LINGER, Int32(minimum=-1), immediate=True,
        doc="ZMQ_LINGER: ms that close() keeps unsent messages (-1 forever, 0 drop them).",
    )
    immediate = Option(
        Z.IMMEDIATE, Bool(),
        doc="ZMQ_IMMEDIATE: queue messages only to completed connections, so that "
        "round-robin sends skip peers still connecting.",
    )
    affinity = Option(
        Z.AFFINITY, UInt64(),
        doc="ZMQ_AFFINITY: bit mask of the I/O threads that handle new connections "
        "(0: any).",
    )
    backlog = Option(
        Z.BACKLOG, Int32(minimum=0),
        doc="ZMQ_BACKLOG: the most pending connections a listening socket queues.",
    )
    reconnect_interval = Option(
        Z.RECONNECT_IVL, Int32(minimum=-1),
        doc="ZMQ_RECONNECT_IVL: ms before reconnecting a lost peer (-1 never reconnect).",
    )
    reconnect_max_interval = Option(
        Z.RECONNECT_IVL_MAX, Int32(minimum=0),
        doc="ZMQ_RECONNECT_IVL_MAX: upper bound (ms) of the doubling reconnect interval "
        "(0: no backoff).",
    )
    connect_timeout = Option(
        Z.CONNECT_TIMEOUT, Int32(minimum=0),
        doc="ZMQ_CONNECT_TIMEOUT: ms a tcp connect() may take before it fails (0: the "
        "system's).",
    )
    handshake_interval = Option(
        Z.HANDSHAKE_IVL, Int32(minimum=0),
        doc="ZMQ_HANDSHAKE_IVL: ms a new connection has to complete the ZMTP handshake "
        "(0: no limit).",
    )
    max_message_size = Option(
        Z.MAXMSGSIZE, Int64(minimum=-1),
        doc="ZMQ_MAXMSGSIZE: the largest inbound message in bytes; a peer sending a larger "
        "one is disconnected (-1: no limit).",
    )
    heartbeat_interval = Option(
        Z.HEARTBEAT_IVL, Int32(minimum=0),
        doc="ZMQ_HEARTBEAT_IVL: ms between ZMTP PING heartbeats (0: none).",
    )
    heartbeat_timeout = Option(
        Z.HEARTBEAT_TIMEOUT, Int32(minimum=0),
        doc="ZMQ_HEARTBEAT_TIMEOUT: ms without any traffic after a PING before the "
        "connection is dropped (reads -1 until set: heartbeat_interval is used).",
    )
    heartbeat_time_to_live = Option(
        Z.HEARTBEAT_TTL, Int32(minimum=0, maximum=6_553_599),
        doc="ZMQ_HEARTBEAT_TTL: ms the peer waits for traffic before dropping us; libzmq "
        "keeps whole deciseconds (reads back rounded down to 100 ms).",
    )

    # -- transports -------------------------------------------------------------------------

    ipv6 = Option(
        Z.IPV6, Bool(),
        doc="ZMQ_IPV6: connect to and accept from IPv6 as well as IPv4 hosts.",
    )
    interface = Option(
        Z.BINDTODEVICE, NullableText(max_bytes=15), since=_V430,
        doc="ZMQ_BINDTODEVICE: bind connections to this network interface, e.g. 'eth0' "
        "(Linux; needs CAP_NET_RAW); None unsets.",
    )
    socks_proxy = Option(
        Z.SOCKS_PROXY, NullableText(max_bytes=254),
        doc="ZMQ_SOCKS_PROXY: 'host:port' of a SOCKS5 proxy for tcp connections; None "
        "unsets.\n\nCaution: libzmq 4.3.5 aborts the whole process (Bad file descriptor, "
        "src/epoll.cpp) when the proxy refuses or drops the connection.",
    )
    tcp_accept_filter = Option(
        Z.TCP_ACCEPT_FILTER, Cidr(), WRITE,
        doc="ZMQ_TCP_ACCEPT_FILTER: add an IP address or CIDR range that may connect to a "
        "listening tcp socket (none added: any may); None removes every filter.",
    )
    tcp_keepalive = Option(
        Z.TCP_KEEPALIVE, Int32(minimum=-1, maximum=1),
        doc="ZMQ_TCP_KEEPALIVE: SO_KEEPALIVE on tcp connections: 1 on, 0 off, -1 the "
        "system's default.",
    )
    tcp_keepalive_count = Option(
        Z.TCP_KEEPALIVE_CNT, Int32(minimum=-1),
        doc="ZMQ_TCP_KEEPALIVE_CNT: TCP_KEEPCNT, unanswered probes before the connection "
        "is dropped (-1: system's).",
    )
    tcp_keepalive_idle = Option(
        Z.TCP_KEEPALIVE_IDLE, Int32(minimum=-1),
        doc="ZMQ_TCP_KEEPALIVE_IDLE: TCP_KEEPIDLE, seconds idle before the first probe "
        "(-1: system's).",
    )
    tcp_keepalive_interval = Option(
        Z.TCP_KEEPALIVE_INTVL, Int32(minimum=-1),
        doc="ZMQ_TCP_KEEPALIVE_INTVL: TCP_KEEPINTVL, seconds between probes (-1: system's).",
    )
    tcp_max_retransmit_timeout = Option(
        Z.TCP_MAXRT, Int32(minimum=0),
        doc="ZMQ_TCP_MAXRT: ms an unacknowledged tcp retransmission may last before the "
        "connection fails (0: system's).",
    )
    type_of_service = Option(
        Z.TOS, Int32(minimum=0, maximum=255),
        doc="ZMQ_TOS: the IP header's type-of-service byte (DSCP and ECN) of outgoing "
        "packets.",
    )
    loopback_fast_path = Option(
        Z.LOOPBACK_FASTPATH, Bool(), since=_V430,
        doc="ZMQ_LOOPBACK_FASTPATH: use the Windows loopback fast path for tcp (no effect "
        "elsewhere).",
    )
    rate = Option(
        Z.RATE, Int32(minimum=1),
        doc="ZMQ_RATE: the most kilobits per second a multicast (pgm/norm) socket sends.",
    )
    recovery_interval = Option(
        Z.RECOVERY_IVL, Int32(minimum=0),
        doc="ZMQ_RECOVERY_IVL: ms a multicast receiver may be away before data is lost "
        "for it.",
    )
    multicast_max_transport_data_unit = Option(
        Z.MULTICAST_MAXTPDU, Int32(minimum=1),
        doc="ZMQ_MULTICAST_MAXTPDU: the largest multicast packet in bytes (keep it at or "
        "below the path MTU).",
    )
    vmci_buffer_size = Option(
        Z.VMCI_BUFFER_SIZE, UInt64(), capability="vmci",
        doc="ZMQ_VMCI_BUFFER_SIZE: the vmci:// connection buffer size in bytes.",
    )
    vmci_buffer_min_size = Option(
        Z.VMCI_BUFFER_MIN_SIZE, UInt64(), capability="vmci",
        doc="ZMQ_VMCI_BUFFER_MIN_SIZE: the smallest vmci:// buffer size negotiated.",
    )
    vmci_buffer_max_size = Option(
        Z.VMCI_BUFFER_MAX_SIZE, UInt64(), capability="vmci",
        doc="ZMQ_VMCI_BUFFER_MAX_SIZE: the largest vmci:// buffer size negotiated.",
    )
    vmci_connect_timeout = Option(
        Z.VMCI_CONNECT_TIMEOUT, Int32(minimum=-1), capability="vmci",
        doc="ZMQ_VMCI_CONNECT_TIMEOUT: ms a vmci:// connect may take (-1: forever).",
    )

    # -- security -------------------------------------------------------------------------

    zap_domain = Option(
        Z.ZAP_DOMAIN, Text(min_bytes=1),
        doc="ZMQ_ZAP_DOMAIN: the ZAP (RFC 27) domain of this socket's connections; with "
        "NULL security ZAP is asked only if it is set ('' until set).",
    )
    zap_enforce_domain = Option(
        Z.ZAP_ENFORCE_DOMAIN, Bool(), since=_V430,
        doc="ZMQ_ZAP_ENFORCE_DOMAIN: require a ZAP domain, as RFC 27 says (stricter than "
        "libzmq's default).",
    )
    plain_server = Option(
        Z.PLAIN_SERVER, Bool(),
        doc="ZMQ_PLAIN_SERVER: act as the PLAIN server (a ZAP handler checks the "
        "clients' credentials).",
    )
    plain_username = Option(
        Z.PLAIN_USERNAME, NullableText(),
        doc="ZMQ_PLAIN_USERNAME: the PLAIN client's user name (setting it selects PLAIN; "
        "None returns to NULL security).",
    )
    plain_password = Option(
        Z.PLAIN_PASSWORD, NullableText(),
        doc="ZMQ_PLAIN_PASSWORD: the PLAIN client's password (setting it selects PLAIN; "
        "None returns to NULL security).",
    )
    curve_server = Option(
        Z.CURVE_SERVER, Bool(), capability="curve",
        doc="ZMQ_CURVE_SERVER: act as the CURVE server (needs curve_secret_key).",
    )
    curve_public_key = Option(
        Z.CURVE_PUBLICKEY, CurveKey(), capability="curve",
        doc="ZMQ_CURVE_PUBLICKEY: this socket's long-term public key (CURVE clients), "
        "Z85; None until set.",
    )
    curve_secret_key = Option(
        Z.CURVE_SECRETKEY, CurveKey(), capability="curve",
        doc="ZMQ_CURVE_SECRETKEY: this socket's long-term secret key (CURVE clients and "
        "servers), Z85; None until set.",
    )
    curve_server_key = Option(
        Z.CURVE_SERVERKEY, CurveKey(), capability="curve",
        doc="ZMQ_CURVE_SERVERKEY: the server's public key, set on CURVE clients (makes "
        "the socket a client), Z85; None until set.",
    )
    gssapi_server = Option(
        Z.GSSAPI_SERVER, Bool(), capability="gssapi",
        doc="ZMQ_GSSAPI_SERVER: act as the GSSAPI server.",
    )
    gssapi_plain_text = Option(
        Z.GSSAPI_PLAINTEXT, Bool(), capability="gssapi",
        doc="ZMQ_GSSAPI_PLAINTEXT: authenticate with GSSAPI but send messages unencrypted.",
    )
    gssapi_principal = Option(
        Z.GSSAPI_PRINCIPAL, NullableText(), capability="gssapi",
        doc="ZMQ_GSSAPI_PRINCIPAL: the name of this socket's own GSSAPI principal.",
    )
    gssapi_service_principal = Option(
        Z.GSSAPI_SERVICE_PRINCIPAL, NullableText(), capability="gssapi",
        doc="ZMQ_GSSAPI_SERVICE_PRINCIPAL: the GSSAPI server principal a client talks to.",
    )
    gssapi_principal_name_type = Option(
        Z.GSSAPI_PRINCIPAL_NAMETYPE, Choice(_NAME_TYPES), capability="gssapi", since=_V430,
        doc="ZMQ_GSSAPI_PRINCIPAL_NAMETYPE: how gssapi_principal is read: 'host_based', "
        "'user_name' or 'krb5_principal'.",
    )
    gssapi_service_principal_name_type = Option(
        Z.GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, Choice(_NAME_TYPES), capability="gssapi",
        since=_V430,
        doc="ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: how gssapi_service_principal is read: "
        "'host_based', 'user_name' or 'krb5_principal'.",
    )


class ReadableOptions:
    """Mixin: the receive-side options (zeromq.js's ``readables`` lines)."""

    __slots__ = ()

    receive_buffer_size = Option(
        Z.RCVBUF, Int32(minimum=-1),
        doc="ZMQ_RCVBUF: the kernel receive buffer size in bytes (-1: the system's).",
    )
    receive_high_water_mark = Option(
        Z.RCVHWM, Int32(minimum=0), immediate=True,
        doc="ZMQ_RCVHWM: the most inbound messages queued per peer (0: no limit).",
    )
    receive_timeout = Option(
        Z.RCVTIMEO, Int32(minimum=-1), immediate=True,
        doc="ZMQ_RCVTIMEO: ms recv() waits before raising zmq.Again (-1 forever, 0 try "
        "once).",
    )


class WritableOptions:
    """Mixin: the send-side options (zeromq.js's ``writables`` lines)."""

    __slots__ = ()

    send_buffer_size = Option(
        Z.SNDBUF, Int32(minimum=-1),
        doc="ZMQ_SNDBUF: the kernel send buffer size in bytes (-1: the system's).",
    )
    send_high_water_mark = Option(
        Z.SNDHWM, Int32(minimum=0), immediate=True,
        doc="ZMQ_SNDHWM: the most outbound messages queued per peer (0: no limit).",
    )
    send_timeout = Option(
        Z.SNDTIMEO, Int32(minimum=-1), immediate=True,
        doc="ZMQ_SNDTIMEO: ms send() waits before raising zmq.Again (-1 forever, 0 try "
        "once).",
    )
    multicast_hops = Option(
        Z.MULTICAST_HOPS, Int32(minimum=1),
        doc="ZMQ_MULTICAST_HOPS: the time-to-live of outgoing multicast packets (1: the "
        "local network only).",
    )

