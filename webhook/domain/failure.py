"""Why a run failed, read from its runner events as they pass to the store: the last task
that failed (and did not ignore errors) or host that was unreachable, with its message."""

FAILED = ("runner_on_failed", "runner_on_unreachable")
MAX_MESSAGE = 2000


def describe(etype, data):
    info = data.get("event_data") or {}
    res = info.get("res") or {}
    message = res.get("msg") or res.get("stderr") or res.get("reason") or ""
    if not isinstance(message, str):
        message = str(message)
    what = "unreachable" if etype == "runner_on_unreachable" else "failed"
    text = f"task '{info.get('task') or '?'}' {what} on {info.get('host') or '?'}"
    return f"{text}: {message.strip()[:MAX_MESSAGE]}" if message.strip() else text


def error_line(data):
    """An `ERROR! ...` line ansible-playbook printed (syntax errors fail before any task)."""
    for line in (data.get("stdout") or "").splitlines():
        if "ERROR" in line:
            return line.strip()[:MAX_MESSAGE]
    return None


class FailureWatch:
    """Wraps an event sink; ``reason`` is the last failure seen, else the last ERROR line."""

    def __init__(self, sink):
        self.sink = sink
        self.failure = None
        self.error = None

    def __call__(self, events):
        for etype, data, _ts in events:
            if not isinstance(data, dict):
                continue
            if etype in FAILED and not (data.get("event_data") or {}).get("ignore_errors"):
                self.failure = describe(etype, data)
            elif etype in ("verbose", "error"):
                self.error = error_line(data) or self.error
        return self.sink(events)

    @property
    def reason(self):
        return self.failure or self.error
