"""gunicorn settings, read from the service config ($SKYFORGE_CONFIG) and $SKYFORGE_BIND.

gevent workers: every connection is a greenlet, so open SSE streams, idle keep-alive
connections and slow clients cost a socket and a little memory, not a thread that API
calls and hooks would then wait for. ``server.connections`` bounds the connections of one
process; a request head must arrive within ``server.request_timeout`` seconds (so must
the next request on a kept-alive connection), and a body may not stall longer than that
(``webhook.http.hardening``). ``server.workers`` processes share the SQLite store.

A worker dies with its master (``post_fork``), so a master killed with ``kill -9`` leaves
no worker behind holding the port: the master started in its place binds at once.
"""

import gc
import importlib.metadata
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from webhook import config as _config  # noqa: E402
from webhook.executor.procs import PR_SET_PDEATHSIG, prctl  # noqa: E402

_cfg = _config.load()

bind = [_cfg.bind]
workers = _cfg.server["workers"]
worker_class = "gevent"
worker_connections = _cfg.server["connections"]
# gevent's worker reads each request head (the first one included) under this timeout
keepalive = max(1, int(round(_cfg.server["request_timeout"])))
timeout = 60
graceful_timeout = 10
accesslog = os.environ.get("SKYFORGE_ACCESS_LOG")  # unset: no access log (it costs req/s)
errorlog = "-"
# gunicorn's control socket defaults to one path in $HOME shared by every instance on the
# host; this service does not use it
control_socket_disable = True
loglevel = "info"


# gevent's monkey.patch_all(), the first thing a worker does, looks its plugin entry points
# up 25 times, and each look-up reads the metadata of every installed distribution (2,800
# file reads with this venv's 113: 0.4 s of each worker's boot, seconds on a busy host).
# The installed set does not change while a worker boots: the master reads it once, the
# workers use that copy until they are up (post_worker_init).
_entry_points = importlib.metadata.entry_points
_installed_entry_points = _entry_points()


def post_fork(server, _worker):
    # Left alone, an orphaned gevent worker notices its dead master only at its next 1 s
    # check and then takes seconds to exit on a busy host; meanwhile it keeps the listening
    # socket, the new master's bind fails ("Connection in use") and retries once a second.
    # It would cut its open requests on the way out all the same, so it may as well go now.
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server.pid:   # the master died before prctl took effect
        os._exit(0)
    importlib.metadata.entry_points = _installed_entry_points.select


def post_worker_init(_worker):
    importlib.metadata.entry_points = _entry_points
    # What the boot made (modules, the app, the catalog's validators: ~50k objects) lives as
    # long as the worker. Frozen, it is out of the collector's way: a full collection walks
    # only what requests and open streams made since, and stalls every connection of the
    # worker for 5-15 ms of CPU instead of 45-65 ms (measured with 1,000 open streams).
    gc.freeze()


def on_starting(server):
    """An API started on its own (no ``serve``) refuses a store it cannot use, as ``serve``
    and ``worker`` do: the reason (host and port, or the command to run) and exit code 2,
    not a worker that fails to boot over and over. Checked in a child process: psycopg
    imported here, before gevent patches the workers, would pick a wait function that
    blocks their event loop."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            from webhook.store import StoreError
            from webhook.store.backends import open_store
            try:
                open_store(_cfg).close()
                code = 0
            except StoreError as exc:
                print(f"store error: {exc}", file=sys.stderr)
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(2)
