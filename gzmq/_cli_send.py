"""``gzmq send``: send messages from the arguments or stdin, and say if they did not go.

A message counts as sent once it is handed to a peer.  Before the first
message the command waits for a peer to connect (the Observer's "handshake"
event; for STREAM, which speaks raw TCP, "accept" or "connect"), so nothing
is queued for a connection that never comes.  A ROUTER sets ``mandatory``,
so a message for a routing id nobody has is an error.  At the end the
socket lingers while the queued messages are written out; if the linger
expires first (a peer that stopped reading, or that left and did not come
back), they may not all have gone, and the command exits 1.

``--timeout`` bounds the whole run, from resolving host names to that last
linger; whatever it cuts short exits 1 with a line on stderr saying what
was not done.  Host names of ``--connect`` endpoints are resolved first
(through gevent's resolver), so a name that does not resolve fails at once.

``immediate`` is left off on purpose: with it, libzmq drops the messages a
peer sent just before disconnecting if they were not read yet (a REQ lost
the reply of a REP that answered and exited at once).
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import itertools
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import gevent
import gevent.event
import gevent.queue
import gevent.socket
import zmq

import gzmq
from gzmq import _cli_support as _s

__all__ = ["add_send"]

#: The Observer events that say a peer is there (STREAM speaks raw TCP: no handshake).
_PEER_EVENTS: dict[str, tuple[str, ...]] = {"stream": ("accept", "connect")}
_HANDSHAKE = ("handshake",)

#: tcp://[source;]host:port, host possibly a bracketed IPv6 address.
_TCP_ENDPOINT = re.compile(r"^tcp://(?:[^;]*;)?(?P<host>\[[^\]]*\]|[^:;]+):[^:;]+$")


def add_send(subparsers: Any) -> None:
    """Add ``gzmq send`` to the ``gzmq`` command's subparsers."""
    parser = subparsers.add_parser(
        "send",
        help="send messages from the arguments or from stdin",
        description="Send each argument, or each line of stdin, as a message. A REQ "
        "socket prints each reply (in --format) on stdout. A message is sent once it "
        "is handed to a peer: the command waits for a peer to connect before the first "
        "message, and at the end for the messages to be written out (--linger). Exit "
        "status 1 when a message could not be handed to a peer within --timeout, or was "
        "still queued when the final --linger (or --timeout) ran out.",
        epilog="examples:\n"
        "  gzmq send --connect tcp://127.0.0.1:5555 hello world\n"
        "  gzmq send --connect tcp://127.0.0.1:5555 --timeout 2 hello   # exit 1 if no peer\n"
        "  seq 100 | gzmq send --type pub --bind 'tcp://*:5556' --delay 1\n"
        "  gzmq send --type req --connect tcp://127.0.0.1:5557 --separator '|' 'part1|part2'",
        formatter_class=_s.HelpFormatter,
    )
    _s.add_socket_arguments(parser, "push")
    _s.add_format_arguments(parser, "in")
    parser.add_argument(
        "messages",
        nargs="*",
        metavar="MESSAGE",
        help="the messages to send (default: read them from stdin)",
    )
    parser.add_argument(
        "-n",
        "--count",
        type=_s.count,
        metavar="N",
        help="send N messages: repeat the arguments as needed, or stop after N from stdin",
    )
    parser.add_argument(
        "--timeout",
        type=_s.seconds,
        metavar="SECONDS",
        help="give up (exit 1) when the whole run takes longer: waiting for a peer, "
        "sending, a REQ's replies, and the final linger (default: wait as long as it takes)",
    )
    parser.add_argument(
        "--delay",
        type=_s.seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait before the first message (lets PUB subscribers connect and subscribe)",
    )
    parser.add_argument(
        "--interval",
        type=_s.seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait between messages",
    )
    parser.add_argument(
        "--linger",
        type=int,
        default=5000,
        metavar="MS",
        help="at the end, wait at most MS milliseconds for queued messages to go out, "
        "within --timeout (-1: forever; default 5000); exit 1 if they have not",
    )
    parser.set_defaults(handler=_run_send)


