#!/usr/bin/env bash
# Build the collection artifact exactly as it ships and install it.
#
#   bash scripts/build-collection.sh DIR
#
# Builds from tracked and not-ignored files only (so venvs, caches, outputs and egg-info
# never leak in; galaxy.yml's build_ignore then leaves out the webhook service, benchmarks
# and dev scripts), writes DIR/skyforge-labs-<version>.tar.gz, installs it under
# DIR/ansible_collections/skyforge/labs and prints the tarball's path.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$top/.venv}
out=${1:?usage: build-collection.sh DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$(mktemp -d "$out/.src.XXXXXX")
trap 'rm -rf "$src"' EXIT
(cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$src")
# the tarball galaxy reports, not a glob: DIR may hold an older version's tarball
tarball=$("$venv/bin/ansible-galaxy" collection build --force --output-path "$out" "$src" |
  sed -n 's/^Created collection for .* at //p')
"$venv/bin/ansible-galaxy" collection install --force --offline -p "$out" "$tarball" >/dev/null
echo "$tarball"
