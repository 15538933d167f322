#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection exactly as it ships: built with
# `ansible-galaxy collection build` (galaxy.yml's build_ignore leaves out the webhook
# service, benchmarks and dev scripts, which are not part of the collection) and installed.
# ansible-test wants the collection at .../ansible_collections/skyforge/labs and creates a
# venv per test whose pip bootstrap downloads get-pip.py from a host that may be
# unreachable: we pre-seed that cache file with a stand-in that uses ensurepip + pip.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$top/.venv}
work=$(mktemp -d /tmp/skyforge-sanity.XXXXXX)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/skyforge/labs"
VENV=$venv bash "$top/scripts/build-collection.sh" "$work" >/dev/null

cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
stand_in() {
  cat <<'PY'
# Stand-in for get-pip.py (written by skyforge.labs scripts/sanity.sh): bootstrap pip from
# the standard library, then run pip with the arguments ansible-test passes.
import os, subprocess, sys
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
ca = "/etc/ssl/certs/ca-certificates.crt"
extra = ["--cert", ca] if os.path.exists(ca) else []
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install", *extra, *args])
PY
}
# The pip version ansible-test bootstraps is in its python_requirements.py (pip='24.2').
ver=$("$venv/bin/python" - <<'PY'
import pathlib, re, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([\d.]+)'", src.read_text()).group(1).replace(".", "_"))
PY
)
[ -f "$cache/get_pip_$ver.py" ] || stand_in > "$cache/get_pip_$ver.py"
cd "$dest"
export PATH="$venv/bin:$PATH"
ansible-test sanity --local --python 3.11 --requirements --color no "$@"
