"""gzmq.monkey: patching pyzmq so that plain ``import zmq`` code is cooperative.

Every case runs in a fresh interpreter: patching changes process-wide state.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

PATCHED_MODULES = ["zmq", "zmq.sugar", "zmq.sugar.context", "zmq.sugar.socket", "zmq.sugar.poll"]


def run_python(
    code: str, *args: str, module: bool = False, expect: int = 0, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (or ``python -m gzmq.monkey args`` with module=True) in a new interpreter."""
    command = [sys.executable, "-m", "gzmq.monkey", *args] if module else [sys.executable, "-c"]
    if not module:
        command += [textwrap.dedent(code), *args]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, cwd=cwd, check=False
    )
    assert result.returncode == expect, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def last_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_happens_on_import() -> None:
    """Importing gzmq, gzmq.green and gzmq.monkey patches nothing."""
    result = run_python(
        """
        import json
        import zmq
        original = zmq.Context, zmq.Socket, zmq.Poller, zmq.select, zmq.proxy
        import gzmq, gzmq.green, gzmq.monkey
        after = zmq.Context, zmq.Socket, zmq.Poller, zmq.select, zmq.proxy
        print(json.dumps([after == original, gzmq.monkey.is_patched()]))
        """
    )
    assert last_json(result) == [True, False]


def test_patch_replaces_every_name_where_it_lives() -> None:
    """patch() puts the green objects in zmq and in the zmq.sugar modules holding originals."""
    result = run_python(
        f"""
        import importlib, json
        import zmq, gzmq.green
        from gzmq import monkey
        held = {{}}
        for module_name in {PATCHED_MODULES!r}:
            module = importlib.import_module(module_name)
            held[module_name] = [n for n in gzmq.green.GREEN_NAMES if n in vars(module)]
        monkey.patch()
        wrong = []
        for module_name, names in held.items():
            module = importlib.import_module(module_name)
            for name in names:
                if getattr(module, name) is not getattr(gzmq.green, name):
                    wrong.append(module_name + "." + name)
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.REQ)
        print(json.dumps({{
            "wrong": wrong,
            "held": held,
            "all": all(monkey.is_patched(n) for n in gzmq.green.GREEN_NAMES),
            "context": type(ctx).__name__ + " " + type(ctx).__module__,
            "socket": isinstance(sock, gzmq.green.Socket),
            "poller": type(zmq.Poller()).__module__,
        }}))
        sock.close()
        """
    )
    report = last_json(result)
    assert report["wrong"] == []
    assert set(report["held"]["zmq"]) >= {"Context", "Socket", "Poller", "select", "proxy"}
    assert "Context" in report["held"]["zmq.sugar.context"]
    assert "Poller" in report["held"]["zmq.sugar.poll"]
    assert report["all"] and report["socket"]
    assert report["context"] == "Context gzmq.green.core"
    assert report["poller"] == "gzmq.green.poll"


def test_patch_is_idempotent_and_the_first_original_wins() -> None:
    """Patching twice changes nothing; a later replacement never overwrites the saved original."""
    result = run_python(
        """
        import json, zmq
        from gzmq import monkey
        pyzmq_context = zmq.Context
        monkey.patch()
        monkey.patch()
        twice = zmq.Context is monkey._replacements()["Context"]
        class Other(pyzmq_context):
            pass
        zmq.Context = Other          # somebody else patches in between
        monkey.patch()
        again = monkey.is_patched()
        kept = monkey.get_original("Context") is pyzmq_context
        monkey.unpatch()
        print(json.dumps([twice, again, kept, zmq.Context is pyzmq_context]))
        """
    )
    assert last_json(result) == [True, True, True, True]


