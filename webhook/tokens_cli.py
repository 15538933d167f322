"""``python -m webhook token --name ci --role operator`` (or ``python -m webhook.tokens_cli``):
a new random API token.

Prints the token once (give it to the client; it is not stored anywhere) and the entry to
add under ``auth.tokens`` in the service config, which holds only the token's SHA-256.
"""

import argparse
import secrets
import sys

import yaml

from .http.auth_settings import NAME_RE, ROLES, digest

PREFIX = "sfw_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def _name(value):
    if not NAME_RE.fullmatch(value):
        raise argparse.ArgumentTypeError("use letters, digits and '_.@-' (at most 64 characters)")
    return value


def add_arguments(parser):
    parser.add_argument("--name", required=True, type=_name,
                        help="who uses the token (e.g. ci, alice)")
    parser.add_argument("--role", required=True, choices=ROLES)
    return parser


def run(args):
    token = new_token()
    entry = yaml.safe_dump([{"name": args.name, "role": args.role, "sha256": digest(token)}],
                           sort_keys=False).rstrip()
    print(f"token: {token}")
    print("# add under auth.tokens in the service config (only the SHA-256 is stored):")
    print("\n".join("  " + line for line in entry.splitlines()))
    return 0


def main(argv=None):
    parser = add_arguments(argparse.ArgumentParser(
        prog="python -m webhook.tokens_cli", description="Print a new API token and its "
                                                         "config entry."))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
