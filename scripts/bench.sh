#!/usr/bin/env bash
# Run every benchmark under bench/, each printing its figures and the comparison it makes.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bench in "$here"/bench/bench_*.py; do
  echo "=== $(basename "$bench")"
  "$here/.venv/bin/python" "$bench" "$@" || status=1
done
exit $status
