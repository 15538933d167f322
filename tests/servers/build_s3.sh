#!/usr/bin/env bash
# Build versitygw (an S3-compatible gateway with a POSIX backend) from the Go module proxy
# for the S3 artifact-store tests and bench. Cached by version under $SKYFORGE_CACHE
# (default ~/.cache/skyforge-labs/bin); rebuilt only when missing. Prints the binary path.
set -euo pipefail
version=${VERSITYGW_VERSION:-v1.8.0}
cache=${SKYFORGE_CACHE:-$HOME/.cache/skyforge-labs}
bin="$cache/bin"
out="$bin/versitygw-$version"
mkdir -p "$bin"
if [ ! -x "$out" ]; then
  if ! command -v go >/dev/null; then
    echo "build_s3.sh: Go is not installed; install Go >= 1.24 to build versitygw" >&2
    exit 3
  fi
  start=$SECONDS
  echo "building versitygw $version (a cold build takes a few minutes)..." >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  CGO_ENABLED=0 GOBIN="$work" GOFLAGS=-mod=mod \
    go install -trimpath -ldflags "-s -w" "github.com/versity/versitygw/cmd/versitygw@$version"
  mv "$work/versitygw" "$out.tmp" && mv "$out.tmp" "$out"
  echo "built versitygw in $((SECONDS - start))s" >&2
fi
ln -sf "versitygw-$version" "$bin/versitygw"
echo "$out"
