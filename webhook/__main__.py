"""``python -m webhook serve|worker|migrate|check-config``."""

import argparse
import logging
import os
import sys

from . import config as config_mod
from . import store as store_mod
from .store import backends as store_backends
from . import tokens_cli


def _load(args):
    if args.config:
        os.environ[config_mod.CONFIG_ENV] = os.path.abspath(args.config)
    return config_mod.load()


def cmd_worker(args):
    from .worker.worker import WorkerIdInUse, run_worker
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
    """The embedded default: gunicorn for the API and one worker process, each restarted
    on its own when it dies (webhook.worker.serve)."""
    from .worker.serve import serve
    cfg = _load(args)   # fails early on a bad config
    store_backends.open_store(cfg).close()   # and on a store it cannot reach or use
    return serve(cfg)


def cmd_migrate(args):
    print(store_backends.migrate(_load(args).store_url))
    return 0


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
    sub.add_parser("migrate", help="create or upgrade the run store's schema (store.url)")
    sub.add_parser("check-config", help="validate the configuration and exit")
    tokens_cli.add_arguments(sub.add_parser("token", help="print a new API token and its "
                                                          "auth.tokens entry"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return {"serve": cmd_serve, "worker": cmd_worker, "migrate": cmd_migrate,
                "check-config": cmd_check, "token": tokens_cli.run}[args.command](args)
    except config_mod.ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except store_mod.StoreError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
