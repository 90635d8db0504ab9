"""``gzmq proxy FRONT BACK``: a gzmq.Proxy between two sockets, with live statistics."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from typing import Any

import gevent
import zmq

import gzmq
from gzmq import _cli_support as _s
from gzmq.proxy import ProxyStatistics

__all__ = ["add_proxy"]


def add_proxy(subparsers: Any) -> None:
    """Add ``gzmq proxy FRONT BACK`` to the ``gzmq`` command's subparsers."""
    parser = subparsers.add_parser(
        "proxy",
        help="forward messages between two sockets, with live statistics",
        description="Bind (or connect) a front-end and a back-end socket and run gzmq.Proxy "
        "(libzmq's proxy, off the gevent hub) between them, with a statistics line on "
        "stderr, until Ctrl-C, SIGTERM or --duration. The line shows, for each end, the "
        "frames / bytes it received (in) and sent (out); libzmq counts frames: a "
        "three-frame message counts three.",
        epilog="examples:\n"
        "  gzmq proxy tcp://127.0.0.1:5559 tcp://127.0.0.1:5560        # ROUTER | DEALER\n"
        "  gzmq proxy --front-type xsub --back-type xpub tcp://*:5557 tcp://*:5558\n"
        "  gzmq proxy --front-type pull --back-type push tcp://*:5561 tcp://*:5562",
        formatter_class=_s.HelpFormatter,
    )
    parser.add_argument("front", type=_s.endpoint, metavar="FRONT", help="the front-end endpoint")
    parser.add_argument("back", type=_s.endpoint, metavar="BACK", help="the back-end endpoint")
    sockets = parser.add_argument_group("sockets")
    sockets.add_argument(
        "--front-type",
        type=_s.socket_type,
        default="router",
        metavar="TYPE",
        help="the front-end socket type (default router)",
    )
    sockets.add_argument(
        "--back-type",
        type=_s.socket_type,
        default="dealer",
        metavar="TYPE",
        help="the back-end socket type (default dealer)",
    )
    sockets.add_argument(
        "--connect-front", action="store_true", help="connect the front end instead of binding it"
    )
    sockets.add_argument(
        "--connect-back", action="store_true", help="connect the back end instead of binding it"
    )
    for side in ("front", "back"):
        sockets.add_argument(
            f"--{side}-option",
            type=_s.option_setting,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"set an option of the {side}-end socket (repeatable)",
        )
    sockets.add_argument(
        "--capture",
        type=_s.endpoint,
        metavar="ENDPOINT",
        help="bind a PUB socket at ENDPOINT that gets a copy of every frame forwarded",
    )
    parser.add_argument(
        "--interval",
        type=_s.seconds,
        default=1.0,
        metavar="SECONDS",
        help="how often the statistics line is refreshed (default 1)",
    )
    parser.add_argument("--quiet", action="store_true", help="print no statistics")
    parser.add_argument("--duration", type=_s.seconds, metavar="SECONDS", help="stop after SECONDS")
    parser.set_defaults(handler=_run_proxy)


def _run_proxy(args: argparse.Namespace) -> int:
    """``gzmq proxy``: run a Proxy between two sockets, printing statistics, until stopped."""

    def body() -> int:
        if args.interval <= 0:
            raise _s.UsageError("--interval must be more than 0 seconds")
        for side, role, allowed in (
            ("front", "receive what it forwards", _s.RECV_TYPES),
            ("back", "send what it forwards", _s.SEND_TYPES),
        ):
            kind = getattr(args, f"{side}_type")
            if kind not in allowed:
                raise _s.UsageError(
                    f"--{side}-type {kind}: the {side} end must {role}, which a "
                    f"{kind.upper()} socket cannot; use one of {', '.join(allowed)}"
                )
        return _s.run_stoppable(lambda: _proxy(args), args.duration)

    return _s.run_command("proxy", body)


