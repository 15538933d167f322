"""Whole-or-nothing file writes for the service.

The collection has its own helper (``plugins/module_utils/common/files.py``); the webhook
does not import it: the service is a Python package of its own (pyproject.toml), installed
apart from the collection, and the run supervisor must not depend on
``ansible_collections`` being importable in the run's environment.
"""

import contextlib
import os
import tempfile


def atomic_write(path, data: bytes):
    """Replace ``path`` with ``data`` whole or not at all: written to a private temporary
    file in the same directory, fsynced, renamed over ``path``, the directory fsynced."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