def _send_source(args: argparse.Namespace) -> Iterator[list[bytes]]:
    """The messages to send, parsed, from the arguments or from stdin."""
    separator = _s.separator_of(args)
    if args.messages:
        raw = [os.fsencode(message) for message in args.messages]
        items: Iterable[bytes] = raw
        if args.count is not None:
            items = itertools.islice(itertools.cycle(raw), args.count)
        for number, item in enumerate(items, 1):
            try:
                yield _s.parse_message(item, args.format, separator)
            except ValueError as error:
                raise _s.CommandError(f"message {number}: {error}") from None
        return
    stdin = sys.stdin.fileno()
    if args.format == "raw":
        yield _s.parse_message(b"".join(_s.read_chunks(stdin)), "raw", separator)
        return
    lines: Iterable[bytes] = _s.read_lines(stdin)
    if args.count is not None:
        lines = itertools.islice(lines, args.count)
    for number, line in enumerate(lines, 1):
        try:
            yield _s.parse_message(line, args.format, separator)
        except ValueError as error:
            raise _s.CommandError(f"stdin line {number}: {error}") from None


class _TimedOutError(Exception):
    """``--timeout`` expired (raised into the sending greenlet by its gevent.Timeout)."""


class _Progress:
    """How far a run got: what a timeout or a signal cut short."""

    __slots__ = ("bound", "peers", "phase", "queue", "sent")

    def __init__(self) -> None:
        self.phase = "starting"  # what the run waits for now
        self.sent = 0  # messages handed to a peer
        self.peers = 0  # peers seen connecting (Observer events)
        self.bound: list[str] = []  # the endpoints bound (with the ports libzmq picked)
        self.queue: gevent.queue.Queue[Any] | None = None  # the messages read, not yet sent

    def unfinished(self, args: argparse.Namespace) -> bool:
        """Whether stopping now leaves messages unsent (not so while stdin has none ready)."""
        if self.phase == "done":
            return False
        idle = self.phase == "reading" and (self.queue is None or self.queue.empty())
        return not (idle and not args.messages)

    def cut_short(self, args: argparse.Namespace, why: str) -> str:
        """What was not done, for the message on stderr."""
        if self.sent:
            sent = f"{self.sent} message{'' if self.sent == 1 else 's'} sent before"
        else:
            sent = "nothing sent"
        if self.phase == "resolving":
            return f"{why} while resolving host names; nothing sent"
        if self.phase == "waiting for a peer":
            return f"{why}: no peer connected ({self.where(args)}); nothing sent"
        if self.phase == "sending":
            cause = (
                f"no peer connected ({self.where(args)})"
                if self.peers == 0
                else "the peers are not taking messages"
            )
            return f"{why}: message {self.sent + 1} was not handed to a peer: {cause}; {sent}"
        if self.phase == "waiting for a reply":
            return f"{why}: no reply to message {self.sent}"
        if self.phase == "reading":
            return f"{why} waiting for more input; {sent}"
        return f"{why} during {self.phase}; {sent}"


    def where(self, args: argparse.Namespace) -> str:
        """Where peers were looked for."""
        parts = []
        if args.connect:
            parts.append(f"is anything listening at {', '.join(args.connect)}?")
        if self.bound:
            parts.append(f"nothing connected to {', '.join(self.bound)}")
        return "; ".join(parts)


def _check_hosts(endpoints: Iterable[str]) -> None:
    """CommandError naming the first tcp host name that does not resolve."""
    for address in endpoints:
        match = _TCP_ENDPOINT.match(address)
        if match is None:
            continue
        host = match["host"]
        if host.startswith("["):
            continue
        try:
            ipaddress.ip_address(host)
            continue
        except ValueError:
            pass
        try:
            gevent.socket.getaddrinfo(host, None)
        except OSError as error:
            reason = error.strerror or str(error)
            raise _s.CommandError(f"cannot resolve host {host!r} of {address} ({reason})") from None


def _run_send(args: argparse.Namespace) -> int:
    """``gzmq send``: send messages; a REQ socket prints each reply."""

    def body() -> int:
        _s.check_socket_arguments(args, "send", _s.SEND_TYPES)
        progress = _Progress()
        status = _s.run_stoppable(lambda: _send(args, progress))
        if progress.unfinished(args):  # stopped by a signal before every message went
            raise _s.CommandError(progress.cut_short(args, "stopped"))
        return status

    return _s.run_command("send", body)


def _defaults(args: argparse.Namespace) -> None:
    """Set ``mandatory`` on a ROUTER unless --option gave it."""
    if args.type == "router" and "mandatory" not in {name for name, _ in args.option}:
        args.option.append(("mandatory", "true"))


