"""What the socket subcommands of the ``gzmq`` command share (see :mod:`gzmq.cli`).

Argument types and groups, opening a socket as the arguments describe,
message formats (text, hex, json, raw), reading stdin without blocking the
hub, stopping cleanly on SIGINT/SIGTERM, and the exit statuses: 0 ok, 1 a
runtime failure (:class:`CommandError`), 2 a usage error (:class:`UsageError`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import gevent
import zmq
from gevent import GreenletExit

import gzmq
from gzmq.options import Bool, Choice, _Integer

#: The socket types that can send (``gzmq send``, a proxy's back end) and receive.
SEND_TYPES = ("push", "pub", "dealer", "req", "router", "pair", "xpub", "xsub", "stream")
RECV_TYPES = ("pull", "sub", "dealer", "rep", "router", "pair", "xpub", "xsub", "stream")

#: The socket types by their libzmq names, and their class names as aliases.
SOCKET_TYPES: dict[str, type[gzmq.Socket]] = {
    "pair": gzmq.Pair,
    "pub": gzmq.Publisher,
    "sub": gzmq.Subscriber,
    "req": gzmq.Request,
    "rep": gzmq.Reply,
    "dealer": gzmq.Dealer,
    "router": gzmq.Router,
    "pull": gzmq.Pull,
    "push": gzmq.Push,
    "xpub": gzmq.XPublisher,
    "xsub": gzmq.XSubscriber,
    "stream": gzmq.Stream,
}
_ALIASES = {cls.__name__.lower(): name for name, cls in SOCKET_TYPES.items()}

#: The transports libzmq knows; an endpoint naming another is a usage error.
TRANSPORTS = ("tcp", "ipc", "inproc", "pgm", "epgm", "tipc", "vmci", "ws", "wss", "udp")
_ENDPOINT = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.+)$")

FORMATS = ("text", "hex", "json", "raw")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class HelpFormatter(argparse.HelpFormatter):
    """Wraps the description's paragraphs; keeps indented lines (the examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out: list[str] = []
        paragraph: list[str] = []

        fill = super()._fill_text

        def flush() -> None:
            if paragraph:
                out.append(fill(" ".join(paragraph), width, indent))
                paragraph.clear()

        for line in text.splitlines():
            if line.startswith(" ") or not line.strip():
                flush()
                out.append(indent + line)
            else:
                paragraph.append(line.strip())
        flush()
        return "\n".join(out)


class UsageError(Exception):
    """Arguments that do not fit together: the command exits 2 with this message."""


class CommandError(Exception):
    """A runtime failure with a message for the user: the command exits 1."""


def socket_type(text: str) -> str:
    """argparse type: a socket type name (libzmq's, e.g. 'pub', or the class name)."""
    name = text.lower()
    name = _ALIASES.get(name, name)
    if name not in SOCKET_TYPES:
        raise argparse.ArgumentTypeError(
            f"unknown socket type {text!r}; choose from {', '.join(SOCKET_TYPES)}"
        )
    return name


def endpoint(text: str) -> str:
    """argparse type: transport://address with a transport libzmq knows."""
    match = _ENDPOINT.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an endpoint; expected transport://address, "
            "e.g. tcp://127.0.0.1:5555, ipc:///tmp/sock or inproc://name"
        )
    if match.group(1) not in TRANSPORTS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: unknown transport {match.group(1)!r}; libzmq knows {', '.join(TRANSPORTS)}"
        )
    return text


