"""The ``gzmq`` command (also ``python -m gzmq``).

Each subcommand is one ``_add_<name>(subparsers)`` function that declares its
arguments and sets ``handler`` to a ``_run_<name>(args) -> int`` function;
:func:`build_parser` calls them in order.  To add a subcommand, write the
pair and list the ``_add_`` function in :data:`_SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import gevent
import zmq

import gzmq
from gzmq import _cli_support as _s
from gzmq._cli_proxy import add_proxy
from gzmq._cli_send import add_send

__all__ = ["build_parser", "main"]

Subparsers = Any  # argparse._SubParsersAction, private in typeshed


# -- recv ------------------------------------------------------------------------------


def _add_recv(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "recv",
        help="receive messages and print them on stdout",
        description="Print each message received, one per line (in --format). A REP socket "
        "answers each request with --reply, or echoes it.",
        epilog="examples:\n"
        "  gzmq recv --bind 'tcp://*:5555'\n"
        "  gzmq recv --type sub --connect tcp://127.0.0.1:5556 --subscribe weather --count 10\n"
        "  gzmq recv --type router --bind tcp://127.0.0.1:5557 --format json",
        formatter_class=_s.HelpFormatter,
    )
    _s.add_socket_arguments(parser, "pull")
    parser.add_argument(
        "--subscribe",
        action="append",
        metavar="PREFIX",
        help="SUB/XSUB: receive messages starting with PREFIX (repeatable; default: all)",
    )
    _s.add_format_arguments(parser, "out")
    parser.add_argument(
        "-n", "--count", type=_s.count, metavar="N", help="exit after N messages (default: never)"
    )
    parser.add_argument(
        "--timeout",
        type=_s.seconds,
        metavar="SECONDS",
        help="give up (exit 1) when no message arrives within SECONDS",
    )
    parser.add_argument(
        "--reply",
        metavar="TEXT",
        help="REP: answer each request with TEXT (parsed in --format if json or hex; "
        "default: echo the request)",
    )
    parser.set_defaults(handler=_run_recv)


def _run_recv(args: argparse.Namespace) -> int:
    """``gzmq recv``: print the messages received; a REP socket answers each."""

    def body() -> int:
        _s.check_socket_arguments(args, "receive", _s.RECV_TYPES)
        if args.reply is not None and args.type != "rep":
            raise _s.UsageError(f"--reply needs --type rep, not {args.type}")
        reply: list[bytes] | None = None
        if args.reply is not None:
            try:
                fmt = args.format if args.format in ("hex", "json") else "text"
                reply = _s.parse_message(os.fsencode(args.reply), fmt, _s.separator_of(args))
            except ValueError as error:
                raise _s.UsageError(f"--reply: {error}") from None
        return _s.run_stoppable(lambda: _recv(args, reply))

    return _s.run_command("recv", body)


def _recv(args: argparse.Namespace, reply: list[bytes] | None) -> int:
    separator = _s.separator_of(args)
    context = gzmq.Context()
    try:
        sock, _ = _s.open_socket(args, context, subscribe=args.subscribe or [])
        out = sys.stdout.buffer
        received = 0
        while args.count is None or received < args.count:
            try:
                frames = sock.recv(timeout=args.timeout)
            except zmq.Again:
                raise _s.CommandError(
                    f"timed out: no message within {args.timeout:g} s ({received} received)"
                ) from None
            received += 1
            out.write(_s.format_message(frames, args.format, separator))
            out.flush()
            if args.type == "rep":
                sock.send(reply if reply is not None else frames)
        return _s.EXIT_OK
    finally:
        context.close(linger=1000)


# -- monitor ---------------------------------------------------------------------------


def _add_monitor(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="connect a socket and print its events as they happen",
        description="Connect (or with --bind, bind) a socket to ENDPOINT and print its "
        "events (connect, handshake, disconnect, ...) one per line as they happen, until "
        "Ctrl-C, --count or --duration. Messages the socket receives are discarded.",
        epilog="examples:\n"
        "  gzmq monitor tcp://127.0.0.1:5555\n"
        "  gzmq monitor --type sub tcp://127.0.0.1:5556 --json --count 3",
        formatter_class=_s.HelpFormatter,
    )
    parser.add_argument("endpoint", type=_s.endpoint, metavar="ENDPOINT")
    parser.add_argument(
        "-t",
        "--type",
        type=_s.socket_type,
        default="dealer",
        metavar="TYPE",
        help=f"the socket type: {', '.join(_s.SOCKET_TYPES)}; default dealer",
    )
    parser.add_argument(
        "--bind", action="store_true", help="bind to ENDPOINT instead of connecting"
    )
    parser.add_argument(
        "-o",
        "--option",
        type=_s.option_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a socket option (repeatable), e.g. curve_server_key=...",
    )
    parser.add_argument("--json", action="store_true", help="print each event as a JSON object")
    parser.add_argument("-n", "--count", type=_s.count, metavar="N", help="exit after N events")
    parser.add_argument("--duration", type=_s.seconds, metavar="SECONDS", help="exit after SECONDS")
    parser.set_defaults(handler=_run_monitor)


def _event_json(event: gzmq.Event, when: float) -> str:
    """One event as a JSON object (time in seconds since the epoch)."""
    record: dict[str, Any] = {"time": round(when, 6), "type": str(event.type)}
    record["address"] = event.address
    if event.interval is not None:
        record["interval"] = event.interval
    error = event.error
    if error is not None:
        record["error"] = str(error)
        record["errno"] = error.errno
        if isinstance(error, gzmq.AuthError):
            record["status"] = error.status
        if isinstance(error, gzmq.ProtocolError):
            record["code"] = error.code
    return json.dumps(record)


def _event_text(event: gzmq.Event, when: float) -> str:
    """One event as a line: local time with milliseconds, then the event."""
    stamp = time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when * 1000) % 1000:03d}"
    return f"{stamp} {event}"


def _run_monitor(args: argparse.Namespace) -> int:
    """``gzmq monitor``: print the socket's events until stopped."""
    args.bind, args.connect = ([args.endpoint], []) if args.bind else ([], [args.endpoint])
    return _s.run_command(
        "monitor", lambda: _s.run_stoppable(lambda: _monitor(args), args.duration)
    )