def test_unpatch_restores_everything() -> None:
    """unpatch() puts every original back; green sockets made meanwhile still work."""
    result = run_python(
        f"""
        import importlib, json
        import zmq, gevent
        from gzmq import monkey
        modules = [importlib.import_module(name) for name in {PATCHED_MODULES!r}]
        before = [dict(vars(module)) for module in modules]
        monkey.patch()
        ctx = zmq.Context()
        rep, req = ctx.socket(zmq.REP), ctx.socket(zmq.REQ)
        rep.bind("inproc://x"); req.connect("inproc://x")
        monkey.unpatch()
        changed = [
            module.__name__ + "." + name
            for module, saved in zip(modules, before)
            for name, value in saved.items()
            if vars(module).get(name) is not value
        ]
        server = gevent.spawn(lambda: rep.send(rep.recv() + b"!"))
        req.send(b"still green")
        reply = req.recv()
        server.join()
        ctx.destroy(linger=0)
        fresh = type(zmq.Context()).__module__
        print(json.dumps([changed, monkey.is_patched(), reply.decode(), fresh]))
        """
    )
    assert last_json(result) == [[], False, "still green!", "zmq.sugar.context"]


def test_patched_context_manager() -> None:
    """patched() patches inside the block and restores after, unless it was patched before."""
    result = run_python(
        """
        import json
        from gzmq import monkey
        states = [monkey.is_patched()]
        with monkey.patched():
            states.append(monkey.is_patched())
        states.append(monkey.is_patched())
        monkey.patch()
        with monkey.patched():
            states.append(monkey.is_patched())
        states.append(monkey.is_patched())
        print(json.dumps(states))
        """
    )
    assert last_json(result) == [False, True, False, True, True]


def test_get_original() -> None:
    """get_original() returns pyzmq's objects, patched or not, by name or dotted path."""
    result = run_python(
        """
        import json
        import zmq, zmq.sugar.poll
        from gzmq import monkey
        poller, context = zmq.Poller, zmq.Context
        unpatched = monkey.get_original("Poller") is poller
        monkey.patch()
        answers = [
            unpatched,
            monkey.get_original("Poller") is poller,
            monkey.get_original("Context") is context,
            monkey.get_original("zmq.sugar.poll.Poller") is poller,
            zmq.Poller is not poller,
        ]
        try:
            monkey.get_original("Frame")
        except ValueError as error:
            answers.append("does not patch" in str(error))
        print(json.dumps(answers))
        """
    )
    assert last_json(result) == [True, True, True, True, True, True]


@pytest.mark.parametrize("how", ["Context()", "Context.instance()"])
def test_late_patch_warns(how: str) -> None:
    """Patching after a pyzmq context exists warns GzmqWarning (its sockets stay blocking)."""
    result = run_python(
        f"""
        import json, warnings
        import zmq
        ctx = zmq.{how}
        from gzmq import monkey
        from gzmq.errors import GzmqWarning
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            monkey.patch()
        print(json.dumps([
            [w.category.__name__ for w in caught],
            any(issubclass(w.category, GzmqWarning) and "context" in str(w.message)
                for w in caught),
            monkey.is_patched(),
        ]))
        """
    )
    categories, named, patched = last_json(result)
    assert categories == ["GzmqWarning"] and named and patched


def test_early_patch_does_not_warn() -> None:
    """Patching before any pyzmq context (except gzmq's own) exists is silent."""
    run_python(
        """
        import warnings
        warnings.simplefilter("error")
        import zmq
        import gzmq
        native = gzmq.Pull(linger=0)  # gzmq's own sockets and context are cooperative already
        from gzmq import monkey
        monkey.patch()
        ctx = zmq.Context.instance()
        ctx.term()
        native.close()
        """
    )


COOPERATION_CHECK = """
import json, time
import gevent
import zmq
ctx = zmq.Context()
rep = ctx.socket(zmq.REP)
rep.bind("inproc://slow")
req = ctx.socket(zmq.REQ)
req.connect("inproc://slow")
req.setsockopt(zmq.RCVTIMEO, 300)
ticks = []
ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(20)])
gevent.sleep(0)
req.send(b"nobody answers")
try:
    req.recv()
except zmq.Again:
    outcome = "timeout"
print(json.dumps([outcome, len(ticks)]))
"""


