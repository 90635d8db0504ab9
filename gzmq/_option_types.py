"""The keyword options of each class's constructor, as TypedDicts for type checkers.

Generated from the option registry by ``python docs/generate_option_types.py``;
do not edit (tests/test_options.py checks that it is up to date).  Only type
checkers read it: ``Dealer.__init__(self, *, context=None, **options:
Unpack[DealerOptions])``.  Every key is optional (``total=False``); the value
types are what the option accepts.
"""

from __future__ import annotations

from typing import Literal, TypedDict

__all__ = [
    "ContextOptions",
    "DealerOptions",
    "PairOptions",
    "PublisherOptions",
    "PullOptions",
    "PushOptions",
    "ReplyOptions",
    "RequestOptions",
    "RouterOptions",
    "StreamOptions",
    "SubscriberOptions",
    "XPublisherOptions",
    "XSubscriberOptions",
]


class PairOptions(TypedDict, total=False):
    """The keyword options of Pair(...): its writable options."""

    affinity: int
    backlog: int
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class PublisherOptions(TypedDict, total=False):
    """The keyword options of Publisher(...): its writable options."""

    affinity: int
    backlog: int
    conflate: bool
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    invert_matching: bool
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    no_drop: bool
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class SubscriberOptions(TypedDict, total=False):
    """The keyword options of Subscriber(...): its writable options."""

    affinity: int
    backlog: int
    conflate: bool
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    invert_matching: bool
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class RequestOptions(TypedDict, total=False):
    """The keyword options of Request(...): its writable options."""

    affinity: int
    backlog: int
    connect_timeout: int
    correlate: bool
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    probe_router: bool
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    relaxed: bool
    routing_id: bytes | bytearray | memoryview | str
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class ReplyOptions(TypedDict, total=False):
    """The keyword options of Reply(...): its writable options."""

    affinity: int
    backlog: int
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    routing_id: bytes | bytearray | memoryview | str
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class DealerOptions(TypedDict, total=False):
    """The keyword options of Dealer(...): its writable options."""

    affinity: int
    backlog: int
    conflate: bool
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    probe_router: bool
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    routing_id: bytes | bytearray | memoryview | str
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class RouterOptions(TypedDict, total=False):
    """The keyword options of Router(...): its writable options."""

    affinity: int
    backlog: int
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handover: bool
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    mandatory: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    notify: Literal["connect", "disconnect", "all"] | None
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    probe_router: bool
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    routing_id: bytes | bytearray | memoryview | str
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class PullOptions(TypedDict, total=False):
    """The keyword options of Pull(...): its writable options."""

    affinity: int
    backlog: int
    conflate: bool
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class PushOptions(TypedDict, total=False):
    """The keyword options of Push(...): its writable options."""

    affinity: int
    backlog: int
    conflate: bool
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class XPublisherOptions(TypedDict, total=False):
    """The keyword options of XPublisher(...): its writable options."""

    affinity: int
    backlog: int
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    invert_matching: bool
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    manual: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    no_drop: bool
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    verbosity: Literal["all_subs", "all_subs_unsubs"] | None
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    welcome_message: bytes | bytearray | memoryview | str
    zap_domain: str
    zap_enforce_domain: bool


class XSubscriberOptions(TypedDict, total=False):
    """The keyword options of XSubscriber(...): its writable options."""

    affinity: int
    backlog: int
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class StreamOptions(TypedDict, total=False):
    """The keyword options of Stream(...): its writable options."""

    affinity: int
    backlog: int
    connect_timeout: int
    curve_public_key: str | bytes | bytearray | memoryview
    curve_secret_key: str | bytes | bytearray | memoryview
    curve_server: bool
    curve_server_key: str | bytes | bytearray | memoryview
    gssapi_plain_text: bool
    gssapi_principal: str | None
    gssapi_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    gssapi_server: bool
    gssapi_service_principal: str | None
    gssapi_service_principal_name_type: Literal["host_based", "user_name", "krb5_principal"]
    handshake_interval: int
    heartbeat_interval: int
    heartbeat_time_to_live: int
    heartbeat_timeout: int
    immediate: bool
    interface: str | None
    ipv6: bool
    linger: int
    loopback_fast_path: bool
    max_message_size: int
    multicast_hops: int
    multicast_max_transport_data_unit: int
    notify: bool
    plain_password: str | None
    plain_server: bool
    plain_username: str | None
    rate: int
    receive_buffer_size: int
    receive_high_water_mark: int
    receive_timeout: int
    reconnect_interval: int
    reconnect_max_interval: int
    recovery_interval: int
    send_buffer_size: int
    send_high_water_mark: int
    send_timeout: int
    socks_proxy: str | None
    tcp_accept_filter: str | None
    tcp_keepalive: int
    tcp_keepalive_count: int
    tcp_keepalive_idle: int
    tcp_keepalive_interval: int
    tcp_max_retransmit_timeout: int
    type_of_service: int
    vmci_buffer_max_size: int
    vmci_buffer_min_size: int
    vmci_buffer_size: int
    vmci_connect_timeout: int
    zap_domain: str
    zap_enforce_domain: bool


class ContextOptions(TypedDict, total=False):
    """The keyword options of Context(...): its writable options."""

    blocky: bool
    io_threads: int
    ipv6: bool
    max_message_size: int
    max_sockets: int
    thread_priority: int
    thread_scheduling_policy: int
