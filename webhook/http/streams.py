"""Bounds on open streams (SSE, ``stdout?follow=1``, the dashboard), per server process.

A stream is cheap under the gevent worker but not free (a socket, a greenlet, a wake-up
when its run changes): at most ``server.max_streams`` per process and
``server.max_streams_per_token`` per caller (the token's name; ``anonymous`` for requests
without one) per process. Beyond either, 503 with ``Retry-After``.
"""

import threading

from flask import g

from ..errors import ApiError
from .state import services


class StreamLimiter:
    def __init__(self, total, per_token):
        self.total, self.per_token = total, per_token
        self.open = 0
        self.by_token = {}
        self.lock = threading.Lock()

    def acquire(self, who, retry_after):
        with self.lock:
            if self.open >= self.total:
                raise ApiError(503, f"too many open streams on this server ({self.total}, "
                                    "server.max_streams); retry later",
                               headers={"Retry-After": str(retry_after)})
            if self.by_token.get(who, 0) >= self.per_token:
                raise ApiError(503, f"'{who}' already has {self.per_token} open streams "
                                    "(server.max_streams_per_token); close one or retry later",
                               headers={"Retry-After": str(retry_after)})
            self.open += 1
            self.by_token[who] = self.by_token.get(who, 0) + 1

    def release(self, who):
        with self.lock:
            self.open -= 1
            left = self.by_token.get(who, 1) - 1
            if left:
                self.by_token[who] = left
            else:
                self.by_token.pop(who, None)


def bounded(chunks):
    """Take a stream slot for the caller now (or raise 503) and free it when ``chunks``
    ends, fails or the client goes away."""
    svc = services()
    identity = getattr(g, "skyforge_identity", None)
    who = identity[0] if identity else "anonymous"
    svc.streams.acquire(who, svc.config.queue["retry_after"])

    def wrapped():
        try:
            yield from chunks
        finally:
            svc.streams.release(who)
    return wrapped()