def test_plain_zmq_code_becomes_cooperative(tmp_path: Path) -> None:
    """Under python -m gzmq.monkey, a blocking recv in plain zmq code lets other greenlets run."""
    script = tmp_path / "plain.py"
    script.write_text(COOPERATION_CHECK)
    outcome, ticks = last_json(run_python("", str(script), module=True))
    assert outcome == "timeout" and ticks >= 10
    # The same script without the patch blocks the hub for the whole recv.
    unpatched = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    outcome, ticks = last_json(unpatched)
    assert outcome == "timeout" and ticks <= 1


def test_run_script_with_arguments(tmp_path: Path) -> None:
    """python -m gzmq.monkey script.py args: the script gets its argv, __main__ and exit code."""
    helper = tmp_path / "helper_module.py"
    helper.write_text("VALUE = 'importable'\n")
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys
            import zmq
            import helper_module
            from gzmq import monkey
            print(json.dumps([sys.argv, __name__, helper_module.VALUE, monkey.is_patched(),
                              type(zmq.Context.instance()).__module__]))
            sys.exit(3)
            """
        )
    )
    result = run_python("", str(script), "--flag", "value", module=True, expect=3)
    argv, name, value, patched, context_module = last_json(result)
    assert argv == [str(script), "--flag", "value"]
    assert (name, value, patched, context_module) == (
        "__main__",
        "importable",
        True,
        "gzmq.green.core",
    )


def test_run_module_and_gevent_option(tmp_path: Path) -> None:
    """python -m gzmq.monkey --gevent -m module args runs a module patched, gevent's stdlib too."""
    package = tmp_path / "app_package"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(
        textwrap.dedent(
            """
            import json, socket, sys
            import gevent.monkey
            from gzmq import monkey
            print(json.dumps([sys.argv[1:], __name__, monkey.is_patched(),
                              gevent.monkey.is_module_patched("socket")]))
            """
        )
    )
    result = run_python("", "--gevent", "-m", "app_package.main", "x", module=True, cwd=tmp_path)
    assert last_json(result) == [["x"], "__main__", True, True]


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "no script"), (["/nonexistent/script.py"], "no such script"), (["--bogus"], "unknown")],
)
def test_command_line_errors(args: list[str], message: str) -> None:
    """Bad command lines exit with status 2 and say what was wrong."""
    result = run_python("", *args, module=True, expect=2)
    assert message in result.stderr
    assert "usage:" in result.stderr or "no such script" in result.stderr


def test_help() -> None:
    """--help prints the usage and exits 0."""
    assert "usage: python -m gzmq.monkey" in run_python("", "--help", module=True).stdout


def test_thread_authenticator_works_patched() -> None:
    """pyzmq's ThreadAuthenticator (sockets made in one thread, used in another) works patched."""
    result = run_python(
        """
        import json
        from gzmq import monkey
        monkey.patch()
        import zmq
        from zmq.auth.thread import ThreadAuthenticator
        ctx = zmq.Context.instance()
        auth = ThreadAuthenticator(ctx)
        auth.start()
        auth.configure_plain(domain="*", passwords={"admin": "secret"})
        server = ctx.socket(zmq.PULL)
        server.plain_server = True
        server.rcvtimeo = 5000
        port = server.bind_to_random_port("tcp://127.0.0.1")
        client = ctx.socket(zmq.PUSH)
        client.plain_username, client.plain_password = b"admin", b"secret"
        client.connect(f"tcp://127.0.0.1:{port}")
        client.send(b"authenticated")
        got = server.recv()
        auth.stop()
        client.close(0); server.close(0)
        print(json.dumps([got.decode(), type(server).__module__]))
        """
    )
    assert last_json(result) == ["authenticated", "gzmq.green.core"]