def _monitor(args: argparse.Namespace) -> int:
    context = gzmq.Context()
    drain = None
    try:
        sock, observer = _s.open_socket(args, context, subscribe=[], observe=True)
        if hasattr(sock, "recv"):  # a class that can receive (readable is live readiness)
            drain = gevent.spawn(_drain, sock)
        shown = 0
        for event in observer:
            now = time.time()
            print(_event_json(event, now) if args.json else _event_text(event, now), flush=True)
            shown += 1
            if args.count is not None and shown >= args.count:
                break
        return _s.EXIT_OK
    finally:
        if drain is not None:
            drain.kill(block=False)
        context.close(linger=0)


def _drain(sock: Any) -> None:
    """Read and discard what the socket receives, so its queue never fills."""
    for _ in sock:
        pass


# -- keygen ----------------------------------------------------------------------------


def _add_keygen(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "keygen",
        help="make a CURVE key pair: print it, or write certificate files",
        description="Make a new CURVE key pair and print it (Z85 text), or with --dir write "
        "it as certificate files in pyzmq's format: NAME.key (the public key, to give to "
        "peers) and NAME.key_secret (both keys, to keep private), which "
        "gzmq.auth.load_certificate() and pyzmq's zmq.auth read. Existing files are never "
        "overwritten unless --force.",
        epilog="examples:\n"
        "  gzmq keygen\n"
        "  gzmq keygen --json\n"
        "  gzmq keygen --dir certs --name server\n"
        "  gzmq keygen --dir certs --name client --force   # replace client's certificate",
        formatter_class=_s.HelpFormatter,
    )
    parser.add_argument(
        "-d", "--dir", metavar="DIR", help="write certificate files into DIR (made if missing)"
    )
    parser.add_argument(
        "--name",
        metavar="NAME",
        help="with --dir: the certificate's name, the stem of its files (default: gzmq)",
    )
    parser.add_argument(
        "--force", action="store_true", help="with --dir: overwrite existing certificate files"
    )
    parser.add_argument("--json", action="store_true", help="print the result as a JSON object")
    parser.set_defaults(handler=_run_keygen)


