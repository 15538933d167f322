#!/usr/bin/env bash
# Build the Clabernetes manager (`clabernetes run`) for the tests, one binary per API generation.
#
#   bash tests/controlplane/build_manager.sh v0.6     # clabernetes.containerlab.dev
#   bash tests/controlplane/build_manager.sh v0.8     # c9s.run
#   bash tests/controlplane/build_manager.sh all      # every one this machine can build
#
# Binaries are cached by version under $SKYFORGE_CACHE/bin (default ~/.cache/skyforge-labs)
# and rebuilt only when missing; each is built on its own from <module>@<tag> (never inside the
# kube-apiserver wrapper module: minimal version selection would lift its k8s.io libraries to
# the apiserver's). Prints the path of each binary on stdout,
# timings and progress on stderr.
#
# Exit codes: 0 built/cached; 3 Go missing; 4 the Go module proxy does not serve the module
# at any acceptable version (a refusal, not a failure: callers skip with that reason; `all`
# only warns about it); 1 other.
set -euo pipefail
cache=${SKYFORGE_CACHE:-$HOME/.cache/skyforge-labs}
bin="$cache/bin"
# Pinned (module, version) per generation. `go list -m -versions` is asked first so a newer
# release is used when the proxy serves one; the pins are the fallback when it lists nothing.
declare -A MODULE=([v0.6]=github.com/srl-labs/clabernetes [v0.8]=github.com/clabernetes/clabernetes)
declare -A PIN=([v0.6]=v0.6.0 [v0.8]=v0.8.0)
declare -A PREFIX=([v0.6]=v0.6. [v0.8]=v0.)   # newest v0.6.x; newest >= v0.8 for c9s.run

if ! command -v go >/dev/null; then
  echo "build_manager.sh: Go is not installed; install Go >= 1.26 to build the Clabernetes manager" >&2
  exit 3
fi
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

newest() {  # newest <generation>: newest acceptable tag the proxy lists, or empty
  local gen=$1 versions
  versions=$(cd / && go list -m -versions "${MODULE[$gen]}" 2>/dev/null | cut -d' ' -f2-) || return 0
  tr ' ' '\n' <<<"$versions" | grep -E "^${PREFIX[$gen]//./\\.}[0-9]+(\\.[0-9]+)?$" | {
    if [ "$gen" = v0.8 ]; then awk -F. '$2 >= 8'; else cat; fi; } | sort -V | tail -1
}

build() {  # build <generation>
  local gen=$1 module=${MODULE[$1]} version out tmp start
  version=$(newest "$gen")
  version=${version:-${PIN[$gen]}}
  out="$bin/clabernetes-manager-$version"
  if [ -x "$out" ] && [ -d "$out.crds" ]; then
    echo "clabernetes manager $version cached: $out" >&2
    ln -sfn "$(basename "$out")" "$bin/clabernetes-manager-$gen"
    echo "$out"
    return 0
  fi
  local info
  if info=$(cd / && go mod download -json "$module@$version" 2>&1); then
    # The manager needs every CRD of its release Established before `run` (only the
    # initializer installs them); keep the release's own copies beside the binary.
    local crds
    crds=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")/assets/crd
    rm -rf "$out.crds.tmp" && mkdir -p "$out.crds.tmp" && cp "$crds"/*.yaml "$out.crds.tmp"/ &&
      chmod 644 "$out.crds.tmp"/*.yaml && rm -rf "$out.crds" && mv "$out.crds.tmp" "$out.crds"
    if [ -x "$out" ]; then
      echo "clabernetes manager $version cached: $out" >&2
      ln -sfn "$(basename "$out")" "$bin/clabernetes-manager-$gen"
      echo "$out"
      return 0
    fi
  else
    if grep -qiE '403|404|410|not available|not found|unknown revision' <<<"$info"; then
      echo "build_manager.sh: the Go module proxy does not serve $module@$version:" >&2
      grep -o '"Error": *"[^"]*"' <<<"$info" >&2 || echo "$info" | tail -3 >&2
      return 4
    fi
    echo "build_manager.sh: downloading $module@$version failed:" >&2
    echo "$info" | tail -20 >&2
    return 1
  fi
  start=$SECONDS
  echo "building clabernetes manager $module@$version (cold builds take minutes)..." >&2
  # `go install <module>/cmd/clabernetes@<tag>` would be the one-liner, but it also reads the
  # module's version list (for deprecation notices), which this proxy refuses (403). A
  # throw-away main module that only requires <module>@<tag> selects exactly the same
  # dependency versions (it adds no constraints; upstream has no replace directives).
  tmp=$(mktemp -d "$bin/.build-XXXXXX")
  trap 'rm -rf "$tmp"' RETURN
  # Upstream's own go.sum pins every dependency (as `go install` would use it); the checksum
  # database does not know some of them (e.g. carlmontanari/slurpeeth), so it must be present.
  local dir sum gomodsum
  dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")
  sum=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$info")
  gomodsum=$(sed -n 's/^\t"GoModSum": "\(.*\)",$/\1/p' <<<"$info")
  if ! (cd "$tmp" && printf 'module skyforge.local/clabernetes-manager\n\ngo 1.25.0\n\nrequire %s %s\n' \
          "$module" "$version" >go.mod &&
        { cat "$dir/go.sum"; printf '%s %s %s\n%s %s/go.mod %s\n' "$module" "$version" "$sum" \
            "$module" "$version" "$gomodsum"; } >go.sum &&
        CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "-s -w" \
          -o "$tmp/clabernetes" "$module/cmd/clabernetes"); then
    echo "build_manager.sh: building $module@$version failed (output above)" >&2
    return 1
  fi
  mv "$tmp/clabernetes" "$out"
  ln -sfn "$(basename "$out")" "$bin/clabernetes-manager-$gen"
  echo "built clabernetes manager $version in $((SECONDS - start))s" >&2
  echo "$out"
}

mkdir -p "$bin"
# Serialise concurrent builds (several pytest sessions or helpers may ask at once).
exec 9>"$bin/.build-manager.lock"
flock 9

case "${1:-all}" in
  v0.6|v0.8) build "$1" ;;
  all)  # everything this machine can build; a generation the proxy refuses is only a warning
    rc=0
    for gen in v0.6 v0.8; do
      build "$gen" || { r=$?; if [ $r -eq 4 ]; then
        echo "build_manager.sh: warning: no $gen manager here; its tests will be skipped" >&2
      elif [ $rc -eq 0 ]; then rc=$r; fi; }
    done
    exit $rc ;;
  *) echo "usage: $0 [v0.6|v0.8|all]" >&2; exit 2 ;;
esac
