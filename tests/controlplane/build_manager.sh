#!/usr/bin/env bash
# Build the Clabernetes manager (`clabernetes run`) for the tests, one binary per API generation,
# and for v0.8 also clabverter (upstream's converter, used by tests and benchmarks).
#
#   bash tests/controlplane/build_manager.sh v0.6     # clabernetes.containerlab.dev
#   bash tests/controlplane/build_manager.sh v0.8     # c9s.run (+ clabverter-<version>)
#   bash tests/controlplane/build_manager.sh all      # both
#
# Binaries are cached by version under $SKYFORGE_CACHE/bin (default ~/.cache/skyforge-labs) with
# the release's CRDs beside them (<binary>.crds/), and rebuilt only when missing. Each is built on
# its own (never inside the kube-apiserver wrapper module: minimal version selection would lift
# its k8s.io libraries to the apiserver's). Source: <module>@<tag> from the Go module proxy; when
# the proxy refuses it (it answers 403 for github.com/clabernetes/clabernetes), the vendored
# release archive $SKYFORGE_SHARED/vendor/clabernetes/clabernetes-<tag>.tar.gz (default
# <repo>/../shared), checked against the sha256 its SOURCE.txt records. Dependencies always come
# from the proxy. Prints the path of each manager on stdout, timings and progress on stderr.
#
# Exit codes: 0 built/cached; 3 Go missing; 4 neither the proxy nor a vendored archive provides
# the release (callers skip with that reason off CI and fail in CI); 1 other.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SKYFORGE_CACHE:-$HOME/.cache/skyforge-labs}
bin="$cache/bin"
vendor=${SKYFORGE_SHARED:-$(dirname "$(dirname "$(dirname "$here")")")/shared}/vendor/clabernetes
# Pinned (module, version) per generation. `go list -m -versions` is asked first so a newer
# release is used when the proxy serves one; the pins are the fallback when it lists nothing.
declare -A MODULE=([v0.6]=github.com/srl-labs/clabernetes [v0.8]=github.com/clabernetes/clabernetes)
declare -A PIN=([v0.6]=v0.6.0 [v0.8]=v0.8.0)
declare -A PREFIX=([v0.6]=v0.6. [v0.8]=v0.)   # newest v0.6.x; newest >= v0.8 for c9s.run
declare -A CONVERTER=([v0.6]="" [v0.8]=clabverter)

if ! command -v go >/dev/null; then
  echo "build_manager.sh: Go is not installed; install Go >= 1.26 to build the Clabernetes manager" >&2
  exit 3
fi
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
LDFLAGS="-s -w"

newest() {  # newest <generation>: newest acceptable tag the proxy lists, or empty
  local gen=$1 versions
  versions=$(cd / && go list -m -versions "${MODULE[$gen]}" 2>/dev/null | cut -d' ' -f2-) || return 0
  tr ' ' '\n' <<<"$versions" | grep -E "^${PREFIX[$gen]//./\\.}[0-9]+(\\.[0-9]+)?$" | {
    if [ "$gen" = v0.8 ]; then awk -F. '$2 >= 8'; else cat; fi; } | sort -V | tail -1
}