def _run_keygen(args: argparse.Namespace) -> int:
    """``gzmq keygen``: print a CURVE key pair, or write it as certificate files."""

    def body() -> int:
        name: str = "gzmq" if args.name is None else args.name
        if args.dir is None:
            if args.name is not None or args.force:
                raise _s.UsageError("--name and --force go with --dir")
        elif not name or name in (".", "..") or "/" in name or os.sep in name:
            raise _s.UsageError(f"--name must be a plain file name, got {name!r}")
        if not gzmq.capability["curve"]:
            raise _s.CommandError("this libzmq has no CURVE support (it needs libsodium)")
        if args.dir is None:
            pair = gzmq.curve_keypair()
            _print_keys({"public": pair.public, "secret": pair.secret}, args.json)
            return _s.EXIT_OK
        return _write_certificates(args.dir, name, args.force, args.json)

    return _s.run_command("keygen", body)


def _print_keys(record: dict[str, str], as_json: bool) -> None:
    """Print ``record`` as ``key: value`` lines, or as one JSON object."""
    if as_json:
        print(json.dumps(record))
    else:
        for key, value in record.items():
            print(f"{key.replace('_', ' ')}: {value}")


def _write_certificates(directory: str, name: str, force: bool, as_json: bool) -> int:
    """Write NAME.key and NAME.key_secret into ``directory``; print the public key and paths."""
    from gzmq import auth

    public_path = os.path.join(directory, f"{name}.key")
    secret_path = os.path.join(directory, f"{name}.key_secret")
    existing = [path for path in (public_path, secret_path) if os.path.lexists(path)]
    if existing and not force:
        raise _s.CommandError(
            f"{' and '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "not overwriting (use --force to replace the certificate, or another --name)"
        )
    try:
        os.makedirs(directory, exist_ok=True)
        public_file, secret_file = auth.create_certificates(directory, name, overwrite=force)
        public, _ = auth.load_certificate(secret_file)
    except FileExistsError as error:  # made meanwhile by someone else
        raise _s.CommandError(f"{error}; not overwriting (use --force)") from None
    except OSError as error:
        where = error.filename if error.filename is not None else directory
        raise _s.CommandError(
            f"cannot write certificates in {directory}: {error.strerror or error} ({where})"
        ) from None
    _print_keys(
        {"public": public, "public_file": str(public_file), "secret_file": str(secret_file)},
        as_json,
    )
    return _s.EXIT_OK


# -- bench ---------------------------------------------------------------------


def _add_bench(subparsers: Subparsers) -> None:
    from gzmq.bench import CASE_NAMES, add_arguments

    parser = subparsers.add_parser(
        "bench",
        help="benchmark gzmq against pyzmq, zmq.green and zmq.asyncio",
        description=(
            "Run the benchmarks side by side (gzmq, raw blocking pyzmq, zmq.green, "
            "zmq.asyncio) and print a table of medians and ratios. "
            f"Cases: {', '.join(CASE_NAMES)} (default: all)."
        ),
        epilog="examples:\n"
        "  gzmq bench --quick                 # a smoke test of every case, in seconds\n"
        "  gzmq bench throughput latency      # two cases, 5 rounds each\n"
        "  gzmq bench --markdown --json results.json\n"
        "  gzmq bench --instructions          # instructions and syscalls per operation\n"
        "  gzmq bench --instructions --check-baseline    # the perf gate CI runs",
        formatter_class=_s.HelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(handler=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from gzmq.bench import run_from_args

    return run_from_args(args)


# -- the parser ----------------------------------------------------------------

_SUBCOMMANDS: list[Callable[[Subparsers], None]] = [
    add_send,
    _add_recv,
    add_proxy,
    _add_monitor,
    _add_keygen,
    _add_bench,
]


class _VersionAction(argparse.Action):
    """``--version``: print the versions gzmq runs with and the accelerator, then exit 0."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(_s.version_report())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gzmq`` command, with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gzmq",
        description="ZeroMQ for gevent: command-line tools.",
        epilog="Each command has its own help, with examples: gzmq COMMAND --help.\n\n"
        "Exit status: 0 ok, 1 runtime failure, 2 usage error.",
        formatter_class=_s.HelpFormatter,
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the versions of gzmq, libzmq, pyzmq, gevent and Python, and whether "
        "the C accelerator is on, then exit",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``gzmq`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except KeyboardInterrupt:
        print("gzmq: interrupted", file=sys.stderr)
        return 130
    return status
