"""The seeded scenario generator: a seed gives the same plan in every mode and on every machine.

A plan is plain data (frozen dataclasses, JSON through :func:`describe`);
nothing in it depends on the core under test.  Everything a greenlet
decides while it runs (frame sizes, pauses, which calls get a
``gevent.Timeout``) comes from its own ``random.Random(seed)`` so that the
C and pure-Python runs of one seed do the same things.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RECV_FORMS",
    "SEND_FORMS",
    "TRANSPORTS",
    "Burst",
    "CloseAct",
    "Greenlet",
    "PipelineAct",
    "ReqRepAct",
    "RouterAct",
    "Scenario",
    "SocketPlan",
    "describe",
    "generate",
]

TRANSPORTS = ("tcp", "ipc", "inproc")

#: How each layer may send a message (see gzmq's README and pyzmq's API).
SEND_FORMS = {
    "typed": ("bytes", "list", "tuple", "str", "bytearray", "memoryview", "mixed", "timeout",
              "short", "once"),
    "green": ("multipart", "noblock", "frames", "sndtimeo"),
}
#: How each layer may receive one.
RECV_FORMS = {
    "typed": ("recv", "timeout", "nocopy", "once", "short", "iter"),
    "green": ("multipart", "nocopy", "frames", "noblock", "rcvtimeo"),
}

#: The pipeline patterns: (sending kind, receiving kind, several sockets per side).
PIPELINES = {
    "push-pull": ("PUSH", "PULL", True),
    "dealer-dealer": ("DEALER", "DEALER", True),
    "dealer-router": ("DEALER", "ROUTER", True),
    "pair": ("PAIR", "PAIR", False),
}


@dataclass(frozen=True)
class Greenlet:
    """One greenlet using a socket: what it does, how, and what interrupts it."""

    name: str
    role: str  # "send" or "recv"
    form: str
    seed: int  # its own random stream (sizes, pauses, timeouts)
    count: int = 0  # messages to send (senders)
    timeout_every: int = 0  # every n-th call runs under a gevent.Timeout (0: none)
    pause: float = 0.0  # up to this long between messages (seconds)
    kill_at: float | None = None  # gevent.kill() this long after the act starts


@dataclass(frozen=True)
class SocketPlan:
    """One socket: its class, layer, high water marks and greenlets."""

    name: str
    kind: str  # libzmq's name: PUSH, PULL, DEALER, ROUTER, PAIR, REQ, REP
    layer: str  # "typed" (gzmq.Push, ...) or "green" (gzmq.green)
    hwm: int
    greenlets: tuple[Greenlet, ...] = ()
    close_at: float | None = None  # closed (linger 0) this long after the act starts
    timeout_ms: int = -1  # receive/send timeout option (the "rcvtimeo"/"sndtimeo" forms)


@dataclass(frozen=True)
class PipelineAct:
    """Senders on some sockets, receivers on others: each message arrives once, whole, in order."""

    name: str
    transport: str
    pattern: str
    senders: tuple[SocketPlan, ...]
    receivers: tuple[SocketPlan, ...]
    kind: str = "pipeline"


@dataclass(frozen=True)
class RouterAct:
    """A ROUTER (mandatory) serving DEALER clients, some of which leave; sends to unknown peers.

    Each client socket has sender greenlets and one greenlet collecting the
    replies (its last).  ``ghosts``: (client index, request number, burst
    seconds): after sending that request, the client's first greenlet
    blocks the hub for the burst, then sends on the router to a routing id
    nobody has (EHOSTUNREACH).  Only clients that stay get ghosts.  Once
    every request was answered, a last request goes out at a quiet moment
    and the same is done with ``final_burst``.
    """

    name: str
    transport: str
    router: SocketPlan
    clients: tuple[SocketPlan, ...]
    requests: int
    ghosts: tuple[tuple[int, int, float], ...]
    leave_at: tuple[float | None, ...]  # per client: closed (linger 0) then, or None
    final_burst: float  # the quiet-moment ghost (see acts.RouterService)
    kind: str = "router"


@dataclass(frozen=True)
class ReqRepAct:
    """REQ clients of one REP server, with scripted misuse that must raise EFSM.

    ``misuse``: (client index, request number, burst seconds, what): when the
    server has answered that request, it blocks the hub for the burst, then
    misuses a socket: "req-send" (send on the client's REQ while its greenlet
    waits for the reply), "req-send-timeout" (the same with ``timeout=``),
    "rep-send" (a send on the REP before it received, by a greenlet other
    than the server's, once the server waits in recv() again).  Once every
    request was answered, the first client sends one more at a quiet moment,
    and a "rep-send" follows with ``final_burst``.
    """

    name: str
    transport: str
    server: SocketPlan
    clients: tuple[SocketPlan, ...]
    requests: int
    misuse: tuple[tuple[int, int, float, str], ...]
    final_burst: float  # the quiet-moment misuse (see acts.ReqRep)
    kind: str = "reqrep"


@dataclass(frozen=True)
class CloseAct:
    """Greenlets parked on sockets nobody serves, woken by close(), a timeout or a kill.

    ``waiters``: (socket index, role, how) with how one of "plain" (waits
    until the close: SocketClosedError), "timeout" (a per-call timeout that
    passes before the close: zmq.Again), "gevent-timeout" (its own
    gevent.Timeout that passes before the close: that Timeout), "kill"
    (killed before the close: GreenletExit).
    """

    name: str
    transport: str
    sockets: tuple[SocketPlan, ...]
    waiters: tuple[tuple[int, str, str], ...]
    close_at: float
    kind: str = "close"


@dataclass(frozen=True)
class Burst:
    """The hub blocked (a greenlet computing) for ``seconds``, ``at`` seconds into the scenario."""

    at: float
    seconds: float


@dataclass(frozen=True)
class Scenario:
    """Everything one seed runs, concurrently in one hub."""

    seed: int
    acts: tuple[Any, ...]
    bursts: tuple[Burst, ...]


def describe(scenario: Scenario) -> dict[str, Any]:
    """The plan as JSON-ready data."""
    return dataclasses.asdict(scenario)


def generate(seed: int) -> Scenario:
    """The scenario for ``seed`` (the same on every run, in every mode)."""
    rng = random.Random(seed)
    acts: list[Any] = []
    kinds = ["pipeline"]
    for kind, chance in (("stream", 0.5), ("router", 0.6), ("reqrep", 0.6), ("close", 0.5),
                         ("pipeline", 0.3)):
        if rng.random() < chance:
            kinds.append(kind)
    for number, kind in enumerate(kinds):
        name = f"a{number}"
        transport = rng.choice(TRANSPORTS)
        if kind == "pipeline":
            acts.append(_pipeline(rng, name, transport, stream=False))
        elif kind == "stream":
            acts.append(_pipeline(rng, name, transport, stream=True))
        elif kind == "router":
            acts.append(_router(rng, name, transport))
        elif kind == "reqrep":
            acts.append(_reqrep(rng, name, transport))
        else:
            acts.append(_close(rng, name, transport))
    bursts = tuple(
        Burst(round(rng.uniform(0.0, 0.4), 3), round(rng.uniform(0.002, 0.03), 3))
        for _ in range(rng.randint(0, 4))
    )
    return Scenario(seed, tuple(acts), bursts)


def _layer(rng: random.Random, transport: str, inproc_layer: str) -> str:
    """A socket's layer; over inproc every socket of an act shares one context, so one layer."""
    if transport == "inproc":
        return inproc_layer
    return rng.choice(("typed", "green"))


def _seed(rng: random.Random) -> int:
    return rng.randrange(1 << 30)


def _greenlet(
    rng: random.Random, name: str, role: str, layer: str, count: int, killable: bool,
    stream: bool,
) -> Greenlet:
    forms = SEND_FORMS[layer] if role == "send" else RECV_FORMS[layer]
    return Greenlet(
        name=name,
        role=role,
        form=rng.choice(forms),
        seed=_seed(rng),
        count=count,
        timeout_every=0 if stream or rng.random() < 0.6 else rng.randint(2, 40),
        pause=0.0 if stream or rng.random() < 0.6 else round(rng.uniform(0.0005, 0.003), 4),
        kill_at=round(rng.uniform(0.01, 0.3), 3) if killable and rng.random() < 0.15 else None,
    )


def _pipeline(rng: random.Random, name: str, transport: str, stream: bool) -> PipelineAct:
    pattern = rng.choice(sorted(PIPELINES))
    send_kind, recv_kind, several = PIPELINES[pattern]
    inproc_layer = rng.choice(("typed", "green"))
    if stream:
        # One long stream of small messages: the fairness budget matters here.
        counts = [rng.randint(1500, 4000)]
        send_sockets, recv_sockets, per_socket = 1, 1, (1, 1)
    else:
        send_sockets = rng.randint(1, 3) if several else 1
        recv_sockets = rng.randint(1, 2) if several else 1
        per_socket = (1, 4)
        counts = []
    senders = []
    for index in range(send_sockets):
        layer = _layer(rng, transport, inproc_layer)
        members = []
        for number in range(rng.randint(*per_socket)):
            count = counts[0] if counts else rng.randint(10, 300)
            members.append(_greenlet(
                rng, f"{name}.s{index}.g{number}", "send", layer, count, not stream, stream
            ))
        closes = not stream and rng.random() < 0.1
        senders.append(SocketPlan(
            name=f"{name}.s{index}", kind=send_kind, layer=layer, hwm=rng.randint(1, 100),
            greenlets=tuple(members),
            close_at=round(rng.uniform(0.02, 0.2), 3) if closes else None,
            timeout_ms=rng.randint(1, 20),
        ))
    receivers = []
    for index in range(recv_sockets):
        layer = _layer(rng, transport, inproc_layer)
        size = rng.randint(*per_socket)
        members = [
            # Never kill the first: somebody must stay to receive what the socket gets.
            _greenlet(rng, f"{name}.r{index}.g{number}", "recv", layer, 0, number > 0, stream)
            for number in range(size)
        ]
        receivers.append(SocketPlan(
            name=f"{name}.r{index}", kind=recv_kind, layer=layer, hwm=rng.randint(1, 100),
            greenlets=tuple(members), timeout_ms=rng.randint(1, 20),
        ))
    return PipelineAct(name, transport, pattern, tuple(senders), tuple(receivers))


def _router(rng: random.Random, name: str, transport: str) -> RouterAct:
    inproc_layer = rng.choice(("typed", "green"))
    layer = _layer(rng, transport, inproc_layer)
    servers = tuple(
        _greenlet(rng, f"{name}.router.g{number}", "recv", layer, 0, False, False)
        for number in range(rng.randint(1, 4))
    )
    router = SocketPlan(f"{name}.router", "ROUTER", layer, rng.randint(1, 100), servers,
                        timeout_ms=rng.randint(1, 20))
    clients = []
    leave_at: list[float | None] = []
    requests = rng.randint(5, 60)
    for index in range(rng.randint(2, 5)):
        client_layer = _layer(rng, transport, inproc_layer)
        members = [
            _greenlet(rng, f"{name}.c{index}.g{number}", "send", client_layer, requests, False,
                      False)
            for number in range(rng.randint(1, 3))
        ]
        members.append(
            _greenlet(rng, f"{name}.c{index}.replies", "recv", client_layer, 0, False, False)
        )
        clients.append(SocketPlan(f"{name}.c{index}", "DEALER", client_layer,
                                  rng.randint(1, 100), tuple(members),
                                  timeout_ms=rng.randint(1, 20)))
        leaves = index > 0 and rng.random() < 0.3  # client 0 always stays
        leave_at.append(round(rng.uniform(0.005, 0.1), 3) if leaves else None)
    staying = [index for index, when in enumerate(leave_at) if when is None]
    ghosts = tuple(
        (rng.choice(staying), rng.randrange(requests), round(rng.uniform(0.005, 0.03), 3))
        for _ in range(rng.randint(1, 4))
    )
    return RouterAct(name, transport, router, tuple(clients), requests, ghosts, tuple(leave_at),
                     round(rng.uniform(0.005, 0.03), 3))


def _reqrep(rng: random.Random, name: str, transport: str) -> ReqRepAct:
    inproc_layer = rng.choice(("typed", "green"))
    layer = _layer(rng, transport, inproc_layer)
    server = SocketPlan(
        f"{name}.rep", "REP", layer, rng.randint(1, 100),
        (_greenlet(rng, f"{name}.rep.g0", "recv", layer, 0, False, False),),
    )
    requests = rng.randint(3, 40)
    clients = []
    for index in range(rng.randint(1, 3)):
        client_layer = _layer(rng, transport, inproc_layer)
        member = _greenlet(rng, f"{name}.q{index}.g0", "send", client_layer, requests, False,
                           False)
        clients.append(SocketPlan(f"{name}.q{index}", "REQ", client_layer, rng.randint(1, 100),
                                  (member,)))
    whats = ["req-send", "rep-send"]
    if any(client.layer == "typed" for client in clients):
        whats.append("req-send-timeout")
    misuse = []
    for _ in range(rng.randint(1, 4)):
        what = rng.choice(whats)
        candidates = [
            index for index, client in enumerate(clients)
            if what != "req-send-timeout" or client.layer == "typed"
        ]
        misuse.append((rng.choice(candidates), rng.randrange(requests),
                       round(rng.uniform(0.005, 0.03), 3), what))
    return ReqRepAct(name, transport, server, tuple(clients), requests, tuple(misuse),
                     round(rng.uniform(0.005, 0.03), 3))


def _close(rng: random.Random, name: str, transport: str) -> CloseAct:
    inproc_layer = rng.choice(("typed", "green"))
    sockets = []
    waiters: list[tuple[int, str, str]] = []
    for index in range(rng.randint(1, 3)):
        layer = _layer(rng, transport, inproc_layer)
        kind = rng.choice(("PULL", "DEALER", "PUSH", "ROUTER", "PAIR", "REQ"))
        sockets.append(SocketPlan(f"{name}.k{index}", kind, layer, rng.randint(1, 100)))
        roles = {"PULL": ("recv",), "PUSH": ("send",), "ROUTER": ("recv",),
                 "REQ": ("send",)}.get(kind, ("recv", "send"))
        # A per-call timeout is the typed API's (gzmq.green has the socket options).
        hows = ("plain", "plain", "gevent-timeout", "kill") + (("timeout",) if layer == "typed"
                                                              else ())
        for _ in range(rng.randint(1, 4)):
            waiters.append((index, rng.choice(roles), rng.choice(hows)))
    return CloseAct(name, transport, tuple(sockets), tuple(waiters),
                    round(rng.uniform(0.05, 0.15), 3))
