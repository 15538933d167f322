"""``python -m webhook.tokens_cli --name ci --role operator``: a new random API token.

Prints the token once (give it to the client; it is not stored anywhere) and the entry to
add under ``auth.tokens`` in the service config, which holds only the token's SHA-256.
"""

import argparse
import secrets
import sys

import yaml

from .auth import ROLES, NAME_RE, digest

PREFIX = "sfw_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m webhook.tokens_cli",
                                     description="Print a new API token and its config entry.")
    parser.add_argument("--name", required=True, help="who uses the token (e.g. ci, alice)")
    parser.add_argument("--role", required=True, choices=ROLES)
    args = parser.parse_args(argv)
    if not NAME_RE.match(args.name):
        parser.error("--name: use letters, digits and '_.@-' (at most 64 characters)")
    token = new_token()
    entry = yaml.safe_dump([{"name": args.name, "role": args.role, "sha256": digest(token)}],
                           sort_keys=False).rstrip()
    print(f"token: {token}")
    print("# add under auth.tokens in the service config (only the SHA-256 is stored):")
    print("\n".join("  " + line for line in entry.splitlines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
