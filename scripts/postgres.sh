#!/usr/bin/env bash
# `make postgres-up` / `make postgres-down`: a throwaway PostgreSQL (Debian packages) on a
# free 127.0.0.1 port with its data under .postgres/ and its URL in .postgres/url.
# The same helper (tests/servers/postgres.py) starts the one the tests use.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  up|down) exec python3 "$here/tests/servers/postgres.py" "$1" --dir "$here/.postgres" ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
