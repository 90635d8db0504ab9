"""Frame-by-frame sends and receives (gzmq._reservations), and what readiness sees of them.

pyzmq code sends ``send(a, SNDMORE); send(b)`` and receives frame by frame
until RCVMORE is 0.  With libzmq a frame-by-frame send waits (and times out,
and can be killed) at its first frame only; the receiver gets whole messages
only.  gzmq.green must behave so, with many greenlets on one socket, and
every readiness API must see what the core holds outside libzmq.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import greenlet
import pytest
import zmq

import gzmq
import gzmq.green

PROMPTLY = 5.0


@pytest.fixture
def green() -> Iterator[Any]:
    """A gzmq.green Context, destroyed after the test."""
    ctx = gzmq.green.Context()
    yield ctx
    ctx.destroy(linger=0)


def _pair(green: Any, address: str, hwm: int = 1) -> tuple[Any, Any]:
    """A green PUSH -> PULL at high water mark ``hwm`` (small fixed tcp buffers)."""
    pull = green.socket(zmq.PULL)
    push = green.socket(zmq.PUSH)
    for sock in (pull, push):
        sock.linger = 0
        sock.sndbuf = sock.rcvbuf = 8192
    pull.rcvhwm = hwm
    push.sndhwm = hwm
    pull.bind(address)
    push.connect(pull.last_endpoint if address.startswith("tcp") else address)
    return push, pull


#: Large enough that tcp's kernel buffers fill after a few messages.
FILL = b"f" * 16384


def _fill(push: Any) -> int:
    """Send until the socket stays unwritable (over tcp the kernel's buffers too)."""
    sent = 0
    quiet = 0
    while quiet < 20:
        try:
            push.send(FILL, zmq.NOBLOCK)
            sent += 1
            quiet = 0
        except zmq.Again:
            quiet += 1
            gevent.sleep(0.005)
    return sent


def _drain(pull: Any, at_least: int = 0) -> list[list[bytes]]:
    """Every whole message queued now: ``at_least`` of them (waiting for tcp/ipc to deliver
    what their kernel buffers hold), then whatever else comes within 50 ms."""
    got = []
    while len(got) < at_least or pull.poll(50, zmq.POLLIN):
        got.append(pull.recv_multipart())
    return got


# -- defect 8: a held header is never dropped -------------------------------------------------


def test_a_body_never_goes_without_its_header(green: Any) -> None:
    """send(header, SNDMORE|NOBLOCK) is held; another greenlet's sends cannot fill the queue
    before the body; a body that meets zmq.Again keeps its header for the retry."""
    push, pull = _pair(green, "inproc://held-header")
    push.send(b"header", zmq.SNDMORE | zmq.NOBLOCK)
    others: list[object] = []

    def other() -> None:
        try:
            push.send(b"other", zmq.NOBLOCK)
            others.append("sent")
        except zmq.Again:
            others.append("again")

    gevent.spawn(other).join(PROMPTLY)
    sent = False
    for _ in range(100):
        try:
            push.send(b"body", zmq.NOBLOCK)
            sent = True
            break
        except zmq.Again:
            pull.recv_multipart()  # make room, then retry the body
    assert sent, "the body never went"
    got = [pull.recv_multipart(), *_drain(pull)]
    assert [b"header", b"body"] in got, got
    assert [b"body"] not in got, "a body arrived without its header"
    assert others == ["again"], "another greenlet's send got in while a message was open"


# -- issue 19 point 6: where a frame-by-frame send waits ------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
@pytest.mark.parametrize("how", ["kill", "sndtimeo", "gevent.Timeout"])
def test_a_frame_by_frame_send_waits_at_its_first_frame(
    how: str, transport: str, green: Any, tmp_path: Any
) -> None:
    """At the high water mark, send(frame, SNDMORE) waits (and times out, or is killed) at the
    first frame, as libzmq does; nothing of that message ever arrives."""
    address = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/ff.ipc",
               "inproc": "inproc://first-frame"}[transport]
    push, pull = _pair(green, address)
    filled = _fill(push)
    reached: list[int] = []

    def sender() -> None:
        for index, frame in enumerate([b"a", b"b", b"c"]):
            reached.append(index)
            push.send(frame, zmq.SNDMORE if index < 2 else 0)

    if how == "sndtimeo":
        push.sndtimeo = 50
        glet = gevent.spawn(sender)
        with pytest.raises(zmq.Again):
            glet.get(timeout=PROMPTLY)
    elif how == "gevent.Timeout":
        def timed() -> None:
            with gevent.Timeout(0.05, False):
                sender()

        gevent.spawn(timed).join(PROMPTLY)
    else:
        glet = gevent.spawn(sender)
        gevent.sleep(0.05)
        assert not glet.dead, "the first frame did not wait at the high water mark"
        glet.kill()
    assert reached == [0], f"the send went past its first frame: {reached}"
    got = _drain(pull, at_least=filled)
    assert got == [[FILL]] * filled, "a message of the interrupted send arrived"
    push.sndtimeo = -1
    push.send_multipart([b"next", b"whole"])  # the socket is usable, nothing mixed in
    assert pull.recv_multipart() == [b"next", b"whole"]


