"""The acts a scenario plays: pipelines, a ROUTER with gone peers, REQ/REP misuse, closes.

Each act sets up its own sockets over its transport, plays its plan with
several greenlets per socket, and ends by closing every socket; its
outcome has verdicts (invariants that must hold whatever the timing) and
deterministic results (what the scripted calls must raise), which the C
and the pure-Python runs of a seed must agree on.

Some greenlets block the hub on purpose (``time.sleep``: a greenlet
computing) just before a call that fails: messages arrive meanwhile and
the failing call is the first to see libzmq's notification, the pattern
of issue 15's defect 1.
"""

from __future__ import annotations

import random
import time
from typing import Any

import gevent
import gevent.queue
import zmq

import gzmq

from .layers import Wire, endpoint
from .ledger import Ledger, message, parse
from .plan import CloseAct, Greenlet, PipelineAct, ReqRepAct, RouterAct
from .workers import END, STALL, Act, wait_for

__all__ = ["ACTS", "Closing", "Pipeline", "ReqRep", "RouterService"]


def _error_name(error: BaseException) -> str:
    """An error as the outcome records it: the class, and the errno name for ZMQError."""
    if isinstance(error, gzmq.SocketClosedError):
        return "SocketClosedError"
    if isinstance(error, zmq.ZMQError):
        return f"{type(error).__name__}({_errno_name(error.errno)})"
    return type(error).__name__


def _errno_name(number: int | None) -> str:
    for name in ("EFSM", "EHOSTUNREACH", "EAGAIN", "ENOTSOCK"):
        if number == getattr(zmq, name):
            return name
    return str(number)


def _attempt(call: Any) -> str:
    """Run a scripted call: "ok", or the error it raised."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the error is the outcome
        return _error_name(error)
    return "ok"


def _set_form_timeouts(wire: Wire, members: tuple[Greenlet, ...], milliseconds: int) -> None:
    """gzmq.green's timeout forms use the socket options (they apply to the whole socket)."""
    if any(member.form in ("rcvtimeo", "sndtimeo") for member in members):
        wire.set_timeouts(milliseconds)


class Pipeline(Act):
    """Senders on some sockets, receivers on others: once, whole, in order, nothing unsent."""

    plan: PipelineAct

    def run(self) -> None:
        """Play the pipeline, then wait for every message that must arrive."""
        plan = self.plan
        addresses = []
        receivers = []
        for sock in plan.receivers:
            wire = self.wire(sock.layer, sock.kind, sock.hwm)
            _set_form_timeouts(wire, sock.greenlets, sock.timeout_ms)
            addresses.append(wire.bind(endpoint(plan.transport, self.directory, sock.name)))
            receivers.append((wire, sock))
        senders = []
        for sock in plan.senders:
            wire = self.wire(sock.layer, sock.kind, sock.hwm)
            _set_form_timeouts(wire, sock.greenlets, sock.timeout_ms)
            for address in addresses:
                wire.connect(address)
            senders.append((wire, sock))
        strip = 1 if plan.pattern == "dealer-router" else 0
        for wire, sock in receivers:
            for member in sock.greenlets:
                glet = self.spawn(self.recv_loop, wire, sock.name, member, self.ledger, strip)
                if member.kill_at is not None:
                    self.later(member.kill_at, glet.kill, gevent.GreenletExit, False)
        sending = []
        for wire, sock in senders:
            if sock.close_at is not None:
                self.ledger.lossy.add(sock.name)
                self.later(sock.close_at, wire.close)
            for member in sock.greenlets:
                glet = self.spawn(self.send_loop, wire, sock.name, member, self.ledger)
                sending.append(glet)
                if member.kill_at is not None:
                    self.later(member.kill_at, glet.kill, gevent.GreenletExit, False)
        if not wait_for(lambda: all(glet.dead for glet in sending), self.progress):
            self.stuck.append("sending")
        ledger = self.ledger
        expected = len(ledger.expected())
        if not wait_for(lambda: ledger.delivered() >= expected, self.progress):
            self.stuck.append("delivering")
        gevent.sleep(0.02)  # anything that should not arrive would have had its chance
        self.finish()


