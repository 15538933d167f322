"""``limit`` and ``tags`` of a request: an allow-list grammar, never a file or a template.

Ansible reads ``--limit @FILE`` as a host list file (and prints its lines as warnings), and
a pattern starting with ``~`` is a regular expression; neither is a host pattern a request
needs. Accepted: terms joined by ``,`` or ``:``, each an optional ``!`` (exclude) or ``&``
(intersect), then a host or group name with ``*``/``?`` wildcards and an optional
``[N]`` / ``[N:M]`` subscript. Tags are names of letters, digits, ``_ . -``.
"""

import re

MAX_LIMIT = 1000
MAX_TAGS = 64
_TERM = r"[!&]?[A-Za-z0-9_.*?-]+(?:\[-?[0-9]+(?::-?[0-9]*)?\])?"
LIMIT = re.compile(rf"{_TERM}(?:[,:]{_TERM})*")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def check_limit(limit):
    """Return the limit or raise ValueError saying what a host pattern may hold."""
    if not isinstance(limit, str) or not limit:
        raise ValueError("'limit' must be a non-empty host pattern string")
    if len(limit) > MAX_LIMIT or not LIMIT.fullmatch(limit):
        raise ValueError("'limit' must be a host pattern: names of hosts or groups (letters, "
                         "digits, _ . - and * ? wildcards, optional [N:M]), joined by ',' or "
                         "':', each optionally prefixed by ! or &; '@file' and '~regex' are "
                         "not accepted")
    return limit


def check_tags(tags):
    """Return the tags as a list or raise ValueError."""
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or len(tags) > MAX_TAGS \
            or not all(isinstance(t, str) and TAG.fullmatch(t) for t in tags):
        raise ValueError(f"'tags' must be a list of at most {MAX_TAGS} tag names (letters, "
                         "digits, _ . -)")
    return tags
