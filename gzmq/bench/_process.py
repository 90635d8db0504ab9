"""Processes of a benchmark run: the worker that measures, and the peers it starts.

``python -m gzmq.bench._process`` is a worker: it reads one JSON job per
line on stdin (``{"case", "variant", "impl", "params"}``), runs the case's
measure function, and writes one JSON line back: ``{"ok": {metric: value}}``,
``{"unsupported": reason}`` or ``{"error": text}``.  The harness runs every
job in a worker so that a contender that hangs (zmq.green sometimes does) is
killed and reported, never taking the run down.  The worker's fd 1 is
pointed at stderr, so nothing a case prints can corrupt the protocol.

``python -m gzmq.bench._process --peer CASE ROLE IMPL PARAMS`` is a peer: the
other side of a two-process case.  It runs ``peer(role, impl, params)`` of the
case module, which may :func:`announce` a JSON line to the worker and returns
what must stay alive (its context and sockets), then holds (keeping
libzmq's I/O threads alive to flush what it sent) until its stdin closes.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import subprocess
import sys
import time
import traceback
from types import ModuleType
from typing import IO, Any

from gzmq.bench._model import Unsupported

__all__ = ["Peer", "announce", "main", "peak_rss_mib", "read_line"]

_channel: IO[str] | None = None


def _case_module(name: str) -> ModuleType:
    if not name.isidentifier():
        raise ValueError(f"bad case name {name!r}")
    return importlib.import_module(f"gzmq.bench.{name}")


def _take_stdout() -> IO[str]:
    """Keep the real stdout for the protocol; send fd 1 (and print) to stderr."""
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def announce(message: dict[str, Any]) -> None:
    """From a peer: send one JSON line to the worker that started it."""
    if _channel is None:
        raise RuntimeError("announce() is for peer processes")
    _channel.write(json.dumps(message) + "\n")
    _channel.flush()


def read_line(stream: IO[bytes], timeout: float, what: str) -> str:
    """One line from a pipe, or TimeoutError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    buffer = b""
    fd = stream.fileno()
    while not buffer.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{what}: no answer in {timeout:g} s")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            raise EOFError(f"{what}: exited without an answer")
        buffer += chunk
    return buffer.decode("utf-8")


def peak_rss_mib() -> float:
    """This process's peak resident set size (VmHWM) in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Peer:
    """The other process of a two-process case, started by the worker.

    Use as a context manager: on exit its stdin is closed (it exits) and it is
    killed if it does not exit promptly.
    """

    def __init__(self, case: str, role: str, impl: str, params: dict[str, Any]) -> None:
        self.what = f"{case} peer {role!r} ({impl})"
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gzmq.bench._process",
                "--peer", case, role, impl, json.dumps(params),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def read(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next line the peer announced."""
        assert self.process.stdout is not None
        message: dict[str, Any] = json.loads(read_line(self.process.stdout, timeout, self.what))
        return message

    def finish(self, timeout: float = 10.0) -> None:
        """Let the peer exit (close its stdin); raise if it failed."""
        process = self.process
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        try:
            status = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise TimeoutError(f"{self.what} did not exit") from None
        finally:
            if process.stdout is not None:
                process.stdout.close()
        if status != 0:
            raise RuntimeError(f"{self.what} failed with status {status}")

    def kill(self) -> None:
        """Stop the peer now."""
        process = self.process
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None and not stream.closed:
                stream.close()

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            try:
                self.finish()
            except (TimeoutError, RuntimeError):
                pass
        self.kill()


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    try:
        case = _case_module(job["case"]).CASE
        figures = case.measure(job["impl"], dict(job["params"]))
    except Unsupported as reason:
        return {"unsupported": str(reason)}
    except Exception as error:  # noqa: BLE001 - reported as this run's result
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        traceback.print_exc()
        return {"error": detail}
    return {"ok": {key: float(value) for key, value in figures.items()}}


def _worker(once: bool) -> int:
    channel = _take_stdout()
    for line in sys.stdin:
        if not line.strip():
            continue
        result = _run_job(json.loads(line))
        channel.write(json.dumps(result) + "\n")
        channel.flush()
        if once:
            break
    return 0


def _peer(case: str, role: str, impl: str, params: str) -> int:
    global _channel
    _channel = _take_stdout()
    # What peer() returns (its context and sockets) must live until the end:
    # collected, a socket with linger 0 would drop what it has not sent yet.
    keep = _case_module(case).peer(role, impl, json.loads(params))
    sys.stdin.read()  # hold until the worker lets go
    del keep
    return 0


def main(argv: list[str]) -> int:
    """Run as a worker (``[--once]``) or as a peer (``--peer CASE ROLE IMPL PARAMS``)."""
    if argv[:1] == ["--peer"] and len(argv) == 5:
        return _peer(*argv[1:])
    return _worker(once=argv == ["--once"])


if __name__ == "__main__":
    # Run in the importable module, not in __main__: cases import this one
    # (announce() must see the channel that main() set up).
    from gzmq.bench._process import main as _main

    sys.exit(_main(sys.argv[1:]))