class RouterService(Act):
    """A ROUTER (mandatory=True) serving DEALER clients; some clients leave; ghost sends."""

    plan: RouterAct

    def run(self) -> None:
        """Serve every request of the clients that stay, with ghosts sent on the way."""
        plan = self.plan
        self.replies = Ledger()
        self.ghosts: list[str] = ["not run"] * len(plan.ghosts)
        self.final = "not run"
        self.gone_results: dict[str, int] = {}
        router = self.wire(plan.router.layer, "ROUTER", plan.router.hwm, mandatory=True)
        address = router.bind(endpoint(plan.transport, self.directory, plan.router.name))
        gone: set[bytes] = set()
        clients = []
        for index, sock in enumerate(plan.clients):
            identity = sock.name.encode()
            wire = self.wire(sock.layer, "DEALER", sock.hwm, routing_id=identity)
            _set_form_timeouts(wire, sock.greenlets, sock.timeout_ms)
            wire.connect(address)
            clients.append(wire)
            leave_at = plan.leave_at[index]
            if leave_at is not None:
                gone.add(identity)
                self.ledger.lossy.add(sock.name)
                self.replies.lossy.add(sock.name)
                self.later(leave_at, wire.close)
        for member in plan.router.greenlets:
            self.spawn(self.recv_loop, router, plan.router.name, member, self.ledger, 1, None,
                       lambda frames: self._reply(router, frames, gone, plan.router.layer))
        sending = []
        for index, (wire, sock) in enumerate(zip(clients, plan.clients, strict=True)):
            senders = [member for member in sock.greenlets if member.role == "send"]
            for number, member in enumerate(senders):
                ghosts = [
                    (slot, seq, burst) for slot, (client, seq, burst) in enumerate(plan.ghosts)
                    if client == index and number == 0
                ]
                after = self._ghost_hook(router, ghosts, plan.router.layer) if ghosts else None
                sending.append(self.spawn(self.send_loop, wire, sock.name, member, self.ledger,
                                          after))
            collector = sock.greenlets[-1]
            self.spawn(self.recv_loop, wire, sock.name, collector, self.replies, 1)
        if not wait_for(lambda: all(glet.dead for glet in sending), self.progress):
            self.stuck.append("sending")
        ledger = self.ledger
        replies = self.replies
        if not wait_for(
            lambda: ledger.delivered() >= len(ledger.expected())
            and replies.delivered() >= len(replies.expected()),
            self.progress,
        ):
            self.stuck.append("serving")
        self.final = self._final_ghost(router, clients[0], plan.clients[0].name)
        if not wait_for(
            lambda: ledger.delivered() >= len(ledger.expected())
            and replies.delivered() >= len(replies.expected()),
            self.progress,
        ):
            self.stuck.append("final request")
        gevent.sleep(0.02)
        self.finish()

    def _final_ghost(self, router: Wire, client: Wire, socket: str) -> str:
        """At a quiet moment (the server greenlets wait in recv()): a request, the hub
        blocked while it arrives, then a ghost send (issue 15's defect 1, as reported)."""
        name = f"{self.plan.name}.final"
        frames = message(name, 0, random.Random(0))
        form = "list" if client.layer == "typed" else "multipart"
        sent = _attempt(lambda: client.send(frames, form))
        if sent != "ok":
            return f"final request: {sent}"
        self.ledger.note_sent((name, 0), socket)
        time.sleep(self.plan.final_burst)
        form = "list" if router.layer == "typed" else "multipart"
        return _attempt(lambda: router.send([b"ghost-final", b"boo"], form))

    def progress(self) -> int:
        """Requests and replies moving."""
        return super().progress() + len(self.replies.sent) + len(self.replies.received)

    def _reply(self, router: Wire, frames: list[bytes], gone: set[bytes], layer: str) -> None:
        """Answer a request (echoed whole after b"re"); a client that leaves may be unreachable."""
        identity, request = frames[0], frames[1:]
        key = parse(request)
        if key is None:
            return  # torn: recorded as such
        client = identity.decode()
        # A client that leaves may leave its pipe full: libzmq keeps that pipe (and
        # a blocking send to it waits) until the router has read what the client
        # sent, which the server greenlets waiting in send() would never do.  So
        # replies to such clients are tried once, as a server would for a peer
        # it may have lost; the others wait (at most 5 s: failed, if so).
        leaving = identity in gone
        reply = [identity, b"re", *request]
        try:
            if layer == "typed":
                router.send(reply, "once" if leaving else "timeout", 0 if leaving else 5.0)
            elif leaving:
                router.send(reply, "noblock")
            else:
                with gevent.Timeout(5.0, zmq.Again):
                    router.send(reply, "multipart")
        except zmq.ZMQError as error:
            result = _error_name(error)
            if identity not in gone or error.errno not in (zmq.EHOSTUNREACH, zmq.EAGAIN):
                self.replies.note_error(f"reply to {client}", error)
            self.gone_results[result] = self.gone_results.get(result, 0) + 1
            self.replies.note_unsent(key)
            return
        self.replies.note_sent(key, client)

    def _ghost_hook(self, router: Wire, ghosts: list[tuple[int, int, float]], layer: str) -> Any:
        """After request ``seq``: block the hub, then send to a routing id nobody has."""

        def after(seq: int) -> None:
            for slot, when, burst in ghosts:
                if when == seq:
                    time.sleep(burst)  # the requests just sent arrive while the hub is blocked
                    form = "list" if layer == "typed" else "multipart"
                    ghost = b"ghost-%d" % slot
                    self.ghosts[slot] = _attempt(lambda: router.send([ghost, b"boo"], form))

        return after

    def deterministic(self) -> dict[str, Any]:
        """Every ghost send raised EHOSTUNREACH."""
        return {"ghost_sends": self.ghosts, "final_ghost_send": self.final}

    def verdicts(self) -> dict[str, bool]:
        """Requests once, whole, in order; replies once and whole (their order may vary)."""
        verdicts = {f"requests_{name}": ok for name, ok in self.ledger.verdicts().items()}
        for name, ok in self.replies.verdicts().items():
            if name != "in_order":  # several server greenlets answer in any order
                verdicts[f"replies_{name}"] = ok
        return verdicts

    def outcome(self) -> dict[str, Any]:
        """As Act's, with the replies' counts."""
        outcome = super().outcome()
        outcome["info"]["replies"] = self.replies.info()
        outcome["info"]["gone_peer_replies"] = self.gone_results
        return outcome


