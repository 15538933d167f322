"""Small process helpers shared by the test-server starters."""

import os
import socket
import subprocess
import time


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, proc, log_path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s:\n%s" % (proc.returncode, read_log(log_path)))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError("server did not listen on 127.0.0.1:%d within %ss:\n%s" % (port, timeout, read_log(log_path)))


def read_log(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()[-4000:].decode("utf-8", "replace")
    except OSError:
        return ""


def start(argv, log_path, port, env=None):
    log = open(log_path, "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, **(env or {})))
    log.close()
    wait_for_port(port, proc, log_path)
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def require_tool(path_or_name, why):
    """Skip (or fail under CI=true) when a toolchain that cannot be built here is absent."""
    import shutil
    from tests.ci import unavailable
    if os.path.isabs(path_or_name) and os.access(path_or_name, os.X_OK) or shutil.which(path_or_name):
        return
    unavailable("%s not found: %s" % (path_or_name, why))