@pytest.mark.parametrize("position", [1, 2])
def test_a_sender_killed_between_frames_sends_nothing(position: int, green: Any) -> None:
    """A greenlet killed after frame ``position - 1`` of its message: none of it arrives,
    and the next message (another greenlet's) arrives whole, unmixed."""
    push, pull = _pair(green, "inproc://killed-mid", hwm=10)
    paused = gevent.event.Event()

    def sender() -> None:
        for index, frame in enumerate([b"a", b"b", b"c"]):
            if index == position:
                paused.set()
                gevent.sleep(10)  # killed here
            push.send(frame, zmq.SNDMORE if index < 2 else 0)

    glet = gevent.spawn(sender)
    assert paused.wait(PROMPTLY)
    other = gevent.spawn(push.send_multipart, [b"other", b"message"])
    gevent.sleep(0.02)
    assert not other.ready(), "another greenlet's message went while one was open"
    glet.kill()
    other.get(timeout=PROMPTLY)
    assert _drain(pull) == [[b"other", b"message"]]


def test_frames_after_the_first_never_wait(green: Any) -> None:
    """Once the first frame passed, the later ones return at once (libzmq takes the rest of a
    message whose first frame it took), even with other senders waiting."""
    push, pull = _pair(green, "inproc://later-frames", hwm=1)
    push.send(b"first", zmq.SNDMORE)
    waiting_sender = gevent.spawn(push.send, b"queued behind")
    gevent.sleep(0.01)
    for frame in (b"2", b"3"):
        push.send(frame, zmq.SNDMORE | zmq.NOBLOCK)
    push.send(b"last", zmq.NOBLOCK)
    assert pull.recv_multipart() == [b"first", b"2", b"3", b"last"]
    waiting_sender.get(timeout=PROMPTLY)
    assert pull.recv_multipart() == [b"queued behind"]


# -- frame-by-frame receives ----------------------------------------------------------------


def test_frame_by_frame_receivers_never_interleave(green: Any) -> None:
    """Several greenlets reading frame by frame from one socket each get whole messages."""
    push, pull = _pair(green, "inproc://interleave", hwm=1000)
    got: list[list[bytes]] = []

    def reader() -> None:
        while True:
            frames = [pull.recv()]
            while pull.rcvmore:
                gevent.sleep(0)  # let the others try to read meanwhile
                frames.append(pull.recv())
            if frames == [b"end"]:
                return
            got.append(frames)

    readers = [gevent.spawn(reader) for _ in range(5)]
    for number in range(200):
        push.send_multipart([b"%d" % number, b"%d-1" % number, b"%d-2" % number])
    for _ in readers:
        push.send(b"end")
    gevent.joinall(readers, timeout=PROMPTLY, raise_error=True)
    assert sorted(got) == sorted(
        [[b"%d" % n, b"%d-1" % n, b"%d-2" % n] for n in range(200)]
    )


