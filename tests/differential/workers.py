"""The greenlets of the acts: send and receive loops, interruptions, and the act base class.

A sender retries a message whose send raised zmq.Again or its own
gevent.Timeout (the same message, so a send that raised but delivered
anyway shows as a duplicate); a kill or a close ends it, and the message
it was sending must then never arrive.  A receiver records each message the
moment its call returns (no switch in between) and ends when its socket is
closed or it is killed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import gevent
import zmq

import gzmq

from .layers import Contexts, Wire
from .ledger import Fairness, Ledger, message
from .plan import Greenlet

__all__ = ["POLLING", "Act", "wait_for"]

#: Forms that return at once (zmq.Again) when nothing can be done: the loop sleeps 1 ms.
POLLING = frozenset({"once", "noblock"})

#: No message sent or received for this long: the act is stuck (a lost wake-up).
STALL = 3.0

#: After the closes, every greenlet of an act must end within this long.
END = 3.0

_Own = object()  # our own gevent.Timeout passed (the call had no effect)


def wait_for(done: Callable[[], bool], progress: Callable[[], int], stall: float = STALL) -> bool:
    """Wait until ``done()``; False once ``progress()`` stood still for ``stall`` seconds."""
    last = progress()
    since = time.monotonic()
    while not done():
        gevent.sleep(0.005)
        now = progress()
        if now != last:
            last = now
            since = time.monotonic()
        elif time.monotonic() - since > stall:
            return False
    return True


def _timeout(form: str, rng: random.Random) -> float | None:
    """The per-call ``timeout=`` of a typed form."""
    if form == "timeout":
        return 5.0
    if form == "short":
        return round(rng.uniform(0.001, 0.02), 4)
    if form == "once":
        return 0
    return None


def _guarded(plan: Greenlet, calls: int, rng: random.Random, call: Callable[[], Any]) -> Any:
    """``call()``; every ``plan.timeout_every``-th one under a gevent.Timeout of 1-20 ms.

    Returns ``_Own`` when that Timeout passed (any other Timeout goes on).
    """
    if not plan.timeout_every or calls % plan.timeout_every:
        return call()
    timer = gevent.Timeout(rng.uniform(0.001, 0.02))
    timer.start()
    try:
        return call()
    except gevent.Timeout as passed:
        if passed is not timer:
            raise
        return _Own
    finally:
        timer.close()


class Act:
    """One act of a scenario: its sockets, greenlets, ledger and outcome."""

    def __init__(self, plan: Any, contexts: Contexts, directory: str, fairness: Fairness) -> None:
        self.plan = plan
        self.contexts = contexts
        self.directory = directory
        self.fairness = fairness
        self.ledger = Ledger()
        self.greenlets: list[gevent.Greenlet] = []
        self.timers: list[gevent.Greenlet] = []
        self.wires: list[Wire] = []
        self.stuck: list[str] = []  # phases that stood still (lost wake-ups)
        self.ended = True  # every greenlet ended in time

    # -- to be provided by each act -------------------------------------------------

    def run(self) -> None:
        """Set up, play and end the act (its own greenlet)."""
        raise NotImplementedError

    def deterministic(self) -> dict[str, Any]:
        """What the plan's scripted calls must give, the same in every mode."""
        return {}

    def verdicts(self) -> dict[str, bool]:
        """The invariants of this act."""
        return self.ledger.verdicts()

    # -- shared -------------------------------------------------------------------------

    def outcome(self) -> dict[str, Any]:
        """Verdicts and deterministic results (compared across modes) and info (reported)."""
        verdicts = dict(self.verdicts())
        verdicts["never_stuck"] = not self.stuck
        verdicts["all_greenlets_ended"] = self.ended
        return {
            "verdicts": verdicts,
            "deterministic": self.deterministic(),
            "info": dict(self.ledger.info(), stuck=self.stuck),
        }

    def wire(self, layer: str, kind: str, hwm: int, **options: Any) -> Wire:
        """A new socket of this act."""
        wire = Wire(self.contexts, layer, kind, hwm, **options)
        self.wires.append(wire)
        return wire

    def spawn(self, function: Callable[..., Any], *args: Any) -> gevent.Greenlet:
        """A greenlet of this act."""
        glet = gevent.spawn(function, *args)
        self.greenlets.append(glet)
        return glet

    def later(self, seconds: float, function: Callable[..., Any], *args: Any) -> None:
        """Call ``function(*args)`` in ``seconds`` (cancelled if the act ends first)."""
        self.timers.append(gevent.spawn_later(seconds, function, *args))

    def progress(self) -> int:
        """Grows while messages move."""
        return len(self.ledger.sent) + len(self.ledger.received)

    def finish(self) -> None:
        """Close every socket (waking whoever waits), then require every greenlet to end."""
        for timer in self.timers:
            timer.kill(block=False)
        for wire in self.wires:
            wire.close()
        done = gevent.joinall(self.greenlets, timeout=END)
        if len(done) != len(self.greenlets):
            self.ended = False
            gevent.killall([glet for glet in self.greenlets if not glet.dead], timeout=END)

    # -- the loops ------------------------------------------------------------------------

    def send_loop(
        self, wire: Wire, socket: str, plan: Greenlet, ledger: Ledger,
        after: Callable[[int], None] | None = None,
    ) -> None:
        """Send ``plan.count`` messages in ``plan.form``; ``after(seq)`` once each is sent."""
        content = random.Random(plan.seed)
        timing = random.Random(plan.seed + 1)
        calls = 0
        key: tuple[str, int] | None = None
        try:
            for seq in range(plan.count):
                frames = message(plan.name, seq, content)
                key = (plan.name, seq)
                while True:
                    calls += 1
                    timeout = _timeout(plan.form, timing)
                    try:
                        result = _guarded(
                            plan, calls, timing, lambda: wire.send(frames, plan.form, timeout)
                        )
                    except zmq.Again:
                        ledger.attempts_failed += 1
                        if plan.form in POLLING:
                            gevent.sleep(0.001)
                        continue
                    if result is _Own:
                        ledger.attempts_failed += 1
                        continue
                    break
                ledger.note_sent(key, socket)
                key = None
                self.fairness.completed(socket, plan.form, Fairness.send_units(frames), plan.name)
                if after is not None:
                    after(seq)
                if plan.pause:
                    gevent.sleep(timing.uniform(0, plan.pause))
        except gevent.GreenletExit:
            pass  # killed (the plan's kill, or the act's end)
        except gzmq.SocketClosedError:
            pass  # the plan closed the socket
        except Exception as error:  # noqa: BLE001 - recorded as a failed verdict
            ledger.note_error(plan.name, error)
        finally:
            if key is not None:
                ledger.note_unsent(key)

    def recv_loop(
        self, wire: Wire, socket: str, plan: Greenlet, ledger: Ledger, strip: int = 0,
        form: str | None = None, after: Callable[[list[bytes]], None] | None = None,
        count: int | None = None,
    ) -> None:
        """Receive in ``form`` (default: ``plan.form``) until closed or killed (or ``count``).

        ``strip``: leading envelope frames to drop (a ROUTER's routing id);
        ``after(frames)`` runs once each message is recorded.
        """
        form = form or plan.form
        timing = random.Random(plan.seed + 2)
        calls = 0
        received = 0
        try:
            while count is None or received < count:
                calls += 1
                timeout = _timeout(form, timing)
                try:
                    result = _guarded(plan, calls, timing, lambda: wire.recv(form, timeout))
                except zmq.Again:
                    ledger.attempts_failed += 1
                    if form in POLLING:
                        gevent.sleep(0.001)
                    continue
                if result is _Own:
                    ledger.attempts_failed += 1
                    continue
                received += 1
                ledger.note_received(plan.name, result[strip:])
                self.fairness.completed(socket, form, 1, plan.name)
                if after is not None:
                    after(result)
        except (gevent.GreenletExit, gzmq.SocketClosedError, StopIteration):
            pass  # killed, or the socket was closed: the loop's normal ends
        except Exception as error:  # noqa: BLE001 - recorded as a failed verdict
            ledger.note_error(plan.name, error)
