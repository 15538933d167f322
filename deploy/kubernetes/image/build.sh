#!/usr/bin/env bash
# Build the image of deploy/kubernetes: the collection's execution environment + the webhook.
#
#   deploy/kubernetes/image/build.sh REGISTRY/skyforge-labs-ee:TAG [--create-only]
#
# Builds the collection artifact (scripts/build-collection.sh: tracked files only) and the
# webhook wheel (tracked files only) into $SKYFORGE_EE_OUT (default out/ee-k8s), copies execution-environment.yml
# beside them and runs `ansible-builder build` there; --create-only stops after writing the
# build context (Containerfile + _build/), which needs no container runtime.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
venv=${VENV:-$top/.venv}
tag=${1:?usage: build.sh REGISTRY/skyforge-labs-ee:TAG [--create-only]}
mode=${2:-}
out=${SKYFORGE_EE_OUT:-$top/out/ee-k8s}
rm -rf "$out"
mkdir -p "$out"
bash "$top/scripts/build-collection.sh" "$out/collection" >/dev/null
cp "$out"/collection/skyforge-labs-*.tar.gz "$out/"
# the wheel from tracked files only, built outside the checkout (setuptools writes build/ and
# *.egg-info beside the sources)
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
(cd "$top" && git ls-files -co --exclude-standard -z -- pyproject.toml webhook | xargs -0 cp --parents -t "$src")
"$venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$out" "$src"
cp "$top/deploy/kubernetes/image/execution-environment.yml" "$out/"
cd "$out"
if [ "$mode" = "--create-only" ]; then
  exec "$venv/bin/ansible-builder" create --file execution-environment.yml --context context --output-filename Containerfile
fi
exec "$venv/bin/ansible-builder" build --file execution-environment.yml --context context --tag "$tag"