def seconds(text: str) -> float:
    """argparse type: a non-negative number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds >= 0, got {text!r}")
    return value


def count(text: str) -> int:
    """argparse type: a positive whole number."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def option_setting(text: str) -> tuple[str, str]:
    """argparse type: NAME=VALUE."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. linger=0), got {text!r}")
    return name.strip().replace("-", "_"), value


def _option_value(cls: type[gzmq.Socket], name: str, text: str) -> Any:
    """The Python value of ``--option name=text`` for a socket of class ``cls``."""
    option = gzmq.options(cls).get(name)
    if option is None or not option.writable:
        valid = ", ".join(n for n, o in gzmq.options(cls).items() if o.writable)
        raise UsageError(f"--option {name}: not a writable option of {cls.__name__}; use {valid}")
    kind = option.kind
    if isinstance(kind, Bool):
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise UsageError(f"--option {name}: expected true or false, got {text!r}")
    if isinstance(kind, _Integer):
        try:
            return int(text, 0)
        except ValueError:
            raise UsageError(f"--option {name}: expected a whole number, got {text!r}") from None
    if isinstance(kind, Choice) and text.lower() == "none":
        return None
    return text


def add_socket_arguments(parser: argparse.ArgumentParser, default_type: str) -> None:
    """--type, --bind, --connect, --subscribe, --option: how the socket is made."""
    group = parser.add_argument_group("socket")
    group.add_argument(
        "-t",
        "--type",
        type=socket_type,
        default=default_type,
        metavar="TYPE",
        help=f"the socket type: {', '.join(SOCKET_TYPES)} (or the class name, "
        f"e.g. publisher); default {default_type}",
    )
    group.add_argument(
        "-b",
        "--bind",
        type=endpoint,
        action="append",
        default=[],
        metavar="ENDPOINT",
        help="bind to ENDPOINT, e.g. tcp://127.0.0.1:5555 or tcp://*:5555 (repeatable)",
    )
    group.add_argument(
        "-c",
        "--connect",
        type=endpoint,
        action="append",
        default=[],
        metavar="ENDPOINT",
        help="connect to ENDPOINT (repeatable)",
    )
    group.add_argument(
        "-o",
        "--option",
        type=option_setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a socket option by its gzmq name, e.g. linger=0, routing_id=me, "
        "curve_server_key=... (repeatable; see docs/options.md)",
    )


def open_socket(
    args: argparse.Namespace,
    context: gzmq.Context,
    *,
    subscribe: list[str] | None = None,
    observe: bool = False,
    label: str = "",
) -> tuple[Any, Any]:
    """The socket the arguments describe, bound and connected; and its Observer if ``observe``.

    ``args`` has ``command``, ``type``, ``bind``, ``connect`` and ``option``.
    A SUB or XSUB socket subscribes to ``subscribe`` (an empty list: to
    everything; None: to nothing).  Each endpoint bound is reported on stderr
    as ``gzmq COMMAND: LABELbound ENDPOINT``, with the port libzmq picked for
    ``*``, so that scripts can read it.
    """
    cls = SOCKET_TYPES[args.type]
    settings = {name: _option_value(cls, name, text) for name, text in args.option}
    try:
        sock: Any = cls(context=context, **settings)
    except (TypeError, ValueError, AttributeError) as error:
        raise UsageError(f"--option: {error}") from None
    observer = sock.events if observe else None  # before bind/connect, to see every event
    try:
        for address in args.bind:
            sock.bind(address)
            say(f"gzmq {args.command}: {label}bound {sock.endpoints[-1]}")
        for address in args.connect:
            sock.connect(address)
    except zmq.ZMQError as error:
        sock.close(0)
        raise CommandError(error.strerror or str(error)) from None
    if subscribe is not None:
        prefixes = [prefix.encode("utf-8") for prefix in subscribe]
        if isinstance(sock, gzmq.Subscriber):
            sock.subscribe(*prefixes)
        elif isinstance(sock, gzmq.XSubscriber):
            for prefix in prefixes or [b""]:
                sock.send(b"\x01" + prefix)
    return sock, observer


def check_socket_arguments(args: argparse.Namespace, role: str, allowed: Iterable[str]) -> None:
    """UsageError unless the socket type suits ``role`` and there is somewhere to go."""
    allowed = list(allowed)
    if args.type not in allowed:
        raise UsageError(
            f"a {args.type.upper()} socket cannot be used to {role}; "
            f"use one of {', '.join(allowed)}"
        )
    if not args.bind and not args.connect:
        raise UsageError("give at least one --bind or --connect endpoint")
    if getattr(args, "subscribe", None) and args.type not in ("sub", "xsub"):
        raise UsageError(f"--subscribe needs --type sub or xsub, not {args.type}")


def run_stoppable(work: Callable[[], int], duration: float | None = None) -> int:
    """Run ``work`` in a greenlet; SIGINT, SIGTERM or ``duration`` stop it cleanly (exit 0)."""

    def guarded() -> int | Exception:
        try:
            return work()
        except Exception as error:  # noqa: BLE001 - handed to the caller, which raises it
            return error

    worker = gevent.spawn(guarded)

    def stop() -> None:
        worker.kill(block=False)  # GreenletExit: the command's finally clauses close up

    handlers = [gevent.signal_handler(number, stop) for number in (signal.SIGINT, signal.SIGTERM)]
    timer = gevent.spawn_later(duration, stop) if duration is not None else None
    try:
        result = worker.get()
    finally:
        if timer is not None:
            timer.kill()
        for handler in handlers:
            handler.cancel()
    if isinstance(result, GreenletExit):
        return EXIT_OK  # stopped by a signal or by the end of --duration
    if isinstance(result, Exception):
        raise result
    return int(result)


# -- message formats ---------------------------------------------------------------------


def separator_of(args: argparse.Namespace) -> bytes | None:
    """--separator as bytes (None when not given)."""
    return None if args.separator is None else args.separator.encode("utf-8")


def parse_message(data: bytes, fmt: str, separator: bytes | None) -> list[bytes]:
    """The frames of one input message in ``fmt``; ValueError saying what is wrong."""
    if fmt in ("text", "raw"):
        return data.split(separator) if separator else [data]
    if fmt == "hex":
        tokens = data.split(separator) if separator else data.split()
        try:
            return [bytes.fromhex(token.decode("ascii")) for token in tokens] or [b""]
        except (ValueError, UnicodeDecodeError):
            raise ValueError(f"not hexadecimal frames: {data[:60]!r}") from None
    try:
        value = json.loads(data)
    except ValueError as error:
        raise ValueError(f"not JSON ({error}): {data[:60]!r}") from None
    items = value if isinstance(value, list) else [value]
    frames = []
    for item in items:
        if isinstance(item, str):
            frames.append(item.encode("utf-8"))
        elif isinstance(item, dict) and set(item) == {"hex"} and isinstance(item["hex"], str):
            frames.append(bytes.fromhex(item["hex"]))
        else:
            raise ValueError(
                'a JSON message is a string or a list of strings and {"hex": "..."} '
                f"objects, got {json.dumps(item)[:60]}"
            )
    if not frames:
        raise ValueError("a JSON message needs at least one frame, got []")
    return frames


def format_message(frames: list[bytes], fmt: str, separator: bytes | None) -> bytes:
    """One received message as bytes to write to stdout in ``fmt``."""
    if fmt == "text":
        return (b" " if separator is None else separator).join(frames) + b"\n"
    if fmt == "hex":
        sep = b" " if separator is None else separator
        return sep.join(frame.hex().encode("ascii") for frame in frames) + b"\n"
    if fmt == "raw":
        return (separator or b"").join(frames)
    items: list[Any] = []
    for frame in frames:
        try:
            items.append(frame.decode("utf-8"))
        except UnicodeDecodeError:
            items.append({"hex": frame.hex()})
    return json.dumps(items, ensure_ascii=False).encode("utf-8") + b"\n"


def read_chunks(fd: int) -> Iterator[bytes]:
    """What can be read from a file descriptor, until end of file, read in gevent's threadpool.

    The reads run in a thread so that a terminal or a pipe with nothing to
    read blocks only the calling greenlet, never the hub.  They use
    ``os.read`` (no Python-level buffer or lock), so a read still pending
    when the command ends cannot hold up the interpreter's exit.
    """
    pool = gevent.get_hub().threadpool
    while True:
        chunk = pool.apply(os.read, (fd, 65536))
        if not chunk:
            return
        yield chunk


def read_lines(fd: int) -> Iterator[bytes]:
    """The lines read from ``fd`` (without their newline), as they come."""
    pending = b""
    for chunk in read_chunks(fd):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line
    if pending:
        yield pending


def add_format_arguments(parser: argparse.ArgumentParser, direction: str) -> None:
    group = parser.add_argument_group("message format")
    if direction == "in":
        text = (
            "text: each line (or argument) is a message; hex: frames in hexadecimal; "
            'json: a JSON string or list of frames ({"hex": "..."} for binary); '
            "raw: all of stdin (or each argument) is one message"
        )
    else:
        text = (
            "text: a message per line, frames as they are; hex: frames in hexadecimal; "
            'json: a JSON list per message (binary frames as {"hex": "..."}); '
            "raw: frames as they are, nothing added (use with --count 1)"
        )
    group.add_argument(
        "-f", "--format", choices=FORMATS, default="text", help=f"{text}; default text"
    )
    if direction == "in":
        sep_help = (
            "split each message into frames at SEP (hex: default any whitespace; "
            "otherwise default: one frame per message)"
        )
    else:
        sep_help = "put SEP between the frames of a message (default: a space; raw: nothing)"
    group.add_argument("-s", "--separator", metavar="SEP", help=sep_help)


def accelerator_status() -> str:
    """``C accelerator: on``, or ``C accelerator: off (why)``."""
    if gzmq.accelerated:
        return "C accelerator: on"
    return f"C accelerator: off ({gzmq.accelerator_reason})"


def version_report() -> str:
    """What ``gzmq --version`` prints: the versions gzmq runs with, and the accelerator."""
    import platform

    import gevent

    return "\n".join(
        [
            f"gzmq {gzmq.__version__}",
            f"libzmq {zmq.zmq_version()}",
            f"pyzmq {zmq.__version__}",
            f"gevent {gevent.__version__}",
            f"Python {platform.python_version()} ({platform.python_implementation()})",
            accelerator_status(),
        ]
    )


def say(text: str) -> None:
    """A line on stderr, at once."""
    print(text, file=sys.stderr, flush=True)


def run_command(name: str, body: Callable[[], int]) -> int:
    """Run a subcommand's body; turn its errors into a message and an exit status.

    UsageError exits 2, CommandError and libzmq errors exit 1; a closed
    stdout (``gzmq recv | head -1``) ends the command quietly with 1.
    """
    try:
        return body()
    except UsageError as error:
        say(f"gzmq {name}: error: {error} (see gzmq {name} --help)")
        return EXIT_USAGE
    except CommandError as error:
        say(f"gzmq {name}: {error}")
        return EXIT_FAILURE
    except zmq.ZMQError as error:
        say(f"gzmq {name}: {error.strerror or error}")
        return EXIT_FAILURE
    except BrokenPipeError:
        # Nobody reads stdout any more; keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_FAILURE
