"""What a scenario observed, and the verdicts that must not depend on timing.

* :func:`message` / :func:`parse`: every message names its sender and
  number and says how many frames of what it holds, so a receiver can tell
  it arrived whole and unmixed.
* :class:`Ledger`: what each greenlet sent, failed to send and received;
  its verdicts: each message sent was received exactly once, whole, in
  order per sender (as each receiving greenlet saw them); a message whose
  send raised was never received.  For a sender socket that the plan
  closes with linger 0, libzmq drops what it still queued: its messages may
  be missing, never duplicated, torn or out of order.
* :class:`Fairness`: the most consecutive completions (messages received,
  or sent at ``1 + bytes >> 8`` each: gzmq's documented budget of 512
  completions or ~128 KiB) one greenlet made on one socket without
  switching out.  A completion may only start while fewer than 512 units
  were spent since the greenlet last switched out.
* :class:`Heartbeat`: a greenlet ticking every 2 ms; its largest gap (in
  the hub thread's CPU time) must stay under 0.5 s.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from typing import Any

import gevent
import greenlet

__all__ = [
    "FAIRNESS_LIMIT",
    "HEARTBEAT_BOUND",
    "Fairness",
    "Heartbeat",
    "Ledger",
    "message",
    "parse",
]

#: gzmq's fairness budget (README: "After 512 consecutive immediate completions
#: (or ~128 KiB sent) on a socket the next call yields once").
FAIRNESS_LIMIT = 512
COST_SHIFT = 8

#: The largest gap allowed between two heartbeat ticks (seconds of the hub
#: thread's CPU time: see Heartbeat).
HEARTBEAT_BOUND = 0.5

_SIZES = ((0, 0), (1, 64), (65, 600), (601, 4000), (4001, 70000))
_WEIGHTS = (5, 50, 30, 10, 2)


def message(sender: str, seq: int, rng: random.Random) -> list[bytes]:
    """Message ``seq`` of ``sender``: a header frame, then 0-3 frames, sizes drawn from ``rng``."""
    count = rng.choice((0, 0, 1, 3))
    sizes = [rng.randint(*rng.choices(_SIZES, _WEIGHTS)[0]) for _ in range(count)]
    header = f"{sender}|{seq}|{'.'.join(map(str, sizes))}".encode()
    return [header] + [_body(header, index, size) for index, size in enumerate(sizes)]


def _body(header: bytes, index: int, size: int) -> bytes:
    pattern = b"%s#%d;" % (header, index)
    return (pattern * (size // len(pattern) + 1))[:size]


def parse(frames: list[bytes]) -> tuple[str, int] | None:
    """(sender, seq) of a message that arrived whole and unmixed, else None."""
    try:
        sender, seq, sizes = frames[0].decode().split("|")
        lengths = [int(size) for size in sizes.split(".")] if sizes else []
        number = int(seq)
    except (ValueError, UnicodeDecodeError, IndexError):
        return None
    if len(frames) != len(lengths) + 1:
        return None
    for index, (frame, size) in enumerate(zip(frames[1:], lengths, strict=True)):
        if frame != _body(frames[0], index, size):
            return None
    return sender, number


class Ledger:
    """Messages sent, not sent, and received in one act, and the verdicts over them."""

    def __init__(self) -> None:
        self.sent: dict[tuple[str, int], str] = {}  # key -> sending socket
        self.unsent: set[tuple[str, int]] = set()  # its send raised: must never arrive
        self.lossy: set[str] = set()  # sender sockets closed with linger 0 mid-act
        self.received: list[tuple[str, tuple[str, int]]] = []  # (receiving greenlet, key)
        self.counts: Counter[tuple[str, int]] = Counter()
        self.torn: list[str] = []
        self.errors: list[str] = []  # unexpected exceptions, as text
        self.attempts_failed = 0  # sends or receives that raised zmq.Again or our Timeout

    def note_sent(self, key: tuple[str, int], socket: str) -> None:
        """A send returned: the message must arrive (unless its socket is lossy)."""
        self.sent[key] = socket

    def note_unsent(self, key: tuple[str, int]) -> None:
        """A send ended in an error, a kill or a close: the message must never arrive."""
        self.unsent.add(key)

    def note_received(self, receiver: str, frames: list[bytes]) -> tuple[str, int] | None:
        """A receive returned ``frames``; its key, or None if torn (recorded)."""
        key = parse(frames)
        if key is None:
            self.torn.append(repr([frame[:60] for frame in frames])[:300])
            return None
        self.received.append((receiver, key))
        self.counts[key] += 1
        return key

    def note_error(self, who: str, error: BaseException) -> None:
        """An exception the plan did not call for."""
        self.errors.append(f"{who}: {type(error).__name__}: {error}"[:300])

    def expected(self) -> set[tuple[str, int]]:
        """The messages that must arrive: sent on a socket that is not lossy."""
        return {key for key, socket in self.sent.items() if socket not in self.lossy}

    def delivered(self) -> int:
        """How many of the expected messages arrived so far."""
        counts = self.counts
        return sum(1 for key in self.expected() if counts[key])

    def verdicts(self) -> dict[str, bool]:
        """The invariants, each True when it held."""
        expected = self.expected()
        counts = self.counts
        maybe = set(self.sent) - expected
        order_ok = True
        last: dict[tuple[str, str], int] = {}
        for receiver, (sender, seq) in self.received:
            previous = last.get((receiver, sender), -1)
            if seq <= previous:
                order_ok = False
            last[receiver, sender] = seq
        return {
            "whole": not self.torn,
            "exactly_once": all(counts[key] == 1 for key in expected)
            and all(counts[key] <= 1 for key in maybe),
            "nothing_unsent_arrived": all(counts[key] == 0 for key in self.unsent),
            "nothing_unknown_arrived": all(
                key in self.sent or key in self.unsent for key in counts
            ),
            "in_order": order_ok,
            "no_unexpected_error": not self.errors,
        }

    def info(self) -> dict[str, Any]:
        """Counts that depend on timing (reported, never compared)."""
        expected = self.expected()
        missing = sorted(key for key in expected if not self.counts[key])
        return {
            "sent": len(self.sent),
            "unsent": len(self.unsent),
            "received": len(self.received),
            "missing": len(missing),
            "missing_first": [f"{sender}|{seq}" for sender, seq in missing[:5]],
            "duplicates": sum(1 for count in self.counts.values() if count > 1),
            "torn": self.torn[:3],
            "errors": self.errors[:5],
            "attempts_failed": self.attempts_failed,
        }


class Fairness:
    """Completions per greenlet and socket since the greenlet last switched out (settrace)."""

    def __init__(self) -> None:
        self._runs: dict[Any, dict[str, int]] = {}
        #: form -> the most units spent before a completion (since the last switch out)
        self.worst: dict[str, int] = defaultdict(int)
        self.violations: list[str] = []
        self._previous: Any = None

    def start(self) -> None:
        """Begin tracing switches."""
        self._previous = greenlet.settrace(self._trace)

    def stop(self) -> None:
        """Stop tracing switches."""
        greenlet.settrace(self._previous)

    def _trace(self, event: str, args: Any) -> None:
        if event in ("switch", "throw"):
            self._runs.pop(args[0], None)  # the origin switched out
        if self._previous is not None:
            self._previous(event, args)

    def completed(self, socket: str, form: str, units: int, who: str) -> None:
        """The calling greenlet completed a send or receive costing ``units`` on ``socket``."""
        current = greenlet.getcurrent()
        runs = self._runs.get(current)
        if runs is None:
            runs = self._runs[current] = {}
        before = runs.get(socket, 0)
        if before > self.worst[form]:
            self.worst[form] = before
        if before >= FAIRNESS_LIMIT and len(self.violations) < 5:
            self.violations.append(f"{who} ({form}) on {socket}: a completion after {before} units")
        runs[socket] = before + units

    @staticmethod
    def send_units(frames: list[bytes]) -> int:
        """What sending ``frames`` costs the budget."""
        return 1 + (sum(len(frame) for frame in frames) >> COST_SHIFT)


class Heartbeat:
    """A greenlet ticking every 2 ms: the longest it waited between two ticks.

    ``gap`` is measured in the hub thread's CPU time (``time.thread_time``):
    what the other greenlets computed while it could not run.  That does not
    grow while the machine runs other processes, nor while a plan blocks the
    hub on purpose (``time.sleep``), so it can be bounded on a busy machine;
    ``wall_gap`` (wall clock) is reported too.
    """

    def __init__(self) -> None:
        self.gap = 0.0
        self.wall_gap = 0.0
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        """Start ticking."""
        self._greenlet = gevent.spawn(self._beat)

    def stop(self) -> None:
        """Stop ticking."""
        if self._greenlet is not None:
            self._greenlet.kill()

    def _beat(self) -> None:
        last = time.thread_time()
        last_wall = time.monotonic()
        while True:
            gevent.sleep(0.002)
            now = time.thread_time()
            now_wall = time.monotonic()
            self.gap = max(self.gap, now - last)
            self.wall_gap = max(self.wall_gap, now_wall - last_wall)
            last = now
            last_wall = now_wall
