"""``python -m webhook serve|worker|check-config``."""

import argparse
import logging
import os
import signal
import subprocess
import sys
import time

from . import config as config_mod
from . import tokens_cli
from .run_env import without_hook_secrets

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(args):
    if args.config:
        os.environ[config_mod.CONFIG_ENV] = os.path.abspath(args.config)
    return config_mod.load()


def cmd_worker(args):
    from .worker import WorkerIdInUse, run_worker
    cfg = _load(args)
    if args.id:
        cfg.worker["id"] = args.id
    if args.slots:
        cfg.worker["slots"] = args.slots
    try:
        return run_worker(cfg)
    except WorkerIdInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_serve(args):
    """The embedded default: gunicorn for the API and one worker process, supervised
    together; when either exits the other is stopped."""
    cfg = _load(args)  # fail early on a bad config
    env = dict(os.environ)
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", os.path.join(HERE, "gunicorn.conf.py"),
                "webhook:create_app()"]
    worker = [sys.executable, "-m", "webhook", "worker"]
    # only the API verifies deliveries: the worker (and so every run) never sees hook secrets
    children = [subprocess.Popen(gunicorn, env=env),
                subprocess.Popen(worker, env=without_hook_secrets(cfg, env))]
    stop = {"sig": None}

    def forward(signum, _frame):
        stop["sig"] = signum
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while all(c.poll() is None for c in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0 if stop["sig"] else max(c.returncode or 0 for c in children) or 1


def cmd_check(args):
    cfg = _load(args)
    print(f"{cfg.path}: ok, {len(cfg.playbooks)} playbook(s): {', '.join(sorted(cfg.playbooks))}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m webhook")
    parser.add_argument("-c", "--config", help=f"config file (default: ${config_mod.CONFIG_ENV})")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the API (gunicorn) and a worker together")
    worker = sub.add_parser("worker", help="run a worker process")
    worker.add_argument("--id", help="stable worker id (a restarted worker reaps its own runs)")
    worker.add_argument("--slots", type=int, help="override worker.slots")
    sub.add_parser("check-config", help="validate the configuration and exit")
    tokens_cli.add_arguments(sub.add_parser("token", help="print a new API token and its "
                                                          "auth.tokens entry"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return {"serve": cmd_serve, "worker": cmd_worker, "check-config": cmd_check,
                "token": tokens_cli.run}[args.command](args)
    except config_mod.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
