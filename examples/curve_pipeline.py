"""A CURVE-secured pipeline: the Authenticator admits known keys and refuses an intruder.

Run: ``python examples/curve_pipeline.py``.  One process, greenlets, tcp.

* Certificates for a server and a client are written into a temporary
  directory with ``gzmq.auth.create_certificates`` (pyzmq's file format);
  the client's public certificate is copied into an ``authorized``
  directory, the list of clients the server admits.
* ``gzmq.auth.Authenticator`` answers libzmq's ZAP requests from a
  greenlet, checking each CURVE client's key against that directory.
* The client's messages arrive, encrypted on the wire; an intruder with a
  key pair of its own (the server's public key is no secret) is refused:
  both sides see a ``handshake:error:auth`` event and nothing the intruder
  sends is delivered.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gevent

import gzmq
from gzmq import auth

MESSAGES = 5


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        certificates = Path(temp)
        authorized = certificates / "authorized"
        authorized.mkdir()
        _, server_secret_file = auth.create_certificates(certificates, "server")
        client_public_file, client_secret_file = auth.create_certificates(certificates, "client")
        shutil.copy(client_public_file, authorized)  # only the client's public key
        server_public, server_secret = auth.load_certificate(server_secret_file)
        client_public, client_secret = auth.load_certificate(client_secret_file)
        if server_secret is None or client_secret is None:
            raise SystemExit("the secret certificates have no secret key")
        print(f"certificates in {certificates}: {sorted(p.name for p in certificates.iterdir())}")

        with auth.Authenticator() as authenticator:
            authenticator.configure_curve(keys=authorized)

            # The server: a CURVE server with its secret key.
            worker = gzmq.Pull(curve_server=True, curve_secret_key=server_secret, linger=0)
            server_events = worker.events  # observe before bind(), to see every event
            worker.bind("tcp://127.0.0.1:*")
            print(f"worker listening on {worker.last_endpoint}, security={worker.security}")

            # The client knows the server's public key and has a key pair of its own.
            client = gzmq.Push(
                curve_server_key=server_public,
                curve_public_key=client_public,
                curve_secret_key=client_secret,
                linger=0,
            )
            client.connect(worker.last_endpoint)
            for number in range(MESSAGES):
                client.send(f"task {number}")
            frames = [worker.recv(timeout=5, copy=False)[0] for _ in range(MESSAGES)]
            received = [frame.bytes.decode() for frame in frames]
            print(f"worker received {len(received)} encrypted messages from the client: {received}")
            # The Authenticator's User-Id for a CURVE client is its public key.
            sender = frames[0].get("User-Id")
            print(f"sent by the client's key: {sender == client_public}")

            # The intruder: a valid CURVE handshake, but a key the server does not know.
            intruder_keys = gzmq.curve_keypair()
            intruder = gzmq.Push(
                curve_server_key=server_public,
                curve_public_key=intruder_keys.public,
                curve_secret_key=intruder_keys.secret,
                linger=0,
            )
            intruder_events = intruder.events
            refused = gevent.spawn(server_events.wait_for, "handshake:error:auth", timeout=5)
            gevent.sleep(0)  # let wait_for start listening before the intruder connects
            intruder.connect(worker.last_endpoint)
            intruder.send("let me in")  # queued: it never gets through
            event = intruder_events.wait_for("handshake:error:auth", timeout=5)
            print(f"intruder sees: {event}")
            print(f"worker sees:   {refused.get()}")
            try:
                leaked = worker.recv(timeout=0.5)
            except gzmq.Again:
                print("nothing from the intruder was delivered")
            else:
                raise SystemExit(f"the intruder's message was delivered: {leaked}")

            for sock in (client, intruder, worker):
                sock.close()
            counts = authenticator.statistics()
            print(f"authenticator: {counts['accepted']} accepted, {counts['refused']} refused")


if __name__ == "__main__":
    main()
