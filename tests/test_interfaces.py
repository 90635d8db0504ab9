"""zope.interface conformance of every class, both directions (DESIGN §2.3)."""

from __future__ import annotations

import pytest
from zope.interface.verify import verifyClass, verifyObject

import gzmq

READ_WRITE = [
    gzmq.Pair, gzmq.Request, gzmq.Reply, gzmq.Dealer, gzmq.Router,
    gzmq.XPublisher, gzmq.XSubscriber, gzmq.Stream,
]
READ_ONLY = [gzmq.Subscriber, gzmq.Pull]
WRITE_ONLY = [gzmq.Publisher, gzmq.Push]
ALL = READ_WRITE + READ_ONLY + WRITE_ONLY


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_class_and_instance_provide_isocket(cls: type, context: gzmq.Context) -> None:
    """Every socket class implements ISocket, and a live instance provides it."""
    assert verifyClass(gzmq.ISocket, cls)
    with cls(context=context, linger=0) as sock:
        assert verifyObject(gzmq.ISocket, sock)


@pytest.mark.parametrize("cls", READ_WRITE + READ_ONLY, ids=lambda cls: cls.__name__)
def test_readable_classes_provide_ireadable(cls: type, context: gzmq.Context) -> None:
    """Classes that can receive implement IReadable; instances provide it."""
    assert verifyClass(gzmq.IReadable, cls)
    with cls(context=context, linger=0) as sock:
        assert verifyObject(gzmq.IReadable, sock)
        assert hasattr(sock, "recv") and hasattr(sock, "recv_json")
        assert sock.readable is False  # live readiness: nothing to receive yet


@pytest.mark.parametrize("cls", READ_WRITE + WRITE_ONLY, ids=lambda cls: cls.__name__)
def test_writable_classes_provide_iwritable(cls: type, context: gzmq.Context) -> None:
    """Classes that can send implement IWritable; instances provide it."""
    assert verifyClass(gzmq.IWritable, cls)
    with cls(context=context, linger=0) as sock:
        assert verifyObject(gzmq.IWritable, sock)
        assert hasattr(sock, "send") and hasattr(sock, "send_json")
        assert isinstance(sock.writable, bool)  # live readiness (a ROUTER is always writable)


@pytest.mark.parametrize("cls", WRITE_ONLY, ids=lambda cls: cls.__name__)
def test_send_only_classes_cannot_receive(cls: type, context: gzmq.Context) -> None:
    """Publisher and Push neither implement IReadable nor have recv()."""
    assert not gzmq.IReadable.implementedBy(cls)
    assert not hasattr(cls, "recv")
    with cls(context=context, linger=0) as sock:
        assert not gzmq.IReadable.providedBy(sock)
        assert sock.readable is False
        with pytest.raises(AttributeError):
            sock.recv()  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", READ_ONLY, ids=lambda cls: cls.__name__)
def test_receive_only_classes_cannot_send(cls: type, context: gzmq.Context) -> None:
    """Subscriber and Pull neither implement IWritable nor have send()."""
    assert not gzmq.IWritable.implementedBy(cls)
    assert not hasattr(cls, "send")
    with cls(context=context, linger=0) as sock:
        assert not gzmq.IWritable.providedBy(sock)
        assert sock.writable is False


def test_context_provides_icontext() -> None:
    """Context implements IContext and a live one provides it."""
    assert verifyClass(gzmq.IContext, gzmq.Context)
    ctx = gzmq.Context()
    try:
        assert verifyObject(gzmq.IContext, ctx)
    finally:
        ctx.close()


def test_only_subscriber_subscribes() -> None:
    """subscribe()/unsubscribe() exist on Subscriber only."""
    assert hasattr(gzmq.Subscriber, "subscribe") and hasattr(gzmq.Subscriber, "unsubscribe")
    for cls in ALL:
        if cls is not gzmq.Subscriber:
            assert not hasattr(cls, "subscribe"), cls