def _send(args: argparse.Namespace, progress: _Progress) -> int:
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    context = gzmq.Context()
    reader = observer = None
    failure = None
    try:
        with gevent.Timeout(args.timeout, _TimedOutError):
            progress.phase = "resolving"
            _check_hosts(args.connect)
            _defaults(args)
            sock, observer = _s.open_socket(args, context, observe=True)
            progress.bound = [name for name in sock.endpoints if name not in args.connect]
            peer = gevent.event.Event()

            def seen(_event: gzmq.Event) -> None:
                progress.peers += 1
                peer.set()

            for kind in _PEER_EVENTS.get(args.type, _HANDSHAKE):
                observer.on(kind, seen)
            # One greenlet reads the input (stdin reads run in a thread) while this
            # one sends: a send waiting for a peer never stops the reading, and a
            # terminal waiting for a line never stops the socket.
            messages: gevent.queue.Queue[list[bytes] | _s.CommandError | None] = (
                gevent.queue.Queue(1000)
            )

            def produce() -> None:
                try:
                    for message in _send_source(args):
                        messages.put(message)
                except _s.CommandError as error:
                    messages.put(error)
                messages.put(None)

            progress.queue = messages
            reader = gevent.spawn(produce)
            _send_all(args, sock, messages, peer, progress)
    except _TimedOutError:
        failure = progress.cut_short(args, f"timed out after {args.timeout:g} s")
    finally:
        if reader is not None:
            reader.kill(block=False)
        if observer is not None:
            observer.close()  # its end must not delay the context's
        linger = _final_linger(args.linger, deadline)
        # --linger 0 asks to drop what is still queued: nothing to check then.
        flushed = _close(context, linger) or args.linger == 0
    if failure is not None:
        raise _s.CommandError(failure)
    if not flushed and progress.sent:
        bound = "--timeout" if args.timeout is not None and linger != args.linger else "--linger"
        raise _s.CommandError(
            f"{progress.sent} message{'' if progress.sent == 1 else 's'} handed to a peer, but "
            f"some still queued when the final wait ({bound}, {linger} ms) ran out: the "
            "peer may not have received them all"
        )
    return _s.EXIT_OK


def _send_all(
    args: argparse.Namespace,
    sock: Any,
    messages: gevent.queue.Queue[list[bytes] | _s.CommandError | None],
    peer: gevent.event.Event,
    progress: _Progress,
) -> None:
    """Send every message of ``messages`` (printing a REQ's replies)."""
    separator = _s.separator_of(args)
    out = sys.stdout.buffer
    progress.phase = "reading"
    item = messages.get()  # bad or empty input ends the run before any wait for a peer
    if item is not None and not isinstance(item, _s.CommandError):
        progress.phase = "waiting for a peer"
        peer.wait()
        if args.delay:
            progress.phase = "--delay"
            gevent.sleep(args.delay)
    while item is not None:
        if isinstance(item, _s.CommandError):
            raise item
        if progress.sent and args.interval:
            progress.phase = "--interval"
            gevent.sleep(args.interval)
        progress.phase = "sending"
        try:
            sock.send(item)
        except zmq.ZMQError as error:
            if error.errno == errno.EHOSTUNREACH:
                raise _s.CommandError(
                    f"message {progress.sent + 1}: no connected peer has routing id "
                    f"{item[0]!r}"
                ) from None
            raise
        progress.sent += 1
        if args.type == "req":
            progress.phase = "waiting for a reply"
            reply = sock.recv()
            out.write(_s.format_message(reply, args.format, separator))
            out.flush()
        progress.phase = "reading"
        item = messages.get()
    progress.phase = "done"


def _final_linger(linger: int, deadline: float | None) -> int:
    """The linger (ms) for the final close: ``linger``, cut to what the deadline leaves."""
    if deadline is None:
        return linger
    left = max(0, int((deadline - time.monotonic()) * 1000))
    return left if linger < 0 else min(linger, left)


def _close(context: gzmq.Context, linger: int) -> bool:
    """Close ``context``, its sockets lingering ``linger`` ms; whether the linger sufficed.

    libzmq's terminate returns as soon as every queued message is written
    out, or when the linger expires with some still queued: returning
    before the linger's end means nothing was left.
    """
    started = time.monotonic()
    context.close(linger=linger)
    return linger < 0 or time.monotonic() - started < linger / 1000
