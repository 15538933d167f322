#!/usr/bin/env bash
# Build etcd, kube-apiserver, kube-controller-manager and kubectl for tests (the Clabernetes
# managers: build_manager.sh).
# Binaries are cached by version under $SKYFORGE_CACHE (default ~/.cache/skyforge-labs)
# and rebuilt only when missing. Prints the directory holding the binaries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SKYFORGE_CACHE:-$HOME/.cache/skyforge-labs}
kube_version=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$here/kube/go.mod")
etcd_version=$(sed -n 's/^require go.etcd.io\/etcd\/server\/v3 \(v[0-9.]*\)$/\1/p' "$here/etcd/go.mod")
bin="$cache/bin"
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS=-mod=mod

build() {  # build <module dir> <package> <output> [ldflags]
  local dir=$1 pkg=$2 out=$3 ldflags=${4:-}
  [ -x "$out" ] && return 0
  if ! command -v go >/dev/null; then
    echo "build.sh: Go is not installed; install Go >= 1.26 to build $(basename "$out")" >&2
    exit 3
  fi
  local start=$SECONDS
  echo "building $(basename "$out") (cold builds take minutes)..." >&2
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") && mv "$out.tmp" "$out"
  echo "built $(basename "$out") in $((SECONDS - start))s" >&2
}

build "$here/etcd" go.etcd.io/etcd/server/v3 "$bin/etcd-$etcd_version"
minor=${kube_version#v1.}; minor=${minor%%.*}
build "$here/kube" k8s.io/kubernetes/cmd/kube-apiserver "$bin/kube-apiserver-$kube_version" \
  "-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
# Only its garbage collector and namespace controllers run in tests (see cluster.py); it
# shares almost every package with kube-apiserver, so built second it costs little extra.
build "$here/kube" k8s.io/kubernetes/cmd/kube-controller-manager "$bin/kube-controller-manager-$kube_version" \
  "-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
build "$here/kube" k8s.io/kubernetes/cmd/kubectl "$bin/kubectl-$kube_version" \
  "-X k8s.io/component-base/version.gitVersion=$kube_version -X k8s.io/client-go/pkg/version.gitVersion=$kube_version"
ln -sf "etcd-$etcd_version" "$bin/etcd"
ln -sf "kubectl-$kube_version" "$bin/kubectl"
ln -sf "kube-apiserver-$kube_version" "$bin/kube-apiserver"
ln -sf "kube-controller-manager-$kube_version" "$bin/kube-controller-manager"
echo "$bin"
