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


# -- zmq.green: pyzmq's gevent package resolves to gzmq.green ---------------------------

PYZMQ_GREEN_MODULES = """
import os, zmq
root = os.path.join(os.path.dirname(zmq.__file__), "green")
names = []
for folder, _, files in os.walk(root):
    package = "zmq." + os.path.relpath(folder, os.path.dirname(root)).replace(os.sep, ".")
    for file in sorted(files):
        if file == "__init__.py":
            names.append(package)
        elif file.endswith(".py"):
            names.append(package + "." + file[:-3])
names.sort()
"""


def test_zmq_green_imported_after_patch_is_gzmq_green() -> None:
    """After patch(), import zmq.green (and its modules) gives gzmq.green's, cooperative."""
    result = run_python(
        """
        import json, sys
        from gzmq import monkey
        monkey.patch()
        import zmq.green.core, zmq.green.poll, zmq.green.device
        import zmq.green as green
        from zmq.green import Context, Poller, device
        from zmq.green.core import Socket
        import gevent, gzmq.green
        same = [
            green is gzmq.green,
            sys.modules["zmq.green.core"] is gzmq.green.core,
            sys.modules["zmq.green.poll"] is gzmq.green.poll,
            sys.modules["zmq.green.device"] is sys.modules["gzmq.green.device"],
            Context is gzmq.green.Context and Socket is gzmq.green.Socket,
            Poller is gzmq.green.Poller and device is gzmq.green.device,  # the function
            zmq.green is gzmq.green,
        ]
        pyzmq_green_loaded = sorted(
            name for name, module in sys.modules.items()
            if "zmq/green/" in (getattr(module, "__file__", None) or "")
            and not module.__name__.startswith("gzmq")
        )
        ctx = green.Context()
        rep, req = ctx.socket(green.REP), ctx.socket(green.REQ)
        port = rep.bind_to_random_port("tcp://127.0.0.1")
        req.connect(f"tcp://127.0.0.1:{port}")
        req.rcvtimeo = 200  # zmq.green ignores it; gzmq.green honours it
        ticks = []
        ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(10)])
        req.send(b"nobody answers yet")
        try:
            req.recv()
            outcome = "answered"
        except green.Again:
            outcome = "timed out"
        ticker.join()
        print(json.dumps([same, pyzmq_green_loaded, outcome, len(ticks),
                          type(req).__module__, monkey.is_patched("zmq.green")]))
        ctx.destroy(linger=0)
        """
    )
    same, loaded, outcome, ticks, socket_module, patched = last_json(result)
    assert same == [True] * 7
    assert loaded == []  # pyzmq's zmq.green was never imported
    assert (outcome, ticks, socket_module, patched) == ("timed out", 10, "gzmq.green.core", True)


def test_every_module_of_pyzmq_green_has_a_namesake() -> None:
    """Each module of the installed pyzmq's zmq.green imports as gzmq.green's namesake, patched."""
    result = run_python(
        PYZMQ_GREEN_MODULES
        + """
import importlib, json
from gzmq import monkey
monkey.patch()
outcomes = {}
for name in names:
    try:
        module = importlib.import_module(name)
    except ImportError as error:  # the same import fails in pyzmq's (tornado absent)
        outcomes[name] = "ImportError: " + str(error.name)
    else:
        outcomes[name] = module.__name__
monkey.unpatch()
originals = {}
for name in names:
    try:
        originals[name] = importlib.import_module(name).__name__
    except ImportError as error:
        originals[name] = "ImportError: " + str(error.name)
print(json.dumps([names, outcomes, originals]))
"""
    )
    names, outcomes, originals = last_json(result)
    assert {"zmq.green", "zmq.green.core", "zmq.green.poll", "zmq.green.device"} <= set(names)
    assert "zmq.green.eventloop.zmqstream" in names
    for name in names:
        if originals[name].startswith("ImportError"):
            assert outcomes[name] == originals[name], name  # fails alike (a missing tornado)
        else:
            assert (originals[name], outcomes[name]) == (name, "g" + name)