def _proxy_side(args: argparse.Namespace, side: str) -> argparse.Namespace:
    """The socket arguments of one side of the proxy, in the shape open_socket() takes."""
    address = getattr(args, side)
    connect = getattr(args, f"connect_{side}")
    return argparse.Namespace(
        command="proxy",
        type=getattr(args, f"{side}_type"),
        bind=[] if connect else [address],
        connect=[address] if connect else [],
        option=getattr(args, f"{side}_option"),
    )


def _proxy(args: argparse.Namespace) -> int:
    context = gzmq.Context()
    reporter = None
    proxy = None
    try:
        sides = []
        for side in ("front", "back"):
            side_args = _proxy_side(args, side)
            # A SUB end must subscribe to forward anything; XSUB ends pass subscriptions on.
            subscribe: list[str] | None = [] if side_args.type == "sub" else None
            sock, _ = _s.open_socket(side_args, context, subscribe=subscribe, label=f"{side} end ")
            sides.append(sock)
        capture = None
        if args.capture is not None:
            capture = gzmq.Publisher(context=context)
            try:
                capture.bind(args.capture)
            except zmq.ZMQError as error:
                raise _s.CommandError(error.strerror or str(error)) from None
            _s.say(f"gzmq proxy: capture bound {capture.endpoints[-1]}")
        proxy = gzmq.Proxy(sides[0], sides[1], capture=capture)
        if not args.quiet:
            reporter = gevent.spawn(_report_statistics, proxy, args.interval)
        proxy.run()  # until a signal or --duration kills this greenlet, which ends the proxy
        return _s.EXIT_OK
    finally:
        if reporter is not None:
            reporter.kill()
        if proxy is not None and not args.quiet:
            try:
                final = proxy.statistics()
            except zmq.ZMQError:
                final = None
            if final is not None:
                _show_statistics(final, None, end=True)
        context.close(linger=0)


def _size(count: int) -> str:
    """A byte count for people: 999 B, 1.2 kB, 3.4 MB, ..."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _statistics_line(stats: ProxyStatistics, rate: float | None) -> str:
    """``front: in FRAMES / BYTES, out ... | back: ... | RATE frames/s``."""
    parts = []
    for name, side in (("front", stats.front_end), ("back", stats.back_end)):
        parts.append(
            f"{name}: in {side.received_messages} / {_size(side.received_bytes)}, "
            f"out {side.sent_messages} / {_size(side.sent_bytes)}"
        )
    if rate is not None:
        parts.append(f"{rate:,.0f} frames/s")
    return " | ".join(parts)


def _show_statistics(stats: ProxyStatistics, rate: float | None, *, end: bool = False) -> None:
    """Write the statistics line on stderr: redrawn in place on a terminal, else one per line.

    ``end``: the last line, once the proxy has stopped (prefixed ``stopped:``).
    """
    line = ("stopped: " if end else "") + _statistics_line(stats, rate)
    if sys.stderr.isatty():
        width = shutil.get_terminal_size().columns
        sys.stderr.write("\r" + line[: max(width - 1, 20)] + "\x1b[K" + ("\n" if end else ""))
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _report_statistics(proxy: gzmq.Proxy, interval: float) -> None:
    """Show the proxy's statistics every ``interval`` seconds while it runs.

    On a terminal the line is redrawn every time; otherwise (a log) a line
    is written only when the counts have changed.
    """
    redraw = sys.stderr.isatty()
    last_stats = ProxyStatistics()
    last_time = time.monotonic()
    while True:
        gevent.sleep(interval)
        try:
            stats = proxy.statistics()
        except zmq.ZMQError:
            return  # the proxy has ended
        now = time.monotonic()
        count = stats.front_end.received_messages + stats.back_end.received_messages
        last_count = last_stats.front_end.received_messages + last_stats.back_end.received_messages
        rate = (count - last_count) / (now - last_time) if now > last_time else None
        if redraw or stats != last_stats:
            _show_statistics(stats, rate)
        last_stats, last_time = stats, now
