"""gzmq.monkey and zmq.green: pyzmq's gevent package resolves to gzmq.green when patched.

Every case runs in a fresh interpreter (test_monkey's helpers): patching changes
process-wide state.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_monkey import last_json, run_python

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