def test_a_reader_dying_mid_message_drops_only_its_message(green: Any) -> None:
    """A greenlet killed after the first frame of a message: the rest of that message is
    dropped, and the next receiver gets the next message whole."""
    push, pull = _pair(green, "inproc://dying-reader", hwm=100)
    push.send_multipart([b"1", b"1-1", b"1-2"])
    push.send_multipart([b"2", b"2-1"])

    def reader() -> None:
        pull.recv()
        gevent.sleep(10)  # killed here, holding the rest of message 1

    glet = gevent.spawn(reader)
    gevent.sleep(0.01)
    follower = gevent.spawn(pull.recv_multipart)
    gevent.sleep(0.01)
    assert not follower.ready(), "another greenlet read while a message was open"
    glet.kill()
    assert follower.get(timeout=PROMPTLY) == [b"2", b"2-1"]


# -- issue 19 point 1: every readiness API sees what gzmq holds outside libzmq --------------

_APIS: dict[str, Callable[[Any], bool]] = {
    "select": lambda sock: sock in gzmq.green.select([sock], [], [], 0)[0],
    "Poller": lambda sock: _poller(sock).poll(0) == [(sock, zmq.POLLIN)],
    "poll()": lambda sock: bool(sock.poll(0, zmq.POLLIN)),
    "getsockopt(EVENTS)": lambda sock: bool(sock.getsockopt(zmq.EVENTS) & zmq.POLLIN),
    "get(EVENTS)": lambda sock: bool(sock.get(zmq.EVENTS) & zmq.POLLIN),
    "gzmq.select": lambda sock: sock in gzmq.select([sock], [], [], 0)[0],
}


def _poller(sock: Any) -> Any:
    poller = gzmq.green.Poller()
    poller.register(sock, zmq.POLLIN)
    return poller


def _hold_a_message(pull: Any, push: Any) -> None:
    """Make the core hold a whole message for the next receiver: a served receiver is
    interrupted (by another served in the same hand-off) before it takes its message."""
    victim: Any = None

    def killer() -> None:
        pull.recv()
        assert victim is not None
        victim.parent = greenlet.getcurrent()  # come back here once it has died
        victim.throw(gevent.GreenletExit)  # synchronous, inside the hand-off

    first = gevent.spawn(killer)
    gevent.sleep(0)
    victim = gevent.spawn_raw(pull.recv)  # raw: it can be sent back to its killer
    gevent.sleep(0.01)
    push.send(b"one")
    push.send(b"held")
    time.sleep(0.2)  # both arrive before the hub looks: one hand-off serves both receivers
    first.join(PROMPTLY)
    assert victim.dead and first.dead
    assert pull._g.waiting._held == 1, "the core did not hold the interrupted message"


@pytest.mark.parametrize("api", sorted(_APIS))
@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_readiness_sees_a_message_the_core_holds(
    api: str, transport: str, green: Any, tmp_path: Any
) -> None:
    """A message the core holds for the next recv() (outside libzmq) is readable for every API."""
    address = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/held.ipc",
               "inproc": "inproc://held"}[transport]
    push, pull = _pair(green, address, hwm=100)
    _hold_a_message(pull, push)
    assert _APIS[api](pull), f"{api} does not see the held message"
    assert pull.recv(zmq.NOBLOCK) == b"held"


@pytest.mark.parametrize("api", sorted(_APIS))
@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_readiness_sees_the_rest_of_a_message_read_frame_by_frame(
    api: str, transport: str, green: Any, tmp_path: Any
) -> None:
    """Between the frames of a message read frame by frame, every API says readable and
    RCVMORE says more, as with libzmq (the rest stays in libzmq until asked for)."""
    address = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/rest.ipc",
               "inproc": "inproc://rest"}[transport]
    push, pull = _pair(green, address, hwm=100)
    push.send_multipart([b"a", b"b", b"c"])
    assert pull.recv() == b"a"
    assert pull.rcvmore
    assert _APIS[api](pull), f"{api} does not see the rest of the message"
    assert pull.recv() == b"b"
    assert _APIS[api](pull)
    assert pull.recv() == b"c"
    assert not pull.rcvmore