def test_patch_after_zmq_green_was_imported_warns_and_names_its_users() -> None:
    """Patching after import zmq.green warns, naming what still uses pyzmq's; the rest is gzmq's."""
    result = run_python(
        """
        import json, sys, warnings
        import zmq.green as zmq
        from zmq.green import Context as EarlyContext
        class AppSocket(zmq.Socket):
            pass
        early = zmq.Context()
        pyzmq_green = zmq
        from gzmq import monkey
        import gzmq.green
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            monkey.patch()
        import zmq.green as later
        late_ctx = zmq.Context()  # through the module object imported before the patch
        print(json.dumps({
            "warnings": [(w.category.__name__, str(w.message)) for w in caught],
            "later": later is gzmq.green,
            "core": sys.modules["zmq.green.core"] is gzmq.green.core,
            "through_old_module": [
                zmq.Context is gzmq.green.Context, zmq.Poller is gzmq.green.Poller,
                zmq.select is gzmq.green.select, zmq.device is gzmq.green.device,
                type(late_ctx) is gzmq.green.Context,
            ],
            "original": monkey.get_original("zmq.green") is pyzmq_green
                        and monkey.get_original("zmq.green.Context") is EarlyContext,
        }))
        late_ctx.term()
        early.term()
        """
    )
    report = last_json(result)
    [(category, message)] = report["warnings"]
    assert category == "GzmqWarning"
    assert "zmq.green was imported" in message
    assert "__main__.AppSocket" in message and "__main__.EarlyContext" in message
    assert "1 zmq.green context(s)" in message
    assert report["later"] and report["core"] and report["original"]
    assert report["through_old_module"] == [True] * 5


@pytest.mark.parametrize("imported_before", [False, True], ids=["not-imported", "imported-before"])
def test_unpatch_restores_zmq_green(imported_before: bool) -> None:
    """unpatch() gives back pyzmq's zmq.green: the modules imported before, or a fresh import."""
    result = run_python(
        f"""
        import json, sys, warnings
        import zmq
        warnings.simplefilter("ignore")
        if {imported_before}:
            import zmq.green
        before = {{n: m for n, m in sys.modules.items() if n.startswith("zmq.green")}}
        before_attrs = dict(vars(before["zmq.green"])) if before else {{}}
        from gzmq import monkey
        import gzmq.green
        monkey.patch()
        import zmq.green.core
        monkey.unpatch()
        after = {{n: m for n, m in sys.modules.items() if n.startswith("zmq.green")}}
        import zmq.green as green
        print(json.dumps([
            monkey.is_patched("zmq.green"),
            sorted(n for n, m in after.items() if m.__name__.startswith("gzmq")),
            all(after.get(n) is m for n, m in before.items()),
            [k for k, v in before_attrs.items() if vars(green).get(k) is not v],
            green is not gzmq.green and green.Context.__mro__[1] is zmq.Context,
            zmq.green is green,
        ]))
        """
    )
    patched, aliases_left, same_modules, changed, pyzmqs, bound = last_json(result)
    assert (patched, aliases_left, same_modules, changed, pyzmqs, bound) == (
        False,
        [],
        True,
        [],
        True,
        True,
    )


def test_is_patched_and_get_original_cover_zmq_green() -> None:
    """is_patched("zmq.green") follows the patch; get_original gives pyzmq's modules and names."""
    result = run_python(
        """
        import json
        from gzmq import monkey
        import gzmq.green
        answers = [monkey.is_patched("zmq.green")]
        with monkey.patched():
            import zmq.green
            answers.append(monkey.is_patched("zmq.green") and monkey.is_patched("zmq.green.core"))
            original = monkey.get_original("zmq.green")
            core = monkey.get_original("zmq.green.core")
            answers += [
                original is not gzmq.green and original.__name__ == "zmq.green",
                core.__name__ == "zmq.green.core" and core is not gzmq.green.core,
                monkey.get_original("zmq.green.Context") is original.Context,
                monkey.get_original("zmq.green.core._Socket") is core._Socket,
                # imported against pyzmq's own classes, not stacked on gzmq.green's
                not issubclass(original.Socket, gzmq.green.Socket),
                zmq.green is gzmq.green,
            ]
            try:
                monkey.get_original("zmq.green.no_such_thing")
            except ValueError as error:
                answers.append("no_such_thing" in str(error))
        answers.append(monkey.is_patched("zmq.green"))
        import zmq.green as after
        answers.append(after is original)
        print(json.dumps(answers))
        """
    )
    assert last_json(result) == [False, True, True, True, True, True, True, True, True, False, True]


