#!/usr/bin/env bash
# Build (or reuse from the cache) the servers tests start themselves. Tests start and stop
# each server on 127.0.0.1; this only makes sure the binaries exist.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
for script in "$here"/tests/servers/build_*.sh; do
  [ -e "$script" ] || continue
  bash "$script" >/dev/null
done
