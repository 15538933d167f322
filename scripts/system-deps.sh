#!/usr/bin/env bash
# Debian packages the tests use (real servers and tools, not imitations). Installs only
# what is missing; needs root (or sudo) on a machine that lacks them.
set -euo pipefail
packages=(
  docker-registry   # a real OCI distribution registry for image_check
  skopeo            # pushes test images into it
  apache2-utils     # htpasswd for the registry's basic-auth tests
  chromium          # headless browser for the dashboard test (driven by playwright)
  wrk               # HTTP load generator for bench/bench_webhook.py
  containerd        # real image stores for image_check runtime: containerd / docker
  docker.io
  shellcheck        # so ansible-test sanity runs its shellcheck test instead of skipping it
  postgresql        # a real PostgreSQL server for the webhook's postgresql:// store tests
)
# A daemon that is already there from another packaging (docker-ce, containerd.io) is used
# as it is: Debian's package would conflict with it.
declare -A provides=([containerd]=containerd [docker.io]=dockerd)
missing=()
for p in "${packages[@]}"; do
  if [ -n "${provides[$p]:-}" ] && command -v "${provides[$p]}" >/dev/null; then continue; fi
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