def test_python_m_gzmq_monkey_covers_zmq_green(tmp_path: Path) -> None:
    """python -m gzmq.monkey runs an import-zmq.green script on gzmq.green."""
    script = tmp_path / "green_app.py"
    script.write_text(
        textwrap.dedent(
            """
            import json
            import zmq.green as zmq
            ctx = zmq.Context.instance()
            sock = ctx.socket(zmq.PULL)
            sock.rcvtimeo = 100
            try:
                sock.recv()
            except zmq.Again:
                outcome = "timed out"
            print(json.dumps([zmq.__name__, type(sock).__module__, outcome]))
            sock.close(0)
            """
        )
    )
    assert last_json(run_python("", str(script), module=True)) == [
        "gzmq.green",
        "gzmq.green.core",
        "timed out",
    ]


OWN_GREEN_LAYER = """
import errno
import gevent, gevent.event
import zmq


class LayeredSocket(zmq.Socket):
    '''A library's own green layer on zmq.Socket: NOBLOCK calls, its own FD watcher.'''

    _ready: gevent.event.Event
    _watcher: object

    def __init__(self, context, socket_type):
        super().__init__(context, socket_type)
        self._ready = gevent.event.Event()
        self._watcher = gevent.get_hub().loop.io(self.getsockopt(zmq.FD), 1)
        self._watcher.start(self._ready.set)

    def close(self, linger=None):
        if not self.closed:
            self._watcher.stop()
        super().close(linger)

    def _wait(self, flag):
        while not self.getsockopt(zmq.EVENTS) & flag:
            self._ready.clear()
            self._ready.wait(timeout=1.0)

    def send(self, data, flags=0, copy=True, track=False):
        while True:
            try:
                return super().send(data, flags | zmq.NOBLOCK, copy=copy, track=track)
            except zmq.ZMQError as error:
                if error.errno != errno.EAGAIN or flags & zmq.NOBLOCK:
                    raise
            self._wait(zmq.POLLOUT)

    def recv(self, flags=0, copy=True, track=False):
        while True:
            try:
                return super().recv(flags | zmq.NOBLOCK, copy=copy, track=track)
            except zmq.ZMQError as error:
                if error.errno != errno.EAGAIN or flags & zmq.NOBLOCK:
                    raise
            self._wait(zmq.POLLIN)


class LayeredContext(zmq.Context):
    _socket_class = LayeredSocket
"""


@pytest.mark.parametrize("order", ["layer-then-patch", "patch-then-layer"])
def test_a_librarys_own_green_layer_keeps_working(order: str, tmp_path: Path) -> None:
    """A zerorpc-style green layer of a library's own works, imported before or after patch()."""
    (tmp_path / "layer.py").write_text(OWN_GREEN_LAYER)
    first, second = (
        ("import layer", "from gzmq import monkey; monkey.patch()")
        if order == "layer-then-patch"
        else ("from gzmq import monkey; monkey.patch()", "import layer")
    )
    result = run_python(
        f"""
        import json, sys, warnings
        warnings.simplefilter("error")
        sys.path.insert(0, {str(tmp_path)!r})
        {first}
        {second}
        import gevent, zmq, gzmq.green
        ctx = layer.LayeredContext()
        router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer.connect(f"tcp://127.0.0.1:{{port}}")
        ticks = []
        ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.005)) for _ in range(20)])

        def serve():
            for _ in range(200):
                peer, *body = router.recv_multipart()
                router.send_multipart([peer, b"re:" + body[0], *body[1:]])

        server = gevent.spawn(serve)
        gevent.sleep(0.05)  # the server waits in recv first: a real wait on the FD
        replies = []
        for number in range(200):
            dealer.send_multipart([b"%d" % number, b"x" * (number % 3)])
            replies.append(dealer.recv_multipart())
        server.get(timeout=30)
        ticker.join()
        ok = all(reply == [b"re:%d" % n, b"x" * (n % 3)] for n, reply in enumerate(replies))
        print(json.dumps([ok, len(ticks), issubclass(layer.LayeredSocket, gzmq.green.Socket),
                          type(router).__name__]))
        router.close(0); dealer.close(0); ctx.term()
        """
    )
    ok, ticks, on_gzmq, kind = last_json(result)
    assert ok and ticks == 20 and kind == "LayeredSocket"
    assert on_gzmq is (order == "patch-then-layer")
