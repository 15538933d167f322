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
  containerd        # a real image store for image_check runtime: containerd
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
