"""gunicorn settings, read from the service config ($SKYFORGE_CONFIG) and $SKYFORGE_BIND.

gthread workers: each SSE stream holds one thread while it is open and waits on a
condition variable (no polling per stream), so ``server.threads`` bounds the concurrent
streams per worker process; ``server.workers`` processes share the SQLite store.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from webhook import config as _config  # noqa: E402

_cfg = _config.load()

bind = [_cfg.bind]
workers = _cfg.server["workers"]
threads = _cfg.server["threads"]
worker_class = "gthread"
keepalive = 30
timeout = 60
graceful_timeout = 10
accesslog = os.environ.get("SKYFORGE_ACCESS_LOG")  # unset: no access log (it costs req/s)
errorlog = "-"
# gunicorn's control socket defaults to one path in $HOME shared by every instance on the
# host; this service does not use it
control_socket_disable = True
loglevel = "info"
