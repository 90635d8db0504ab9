"""A differential test of gzmq's two cores (issue 15): C accelerator and pure Python.

One seeded generator (plan.py) makes scenarios of concurrent acts over
tcp, ipc or inproc, on typed gzmq sockets and gzmq.green: pipelines with
several greenlets per socket (PUSH/PULL, DEALER/DEALER, DEALER/ROUTER,
PAIR; multipart; high water marks 1-100; every send and receive form;
per-call timeouts, gevent.Timeout, kills, a sender closed under its
greenlets), a ROUTER with mandatory=True whose clients leave and which
sends to unknown peers, REQ/REP misuse, greenlets parked on sockets that
get closed, and the hub blocked on purpose before failing calls.  The
runner (runner.py) plays a seed and reports verdicts and deterministic
results that must not depend on timing (ledger.py says which); run in C
and in pure-Python mode, a seed's outcomes must be equal, every verdict
True.  tests/test_differential.py does that for a few seeds,
.ci/differential for hundreds.

Run it by hand from tests/: ``python -m differential --mode c --seed 7``.
This package imports gzmq only when a seed runs, so that ``--mode pure``
can set GZMQ_PURE_PYTHON first.
"""
