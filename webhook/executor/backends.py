"""The executor a config asks for (``executor.type``; a Kubernetes Job executor would be
chosen here)."""

from .runner import RunnerExecutor


def make_executor(config):
    kind = config.executor["type"]
    if kind == "ansible-runner":
        return RunnerExecutor(config)
    raise ValueError(f"{config.path}: executor.type: unknown executor '{kind}' "
                     "(known: ansible-runner)")
