"""ZAP authentication (RFC 27) in a greenlet, and CURVE certificates.

An :class:`Authenticator` answers libzmq's ZAP requests for every socket of
its context: it binds a ROUTER socket to ``inproc://zeromq.zap.01`` and
serves it from a greenlet, so it never blocks the hub::

    with auth.Authenticator() as authenticator:
        authenticator.allow("127.0.0.1")
        authenticator.configure_plain(passwords={"admin": "secret"})
        authenticator.configure_curve(keys="certificates/authorized")  # or ANY, or keys
        ...

How a request is decided, in order:

1. The address lists.  With an allow-list (:meth:`Authenticator.allow`)
   only those addresses pass; otherwise deny-listed addresses
   (:meth:`Authenticator.deny`) are refused.  A refused address is final.
2. The mechanism's credentials: NULL passes (libzmq asks ZAP about NULL
   connections only when the server socket has a ``zap_domain``); PLAIN
   needs a user name and password given to :meth:`~Authenticator.configure_plain`;
   CURVE needs the client's public key to be admitted by
   :meth:`~Authenticator.configure_curve`; GSSAPI (already checked by
   Kerberos) passes; anything else is refused.  Settings are looked up by
   the request's ZAP domain, then under ``"*"``.
3. The callback, if one is set: it has the final word (see
   :class:`Authenticator`).

The reply is status 200 (accepted, with a User-Id: the PLAIN user name, the
CURVE key in Z85, ``"anonymous"`` for NULL), 400 (refused; also for
malformed requests) or 500 (the callback failed).  A refused peer delivers
nothing, and both sides see a ``handshake:error:auth`` event with that
status.

Certificates are pyzmq's (and czmq's) text files: ``NAME.key`` holds the
public key, ``NAME.key_secret`` both keys; see :func:`create_certificates`.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
import zmq
from zmq.utils import z85

from gzmq._certificates import (
    Certificate,
    PathLike,
    create_certificates,
    load_certificate,
    load_certificates,
    z85_key,
)
from gzmq._context import Context, default_context
from gzmq.errors import SocketClosedError
from gzmq.sockets import Router

__all__ = [
    "ANY",
    "ZAP_ENDPOINT",
    "Authenticator",
    "Certificate",
    "Request",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]

log = logging.getLogger("gzmq.auth")

#: Where libzmq sends its ZAP requests (one handler per context).
ZAP_ENDPOINT = "inproc://zeromq.zap.01"
_VERSION = b"1.0"
_MECHANISMS = ("NULL", "PLAIN", "CURVE", "GSSAPI")


class _Any:
    """The type of :data:`ANY`."""

    _instance: _Any | None = None

    def __new__(cls) -> _Any:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "gzmq.auth.ANY"

    def __reduce__(self) -> str:
        return "ANY"


#: ``configure_curve(keys=ANY)``: admit every CURVE client (encryption without client checks).
ANY = _Any()

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Request:
    """One well-formed ZAP request, as the decision callback sees it.

    ``mechanism`` is ``"NULL"``, ``"PLAIN"``, ``"CURVE"``, ``"GSSAPI"`` or
    what the peer sent; ``address`` is the peer's IP address for tcp (for
    ipc on Linux ``"localhost:UID:GID:PID"`` of the peer process, which
    allow()/deny() match exactly); ``routing_id`` is the
    ZMTP identity the client announced.  ``username``/``password`` are set
    for PLAIN, ``public_key`` (Z85) for CURVE, ``principal`` for GSSAPI.
    ``allowed``, ``reason`` and ``user_id`` are the authenticator's own
    verdict from its address lists and credentials.
    """

    domain: str
    address: str
    routing_id: bytes
    mechanism: str
    credentials: tuple[bytes, ...] = field(repr=False)
    allowed: bool
    reason: str
    user_id: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    public_key: str | None = None
    principal: str | None = None


#: A decision callback: True/False, or (True, user_id) / (False, status text).
Callback = Callable[[Request], "bool | tuple[bool, str]"]


class _MalformedError(Exception):
    """A request to answer with status 400 (for malformed requests)."""


class Authenticator:
    """A ZAP handler for every socket of ``context`` (the default context if None).

    ``start()`` binds ``inproc://zeromq.zap.01`` on the context and serves it
    from a greenlet of the calling thread; ``stop()`` ends the greenlet and
    closes its socket (idempotent); as a context manager it starts and
    stops.  Only one authenticator can serve a context at a time.  Settings
    may change while it runs; each request sees the current ones.  Until
    configured, NULL connections pass, PLAIN and CURVE clients are refused.

    ``callback(request)``, if given, is called for every request whose
    address passed the allow/deny lists, with :class:`Request` carrying the
    authenticator's own verdict (``request.allowed``, ``request.reason``,
    ``request.user_id``).  Its result is final: ``True`` accepts (User-Id
    ``request.user_id``), ``False`` refuses (status 400), ``(True, user_id)``
    accepts with that User-Id, ``(False, text)`` refuses with that status
    text.  To add a check, ``return request.allowed and check(request)``; to
    replace the credential checks, ignore ``request.allowed``.  It runs in
    the authenticator's greenlet: it may block cooperatively, but that
    delays the handshakes after it.  If it raises or returns anything else
    the reply is status 500 (logged on ``gzmq.auth``) and serving goes on.

    Malformed requests (too few frames, wrong version, bad credentials
    frames, unknown mechanism) get status 400 where a reply can be
    addressed, and are dropped otherwise; the authenticator keeps serving.
    """

    def __init__(self, context: Context | None = None, *, callback: Callback | None = None) -> None:
        if context is None:
            context = default_context()
        elif not isinstance(context, Context):
            raise TypeError(
                f"context must be a gzmq.Context (or None for the default), "
                f"got {type(context).__name__}"
            )
        self._context = context
        self.callback = callback
        self._socket: Router | None = None
        self._greenlet: gevent.Greenlet[Any, Any] | None = None
        self._allowed: set[str] = set()
        self._allowed_networks: set[Network] = set()
        self._denied: set[str] = set()
        self._denied_networks: set[Network] = set()
        self._passwords: dict[str, dict[bytes, bytes]] = {}
        self._curve: dict[str, _Any | frozenset[str]] = {}
        self._counts = {"requests": 0, "accepted": 0, "refused": 0, "failed": 0, "dropped": 0}

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<gzmq.auth.Authenticator {state} at {hex(id(self))}>"

    # -- settings ----------------------------------------------------------------------

    @property
    def callback(self) -> Callback | None:
        """The decision callback (see the class docstring), or None."""
        return self._callback

    @callback.setter
    def callback(self, callback: Callback | None) -> None:
        if callback is not None and not callable(callback):
            raise TypeError(
                f"callback must be callable (request) -> bool | (bool, str), or None; "
                f"got {type(callback).__name__}"
            )
        self._callback = callback

    @property
    def context(self) -> Context:
        """The context whose sockets this authenticator serves."""
        return self._context

    def allow(self, *addresses: str) -> None:
        """Admit only these peer addresses (IP addresses or networks like ``"10.0.0.0/8"``).

        Peers from other addresses are refused (status 400) whatever their
        credentials; admitted ones still need valid credentials.  ValueError
        if a deny-list exists (use one or the other, as pyzmq).
        """
        if self._denied or self._denied_networks:
            raise ValueError("use allow() or deny(), not both: a deny-list exists")
        self._add_addresses(addresses, self._allowed, self._allowed_networks, "allow")

    def deny(self, *addresses: str) -> None:
        """Refuse peers from these addresses (IP addresses or networks like ``"10.0.0.0/8"``).

        ValueError if an allow-list exists (use one or the other, as pyzmq).
        """
        if self._allowed or self._allowed_networks:
            raise ValueError("use allow() or deny(), not both: an allow-list exists")
        self._add_addresses(addresses, self._denied, self._denied_networks, "deny")

    @staticmethod
    def _add_addresses(
        addresses: tuple[str, ...], exact: set[str], networks: set[Network], what: str
    ) -> None:
        parsed: list[str | Network] = []
        for address in addresses:
            if not isinstance(address, str) or not address:
                raise TypeError(
                    f"{what}() takes addresses as non-empty str (e.g. '127.0.0.1' or "
                    f"'10.0.0.0/8'), got {type(address).__name__}: {address!r}"
                )
            if "/" in address:
                try:
                    parsed.append(ipaddress.ip_network(address, strict=False))
                except ValueError as error:
                    raise ValueError(f"{what}(): {address!r} is not a network: {error}") from None
            else:
                parsed.append(_normal_address(address))
        for item in parsed:
            if isinstance(item, str):
                exact.add(item)
            else:
                networks.add(item)

    def configure_plain(
        self, domain: str = "*", passwords: Mapping[str, str] | None = None
    ) -> None:
        """Admit PLAIN clients with these user names and passwords, in ``domain``.

        ``"*"`` covers every domain without settings of its own.  Calling it
        again for a domain replaces that domain's passwords; an empty
        mapping admits nobody.
        """
        domain = _check_domain(domain)
        if passwords is None or not isinstance(passwords, Mapping):
            raise TypeError(
                "configure_plain() needs passwords={user: password} (a mapping of str), "
                f"got {type(passwords).__name__}"
            )
        table: dict[bytes, bytes] = {}
        for user, password in passwords.items():
            if not isinstance(user, str) or not isinstance(password, str):
                raise TypeError(
                    "configure_plain(): user names and passwords must be str, got "
                    f"{type(user).__name__}: {type(password).__name__} for user {user!r}"
                )
            table[user.encode("utf-8")] = password.encode("utf-8")
        self._passwords[domain] = table

    def configure_curve(
        self, domain: str = "*", keys: _Any | Iterable[str | bytes] | PathLike | None = None
    ) -> None:
        """Admit CURVE clients in ``domain``: any client, or those whose public key is in ``keys``.

        ``keys`` is :data:`ANY`, an iterable of public keys (40-character
        Z85 str/bytes, or 32 raw bytes), or the path of a directory of
        certificates (its ``*.key`` files, read now: call again after
        changing it).  ``"*"`` covers every domain without settings of its
        own; calling it again for a domain replaces that domain's keys.
        ``keys`` has no default: admitting any client must be asked for.
        """
        domain = _check_domain(domain)
        admitted: _Any | frozenset[str]
        if keys is None:
            raise TypeError(
                "configure_curve() needs keys=: gzmq.auth.ANY, an iterable of Z85 public "
                "keys or a directory of certificates"
            )
        if keys is ANY:
            admitted = ANY
        elif isinstance(keys, (str, os.PathLike)):
            path = Path(keys)
            if not path.is_dir():
                raise NotADirectoryError(
                    errno.ENOTDIR,
                    "configure_curve(keys=...): not a directory of certificates "
                    "(to admit given keys, pass an iterable of them: keys=[key])",
                    str(keys),
                )
            admitted = frozenset(load_certificates(path))
        elif isinstance(keys, (bytes, bytearray, memoryview)):
            raise TypeError(
                "configure_curve(keys=...) takes ANY, an iterable of keys or a directory; "
                "got one bytes key: pass keys=[key]"
            )
        elif isinstance(keys, Iterable):
            admitted = frozenset(z85_key(key, "configure_curve() key") for key in keys)
        else:
            raise TypeError(
                "configure_curve(keys=...) takes gzmq.auth.ANY, an iterable of Z85 public "
                f"keys or a directory path; got {type(keys).__name__}"
            )
        self._curve[domain] = admitted

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the authenticator is serving."""
        return self._greenlet is not None and not self._greenlet.dead

    def start(self) -> None:
        """Bind ``inproc://zeromq.zap.01`` and serve it from a new greenlet (no-op if running).

        ZMQError (EADDRINUSE) if another ZAP handler serves this context.
        """
        if self.running:
            return
        sock = Router(context=self._context, linger=0)
        try:
            sock.bind(ZAP_ENDPOINT)
        except zmq.ZMQError as error:
            sock.close()
            if error.errno == zmq.EADDRINUSE:
                raise type(error)(
                    error.errno,
                    f"another ZAP handler is bound to {ZAP_ENDPOINT} on this context "
                    "(one Authenticator per context)",
                ) from None
            raise
        self._socket = sock
        self._greenlet = gevent.spawn(self._serve, sock)

    def stop(self) -> None:
        """Stop serving: close the socket and end the greenlet. Idempotent."""
        sock, greenlet = self._socket, self._greenlet
        self._socket = None
        self._greenlet = None
        if sock is not None and not sock.closed:
            try:
                sock.unbind(ZAP_ENDPOINT)  # at once, so a new handler can bind
            except zmq.ZMQError:
                pass
            sock.close()
        if greenlet is not None and greenlet is not gevent.getcurrent():
            greenlet.join(timeout=2)
            if not greenlet.dead:
                greenlet.kill(block=True, timeout=2)

    def __enter__(self) -> Authenticator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def statistics(self) -> dict[str, int]:
        """Counts since creation: requests, accepted (200), refused (400), failed (500), dropped."""
        return dict(self._counts)

    # -- serving -----------------------------------------------------------------------

    def _serve(self, sock: Router) -> None:
        """Answer requests until the socket is closed."""
        while True:
            try:
                message = sock.recv()
            except SocketClosedError:
                return
            except zmq.ZMQError as error:  # the context was terminated under us
                log.debug("ZAP socket failed, stopping: %s", error)
                return
            try:
                reply = self._answer(message)
            except Exception:  # a bad request must not end the handler
                log.exception("gzmq.auth: unexpected failure on a ZAP request")
                reply = None
                self._counts["dropped"] += 1
            if reply is None:
                continue
            try:
                sock.send(reply)
            except SocketClosedError:
                return
            except zmq.ZMQError as error:
                log.warning("gzmq.auth: could not send a ZAP reply: %s", error)

    def _answer(self, message: list[bytes]) -> list[Any] | None:
        """The reply frames (routing id first) to one message from the ROUTER, or None."""
        self._counts["requests"] += 1
        if len(message) < 2:
            self._counts["dropped"] += 1
            log.warning("gzmq.auth: dropped an empty ZAP message")
            return None
        peer, frames = message[0], message[1:]
        # libzmq (and REQ) put an empty delimiter first; a bare DEALER may not.
        envelope = [b""] if frames[0] == b"" else []
        body = frames[len(envelope):]
        if len(body) < 2:
            self._counts["dropped"] += 1
            log.warning("gzmq.auth: dropped a ZAP message of %d frames", len(body))
            return None
        request_id = body[1]

        def reply(status: int, text: str, user_id: str = "") -> list[Any]:
            key = {200: "accepted", 400: "refused"}.get(status, "failed")
            self._counts[key] += 1
            log.debug("ZAP reply %d %s (user %r)", status, text, user_id)
            return [
                peer, *envelope, _VERSION, request_id, str(status).encode(),
                text.encode("utf-8", "replace"), user_id.encode("utf-8", "replace"), b"",
            ]

        try:
            request = self._request(body)
        except _MalformedError as refusal:
            log.info("gzmq.auth: refused a malformed ZAP request: %s", refusal)
            return reply(400, str(refusal))
        if request is None:  # address refused: final
            return reply(400, "address not allowed")
        if self._callback is None:
            if request.allowed:
                return reply(200, "OK", request.user_id)
            return reply(400, request.reason)
        try:
            decision = self._callback(request)
            allowed, text = _decision(decision, request)
        except Exception:  # user code: status 500, keep serving
            log.exception("gzmq.auth: the decision callback failed")
            return reply(500, "internal error in the decision callback")
        if allowed:
            return reply(200, "OK", text)
        return reply(400, text)

    def _request(self, body: list[bytes]) -> Request | None:
        """Parse and judge a ZAP request body; None if its address is refused."""
        if len(body) < 6:
            raise _MalformedError(f"a ZAP request has at least 6 frames, got {len(body)}")
        version, _, domain_raw, address_raw, routing_id, mechanism_raw = body[:6]
        credentials = tuple(body[6:])
        if version != _VERSION:
            raise _MalformedError(f"unsupported ZAP version {version[:16]!r} (expected '1.0')")
        domain = domain_raw.decode("utf-8", "replace")
        address = address_raw.decode("utf-8", "replace")
        mechanism = mechanism_raw.decode("ascii", "replace")
        if not self._address_passes(address):
            log.info("gzmq.auth: refused %s (address not allowed)", address)
            return None
        username = password = public_key = principal = None
        allowed, reason, user_id = False, "", ""
        if mechanism == "NULL":
            if credentials:
                raise _MalformedError("NULL requests carry no credentials")
            allowed, reason, user_id = True, "OK", "anonymous"
        elif mechanism == "PLAIN":
            if len(credentials) != 2:
                raise _MalformedError(f"PLAIN credentials are 2 frames, got {len(credentials)}")
            username = credentials[0].decode("utf-8", "replace")
            password = credentials[1].decode("utf-8", "replace")
            allowed, reason = self._check_plain(domain, credentials[0], credentials[1])
            user_id = username
        elif mechanism == "CURVE":
            if len(credentials) != 1 or len(credentials[0]) != 32:
                raise _MalformedError("CURVE credentials are one 32-byte public key")
            public_key = z85.encode(credentials[0]).decode("ascii")
            allowed, reason = self._check_curve(domain, public_key)
            user_id = public_key
        elif mechanism == "GSSAPI":
            if len(credentials) != 1:
                raise _MalformedError(f"GSSAPI credentials are 1 frame, got {len(credentials)}")
            principal = credentials[0].decode("utf-8", "replace")
            allowed, reason, user_id = True, "OK", principal
        else:
            if self._callback is None:
                raise _MalformedError(f"unknown mechanism {mechanism_raw[:20]!r}")
            reason = f"unknown mechanism {mechanism!r}"
        return Request(
            domain=domain, address=address, routing_id=routing_id, mechanism=mechanism,
            credentials=credentials, allowed=allowed, reason=reason, user_id=user_id,
            username=username, password=password, public_key=public_key, principal=principal,
        )

    def _address_passes(self, address: str) -> bool:
        """The allow/deny lists' verdict on a peer address."""
        if self._allowed or self._allowed_networks:
            return _listed(address, self._allowed, self._allowed_networks)
        if self._denied or self._denied_networks:
            return not _listed(address, self._denied, self._denied_networks)
        return True

    def _check_plain(self, domain: str, user: bytes, password: bytes) -> tuple[bool, str]:
        table = self._passwords.get(domain or "*", self._passwords.get("*"))
        if table is None:
            return False, "no PLAIN passwords configured"
        expected = table.get(user)
        if expected is None:
            hmac.compare_digest(password, password)  # the same work for unknown users
            return False, "invalid user name or password"
        if hmac.compare_digest(expected, password):
            return True, "OK"
        return False, "invalid user name or password"

    def _check_curve(self, domain: str, public_key: str) -> tuple[bool, str]:
        admitted = self._curve.get(domain or "*", self._curve.get("*"))
        if admitted is None:
            return False, "no CURVE keys configured"
        if admitted is ANY or public_key in admitted:  # type: ignore[operator]
            return True, "OK"
        return False, "unknown CURVE key"


def _decision(decision: object, request: Request) -> tuple[bool, str]:
    """(allowed, user id or status text) from a callback's result; TypeError if malformed."""
    if isinstance(decision, bool):
        if decision:
            return True, request.user_id
        return False, "refused by the callback"
    if (
        isinstance(decision, tuple)
        and len(decision) == 2
        and isinstance(decision[0], bool)
        and isinstance(decision[1], str)
    ):
        return decision[0], decision[1]
    raise TypeError(
        "the decision callback must return a bool or (bool, str), "
        f"got {type(decision).__name__}: {decision!r:.80}"
    )


def _normal_address(address: str) -> str:
    """An IP address in its canonical text (``"::0001"`` -> ``"::1"``); others unchanged."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return address


def _listed(address: str, exact: set[str], networks: set[Network]) -> bool:
    normal = _normal_address(address)
    if normal in exact:
        return True
    if networks:
        try:
            ip = ipaddress.ip_address(normal)
        except ValueError:
            return False
        return any(ip in network for network in networks if network.version == ip.version)
    return False


def _check_domain(domain: object) -> str:
    if not isinstance(domain, str):
        raise TypeError(f"domain must be a str ('*' for every domain), got {type(domain).__name__}")
    return domain or "*"
