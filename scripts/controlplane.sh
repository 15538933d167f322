#!/usr/bin/env bash
# Build (or reuse from the cache) etcd, kube-apiserver and kubectl for the tests.
# Without Go: fail in CI, warn elsewhere (the tests that need the control plane then skip).
set -uo pipefail
if ! command -v go >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "Go is not installed: CI must run the control-plane tests; install Go >= 1.26" >&2
    exit 1
  fi
  echo "warning: Go is not installed; control-plane tests will be skipped" >&2
  exit 0
fi
bash "$(dirname "$0")/../tests/controlplane/build.sh" >/dev/null