class ReqRep(Act):
    """REQ clients and one REP server; scripted misuse raises EFSM and loses nobody's wake-up."""

    plan: ReqRepAct

    def run(self) -> None:
        """Misuse on a fresh socket, then the exchanges with misuse on the way, then after close."""
        plan = self.plan
        self.replies = Ledger()
        self.misuse: list[str] = ["not run"] * len(plan.misuse)
        self.final = "not run"
        self.fresh: dict[str, str] = {}
        self.after_close: dict[str, str] = {}
        self.in_recv = False
        server = self.wire(plan.server.layer, "REP", plan.server.hwm)
        address = server.bind(endpoint(plan.transport, self.directory, plan.server.name))
        send_form = "list" if plan.server.layer == "typed" else "multipart"
        self.fresh["rep_send_first"] = _attempt(lambda: server.send([b"early"], send_form))
        clients = []
        for sock in plan.clients:
            wire = self.wire(sock.layer, "REQ", sock.hwm)
            form = "recv" if sock.layer == "typed" else "multipart"
            self.fresh[f"{sock.name}_recv_first"] = _attempt(lambda: wire.recv(form))
            wire.connect(address)
            clients.append(wire)
        owners = {sock.greenlets[0].name: index for index, sock in enumerate(plan.clients)}
        owners[f"{plan.name}.final"] = 0
        queue: gevent.queue.Queue[tuple[int, float] | None] = gevent.queue.Queue()
        self.spawn(self._serve, server, owners, clients, queue)
        self.spawn(self._misuse_rep, server, queue)
        asking = [
            self.spawn(self._ask, wire, sock.name, sock.greenlets[0])
            for wire, sock in zip(clients, plan.clients, strict=True)
        ]
        if not wait_for(lambda: all(glet.dead for glet in asking), self.progress):
            self.stuck.append("asking")
        queue.put(None)  # the misuse greenlet ends after what is queued
        self.final = self._final_misuse(server, clients[0], plan.clients[0].name)
        gevent.sleep(0.02)
        self.finish()
        named = [(server, "rep")] + [(wire, f"req{index}") for index, wire in enumerate(clients)]
        for wire, name in named:
            form = "list" if wire.layer == "typed" else "multipart"
            recv_form = "recv" if wire.layer == "typed" else "multipart"
            self.after_close[f"{name}_send"] = _attempt(lambda: wire.send([b"late"], form))
            self.after_close[f"{name}_recv"] = _attempt(lambda: wire.recv(recv_form))

    def progress(self) -> int:
        """Requests and replies moving."""
        return super().progress() + len(self.replies.received)

    def _final_misuse(self, server: Wire, client: Wire, socket: str) -> str:
        """At a quiet moment (the server waits in recv()): a request, the hub blocked while
        it arrives, then a send on the REP (EFSM); the request must still be answered."""
        name = f"{self.plan.name}.final"
        frames = message(name, 0, random.Random(0))
        wait_for(lambda: self.in_recv, lambda: 0)
        form = "list" if client.layer == "typed" else "multipart"
        sent = _attempt(lambda: client.send(frames, form))
        if sent != "ok":
            return f"final request: {sent}"
        self.ledger.note_sent((name, 0), socket)
        time.sleep(self.plan.final_burst)
        form = "list" if server.layer == "typed" else "multipart"
        result = _attempt(lambda: server.send([b"bad"], form))
        try:
            if client.layer == "typed":
                reply = client.recv("timeout", STALL)
            else:
                with gevent.Timeout(STALL, zmq.Again):
                    reply = client.recv("multipart")
        except zmq.Again:
            self.stuck.append("final request")
        else:
            self.replies.note_received(f"{name}.reader", reply[1:])
        return result

    def _serve(
        self, server: Wire, owners: dict[str, int], clients: list[Wire],
        queue: gevent.queue.Queue[tuple[int, float] | None],
    ) -> None:
        """The REP server greenlet: echo each request after b"re"; do the REQ misuse it is due."""
        plan = self.plan
        member = plan.server.greenlets[0]
        send_form = "list" if server.layer == "typed" else "multipart"
        planned = {sock.greenlets[0].name for sock in plan.clients}

        def answer(frames: list[bytes]) -> None:
            self.in_recv = False
            key = parse(frames)
            if key is None:
                server.send([b"torn"], send_form)  # recorded as torn; REP must answer
                self.in_recv = True
                return
            server.send([b"re", *frames], send_form)
            client = owners[key[0]]
            self.replies.note_sent(key, plan.clients[client].name)
            for slot, (index, when, burst, what) in enumerate(plan.misuse):
                if index != client or when != key[1] or key[0] not in planned:
                    continue
                if what == "rep-send":
                    queue.put((slot, burst))
                    continue
                # The client's greenlet waits in recv() for the reply just sent.
                time.sleep(burst)  # the reply reaches the REQ while the hub is blocked
                wire = clients[index]
                if what == "req-send-timeout":
                    self.misuse[slot] = _attempt(lambda: wire.send([b"again"], "timeout", 1.0))
                else:
                    form = "list" if wire.layer == "typed" else "multipart"
                    self.misuse[slot] = _attempt(lambda: wire.send([b"again"], form))
            self.in_recv = True

        self.in_recv = True
        self.recv_loop(server, plan.server.name, member, self.ledger, after=answer)

    def _misuse_rep(
        self, server: Wire, queue: gevent.queue.Queue[tuple[int, float] | None]
    ) -> None:
        """Another greenlet: once the server waits in recv(), block the hub, send on the REP."""
        form = "list" if server.layer == "typed" else "multipart"
        try:
            while True:
                item = queue.get()
                if item is None:
                    return
                slot, burst = item
                deadline = time.monotonic() + END
                while not self.in_recv and time.monotonic() < deadline:
                    gevent.sleep(0.001)
                time.sleep(burst)  # a request arrives while the hub is blocked
                self.misuse[slot] = _attempt(lambda: server.send([b"bad"], form))
        except gevent.GreenletExit:
            pass  # the act's end

    def _ask(self, wire: Wire, socket: str, member: Greenlet) -> None:
        """A REQ client greenlet: each request, then its reply (retrying interrupted receives)."""
        recv_form = "recv" if wire.layer == "typed" else "multipart"
        replies = self.replies
        ledger = self.ledger

        def receive_reply(seq: int) -> None:
            self.recv_loop(wire, socket, member, replies, 1, recv_form, count=1)
            if not replies.received or replies.received[-1][1] != (member.name, seq):
                raise RuntimeError(f"{member.name}: no reply to request {seq}")

        self.send_loop(wire, socket, member, ledger, receive_reply)

    def deterministic(self) -> dict[str, Any]:
        """EFSM for each misuse, on fresh sockets; SocketClosedError after close."""
        return {"misuse": self.misuse, "final_misuse": self.final, "fresh": self.fresh,
                "after_close": self.after_close}

    def verdicts(self) -> dict[str, bool]:
        """Requests and replies: once, whole, in order."""
        verdicts = {f"requests_{name}": ok for name, ok in self.ledger.verdicts().items()}
        verdicts.update({f"replies_{name}": ok for name, ok in self.replies.verdicts().items()})
        verdicts["every_request_answered"] = len(self.replies.received) == len(self.ledger.sent)
        return verdicts