install_crds() {  # install_crds <source assets/crd dir> <out>: the release's CRDs beside the binary
  rm -rf "$2.crds.tmp" && mkdir -p "$2.crds.tmp" && cp "$1"/*.yaml "$2.crds.tmp"/ &&
    chmod 644 "$2.crds.tmp"/*.yaml && rm -rf "$2.crds" && mv "$2.crds.tmp" "$2.crds"
}

from_proxy() {  # from_proxy <gen> <version> <download json> <tmp>: binaries into <tmp>
  local gen=$1 version=$2 info=$3 tmp=$4 module=${MODULE[$1]} dir sum gomodsum cmd
  # `go install <module>/cmd/clabernetes@<tag>` would be the one-liner, but it also reads the
  # module's version list (for deprecation notices), which this proxy refuses (403). A
  # throw-away main module that only requires <module>@<tag> selects exactly the same
  # dependency versions (it adds no constraints; upstream has no replace directives).
  # Upstream's own go.sum pins every dependency (as `go install` would use it); the checksum
  # database does not know some of them (e.g. carlmontanari/slurpeeth), so it must be present.
  dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$info")
  sum=$(sed -n 's/^\t"Sum": "\(.*\)",$/\1/p' <<<"$info")
  gomodsum=$(sed -n 's/^\t"GoModSum": "\(.*\)",$/\1/p' <<<"$info")
  (cd "$tmp" && printf 'module skyforge.local/clabernetes-manager\n\ngo 1.25.0\n\nrequire %s %s\n' \
      "$module" "$version" >go.mod &&
    { cat "$dir/go.sum"; printf '%s %s %s\n%s %s/go.mod %s\n' "$module" "$version" "$sum" \
        "$module" "$version" "$gomodsum"; } >go.sum) || return 1
  for cmd in clabernetes ${CONVERTER[$gen]}; do
    (cd "$tmp" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "$LDFLAGS" \
      -o "$tmp/$cmd" "$module/cmd/$cmd") || return 1
  done
  install_crds "$dir/assets/crd" "$5"
}

from_archive() {  # from_archive <gen> <version> <tmp> <out>: the vendored release archive
  local gen=$1 version=$2 tmp=$3 archive="$vendor/clabernetes-$2.tar.gz" want src cmd
  want=$(sed -n 's/^ *sha256 *\([0-9a-f]\{64\}\)$/\1/p' "$vendor/SOURCE.txt")
  if [ -z "$want" ] || ! echo "$want  $archive" | sha256sum -c --status; then
    echo "build_manager.sh: $archive does not match the sha256 in $vendor/SOURCE.txt; refusing to build it" >&2
    return 1
  fi
  tar -xzf "$archive" -C "$tmp"
  src="$tmp/clabernetes-$version"
  for cmd in clabernetes ${CONVERTER[$gen]}; do
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "$LDFLAGS" \
      -o "$tmp/$cmd" "./cmd/$cmd") || return 1
  done
  install_crds "$src/assets/crd" "$4"
}

publish() {  # publish <gen> <out> <version>: the generation's symlinks; manager path on stdout
  ln -sfn "$(basename "$2")" "$bin/clabernetes-manager-$1"
  [ -z "${CONVERTER[$1]}" ] || ln -sfn "clabverter-$3" "$bin/clabverter-$1"
  echo "$2"
}

build() {  # build <generation>
  local gen=$1 module=${MODULE[$1]} version out tmp start info source
  version=$(newest "$gen")
  version=${version:-${PIN[$gen]}}
  out="$bin/clabernetes-manager-$version"
  if [ -x "$out" ] && [ -d "$out.crds" ] && { [ -z "${CONVERTER[$gen]}" ] || [ -x "$bin/clabverter-$version" ]; }; then
    echo "clabernetes manager $version cached: $out" >&2
    publish "$gen" "$out" "$version"
    return 0
  fi
  tmp=$(mktemp -d "$bin/.build-XXXXXX")
  trap 'rm -rf "$tmp"' RETURN
  start=$SECONDS
  if info=$(cd / && go mod download -json "$module@$version" 2>&1); then
    source="$module@$version from the Go module proxy"
    echo "building clabernetes manager $source (cold builds take minutes)..." >&2
    from_proxy "$gen" "$version" "$info" "$tmp" "$out" || {
      echo "build_manager.sh: building $module@$version failed (output above)" >&2; return 1; }
  elif grep -qiE '403|404|410|not available|not found|unknown revision' <<<"$info"; then
    if [ ! -f "$vendor/clabernetes-$version.tar.gz" ]; then
      echo "build_manager.sh: the Go module proxy does not serve $module@$version:" >&2
      grep -o '"Error": *"[^"]*"' <<<"$info" >&2 || echo "$info" | tail -3 >&2
      echo "build_manager.sh: and no vendored archive $vendor/clabernetes-$version.tar.gz (set SKYFORGE_SHARED)" >&2
      return 4
    fi
    source="$vendor/clabernetes-$version.tar.gz (the proxy refuses $module)"
    echo "building clabernetes manager from $source (cold builds take minutes)..." >&2
    from_archive "$gen" "$version" "$tmp" "$out" || {
      echo "build_manager.sh: building from $vendor/clabernetes-$version.tar.gz failed (output above)" >&2; return 1; }
  else
    echo "build_manager.sh: downloading $module@$version failed:" >&2
    echo "$info" | tail -20 >&2
    return 1
  fi
  [ -z "${CONVERTER[$gen]}" ] || mv "$tmp/${CONVERTER[$gen]}" "$bin/clabverter-$version"
  mv "$tmp/clabernetes" "$out"
  echo "built clabernetes manager $version${CONVERTER[$gen]:+ and clabverter} in $((SECONDS - start))s" >&2
  publish "$gen" "$out" "$version"
}

mkdir -p "$bin"
# Serialise concurrent builds (several pytest sessions or helpers may ask at once).
exec 9>"$bin/.build-manager.lock"
flock 9

case "${1:-all}" in
  v0.6|v0.8) build "$1" ;;
  all) rc=0
    for gen in v0.6 v0.8; do build "$gen" || { r=$?; [ $rc -ne 0 ] || rc=$r; }; done
    exit $rc ;;
  *) echo "usage: $0 [v0.6|v0.8|all]" >&2; exit 2 ;;
esac
