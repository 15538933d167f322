#!/usr/bin/env bash
# Build (or reuse from the cache) etcd, kube-apiserver, kubectl and the Clabernetes
# managers (v0.6 and v0.8) for the tests.
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
set -e
bash "$(dirname "$0")/../tests/controlplane/build.sh" >/dev/null
bash "$(dirname "$0")/../tests/controlplane/build_manager.sh" all >/dev/null