class Closing(Act):
    """Greenlets parked on sockets nobody serves; close() wakes each with SocketClosedError."""

    plan: CloseAct

    def run(self) -> None:
        """Park the waiters, let timeouts and kills happen, close, then use the closed sockets."""
        plan = self.plan
        self.results: list[str] = ["not ended"] * len(plan.waiters)
        self.after_close: list[str] = []
        wires = []
        for sock in plan.sockets:
            wire = self.wire(sock.layer, sock.kind, sock.hwm)
            wire.bind(endpoint(plan.transport, self.directory, sock.name))
            wires.append(wire)
        started = [False] * len(plan.waiters)
        waiters = [
            self.spawn(self._wait, wires[index], role, how, slot, started)
            for slot, (index, role, how) in enumerate(plan.waiters)
        ]
        wait_for(lambda: all(started), lambda: 0, END)
        for glet, (_, _, how) in zip(waiters, plan.waiters, strict=True):
            if how == "kill":
                self.later(0.005, glet.kill, gevent.GreenletExit, False)
        self.later(plan.close_at, self._close, wires)
        done = gevent.joinall(waiters, timeout=plan.close_at + END)
        if len(done) != len(waiters):
            self.stuck.append("waiting")
        self.finish()
        for wire, sock in zip(wires, plan.sockets, strict=True):
            for role in _roles(sock.kind):
                self.after_close.append(_attempt(lambda: _call(wire, role, "plain")))

    def _close(self, wires: list[Wire]) -> None:
        for wire in wires:
            wire.close()

    def _wait(self, wire: Wire, role: str, how: str, slot: int, started: list[bool]) -> None:
        timer = gevent.Timeout(0.01) if how == "gevent-timeout" else None
        started[slot] = True
        try:
            if timer is not None:
                timer.start()
            _call(wire, role, how)
            self.results[slot] = "ok"
        except gevent.Timeout as passed:
            if passed is not timer:
                raise
            self.results[slot] = "own gevent.Timeout"
        except gevent.GreenletExit:
            self.results[slot] = "killed"
        except Exception as error:  # noqa: BLE001 - the error is the outcome
            self.results[slot] = _error_name(error)
        finally:
            if timer is not None:
                timer.close()

    def deterministic(self) -> dict[str, Any]:
        """Each waiter's end, and each call on a closed socket."""
        return {"waiters": self.results, "after_close": self.after_close}

    def verdicts(self) -> dict[str, bool]:
        """Each waiter ended as its plan says."""
        wanted = {"plain": "SocketClosedError", "timeout": "Again(EAGAIN)",
                  "gevent-timeout": "own gevent.Timeout", "kill": "killed"}
        return {
            "waiters_woken_as_planned": all(
                result == wanted[how]
                for result, (_, _, how) in zip(self.results, self.plan.waiters, strict=True)
            ),
            "closed_socket_raises_socketclosederror": all(
                result == "SocketClosedError" for result in self.after_close
            ),
        }


def _roles(kind: str) -> tuple[str, ...]:
    return {"PULL": ("recv",), "PUSH": ("send",), "REQ": ("send",)}.get(kind, ("recv", "send"))


def _call(wire: Wire, role: str, how: str) -> None:
    """One call that waits on a socket nobody serves."""
    timeout = 0.01 if how == "timeout" else None
    if role == "recv":
        form = ("timeout" if timeout else "recv") if wire.layer == "typed" else "multipart"
        wire.recv(form, timeout)
    else:
        frames = [b"ghost", b"x"] if wire.kind == "ROUTER" else [b"x"]
        form = ("timeout" if timeout else "list") if wire.layer == "typed" else "multipart"
        wire.send(frames, form, timeout)


ACTS: dict[str, type[Act]] = {
    "pipeline": Pipeline, "router": RouterService, "reqrep": ReqRep, "close": Closing,
}
