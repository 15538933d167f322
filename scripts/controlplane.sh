#!/usr/bin/env bash
# Build (or reuse from the cache) etcd, kube-apiserver, kube-controller-manager, kubectl and the
# Clabernetes managers (v0.6; v0.8 with clabverter) for the tests.
# Without Go, or without a manager: fail in CI, warn elsewhere (the tests that need them skip).
set -uo pipefail
here=$(dirname "$0")/../tests/controlplane
if ! command -v go >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "Go is not installed: CI must run the control-plane tests; install Go >= 1.26" >&2
    exit 1
  fi
  echo "warning: Go is not installed; control-plane tests will be skipped" >&2
  exit 0
fi
set -e
bash "$here/build.sh" >/dev/null
rc=0
bash "$here/build_manager.sh" all >/dev/null || rc=$?
if [ $rc -eq 4 ] && [ "${CI:-}" != "true" ]; then
  echo "warning: a Clabernetes manager cannot be built here (above); its tests will be skipped" >&2
  exit 0
fi
exit $rc