def test_a_parked_poll_is_woken_when_another_greenlets_read_leaves_frames(green: Any) -> None:
    """A greenlet polling a socket is woken when another greenlet's recv() of a first frame
    leaves the rest of the message to read."""
    push, pull = _pair(green, "inproc://poll-woken", hwm=100)
    poller = _poller(pull)
    results: list[object] = []

    def first_frame_then_wait() -> None:
        pull.recv()  # parks, then gets frame "a"
        gevent.sleep(0.5)  # holds the rest meanwhile

    reader = gevent.spawn(first_frame_then_wait)
    gevent.sleep(0.01)
    polling = gevent.spawn(lambda: results.append(poller.poll(5000)))
    gevent.sleep(0.01)
    push.send_multipart([b"a", b"b"])
    polling.join(1.0)
    assert results == [[(pull, zmq.POLLIN)]], "the poll was not woken"
    reader.kill()


def test_writable_is_false_for_others_while_a_message_is_open(green: Any) -> None:
    """While a greenlet's frame-by-frame message keeps the send queue, other greenlets see
    the socket not writable; the sender itself sees it writable."""
    push, pull = _pair(green, "inproc://open-send", hwm=10)
    push.send(b"open", zmq.SNDMORE)
    assert push.poll(0, zmq.POLLOUT)
    seen: list[int] = []
    gevent.spawn(lambda: seen.append(push.poll(0, zmq.POLLOUT))).join(PROMPTLY)
    assert seen == [0]
    push.send(b"closed")
    assert pull.recv_multipart() == [b"open", b"closed"]


@pytest.mark.parametrize("transport", ["tcp", "ipc", "inproc"])
def test_rcvmore_answers_for_the_calling_greenlet(
    transport: str, green: Any, tmp_path: Any
) -> None:
    """Two greenlets reading frame by frame, served in one hand-off pass (a one-frame
    message, then a multipart one): RCVMORE tells each about its own message, never the
    other's, so neither reads past the end of its message into the other's."""
    address = {"tcp": "tcp://127.0.0.1:*", "ipc": f"ipc://{tmp_path}/more.ipc",
               "inproc": "inproc://more"}[transport]
    push, pull = _pair(green, address, hwm=100)
    got: dict[str, list[bytes]] = {}

    def read(name: str) -> None:
        frames = [pull.recv()]
        while pull.rcvmore:
            frames.append(pull.recv())
        got[name] = frames

    readers = [gevent.spawn(read, name) for name in ("first", "second")]
    gevent.sleep(0.01)
    assert len(pull._g.waiting.readers) == 2, "the two readers did not both park"
    push.send(b"one")
    push.send_multipart([b"two-a", b"two-b"])
    gevent.joinall(readers, timeout=PROMPTLY)
    assert got == {"first": [b"one"], "second": [b"two-a", b"two-b"]}


def test_a_frame_by_frame_receiver_parked_behind_a_held_message_takes_it(green: Any) -> None:
    """A message held for the next receiver while a frame-by-frame receiver is parked behind
    it: that receiver is woken and takes it, without waiting for another message."""
    push, pull = _pair(green, "inproc://held-behind", hwm=100)
    got: list[bytes] = []
    victim: Any = None

    def killer() -> None:
        pull.recv()
        assert victim is not None
        victim.parent = greenlet.getcurrent()
        victim.throw(gevent.GreenletExit)  # synchronous, inside the hand-off

    first = gevent.spawn(killer)
    gevent.sleep(0)
    victim = gevent.spawn_raw(pull.recv)
    gevent.sleep(0)
    behind = gevent.spawn(lambda: got.append(pull.recv()))
    gevent.sleep(0.01)
    push.send(b"one")
    push.send(b"held")
    behind.join(PROMPTLY)
    first.join(PROMPTLY)
    assert got == [b"held"], "the receiver behind the held message was left parked"
