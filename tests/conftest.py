"""Shared fixtures: transports, endpoints, and a leak check on sockets."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import gzmq

TRANSPORTS = ["tcp", "ipc", "inproc"]
_counter = itertools.count()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """Each transport in turn: tcp, ipc and inproc."""
    name: str = request.param
    if name == "ipc" and not gzmq.capability["ipc"]:
        pytest.skip("this libzmq has no ipc transport")
    return name


@pytest.fixture
def endpoint(transport: str, tmp_path: Path) -> Callable[[], str]:
    """A factory of fresh bind endpoints on the current transport."""

    def make() -> str:
        number = next(_counter)
        if transport == "tcp":
            return "tcp://127.0.0.1:*"
        if transport == "ipc":
            return f"ipc://{tmp_path}/s{number}.ipc"
        return f"inproc://test-{os.getpid()}-{number}"

    return make


@pytest.fixture
def context() -> Iterator[gzmq.Context]:
    """A fresh context, closed (sockets and all) after the test."""
    ctx = gzmq.Context()
    yield ctx
    ctx.close(linger=0)


@pytest.fixture
def connected(context: gzmq.Context) -> Callable[..., tuple]:
    """A factory: ``connected(BindCls, ConnectCls, endpoint, **options)`` -> (bound, connecting)."""

    def make(bind_cls: type, connect_cls: type, address: str, **options: object) -> tuple:
        options.setdefault("linger", 0)
        server = bind_cls(context=context, **options)
        server.bind(address)
        client = connect_cls(context=context, **options)
        client.connect(server.last_endpoint)
        return server, client

    return make
