# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a synthetic 1,000-node x 5-file lab and compare with kubectl, in the same run.

  .venv/bin/python bench/bench_render.py [--nodes 1000] [--keep DIR]

1. Synthesises a lab directory like netlab writes it (clab.yml + node_files/): per node
   an executable `initial` (~3 KB), `ospf` (~0.6 KB) and `bgp` (~1.8 KB) script, an FRR
   `daemons` file identical on every node, and the lab-wide `-shared-hosts` file.
2. Packs it with bundle.bundle_bytes (the deterministic bundle netlab_generate writes).
3. Renders the bundle with c9s.render in a child process (wall time, peak RSS via
   ru_maxrss), next to a child that only imports the same modules (interpreter baseline).
4. Produces the same ConfigMaps the per-node way: one
   `kubectl create configmap <lab>-<node> --from-file=... --dry-run=client -o yaml`
   per node (kubectl from tests/controlplane/build.sh), timed the same way.

Targets (issue 2): render >= 20x faster than kubectl; render peak memory < 3x the bundle
size.  The raw peak RSS, the part above the interpreter baseline, and both compared with
the .tar.gz size and with the uncompressed lab are printed: with netlab-like text the
bundle compresses ~10x, so the interpreter alone (~19 MB) is already many times a
sub-MB bundle.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, ".skyforge", "collections"))

from ansible_collections.skyforge.labs.plugins.module_utils.lab import bundle  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s
mode, src, dest = sys.argv[2:5]
start = time.perf_counter()
if mode == "render":
    result = c9s.render(src, dest, "bench")
elif mode == "parse":   # only what any reader of the lab must do: parse its clab.yml
    from ansible_collections.skyforge.labs.plugins.module_utils.lab import source
    with source.open_lab(src) as lab:
        source.read_clab(lab)
    result = {}
else:
    result = {}
elapsed = time.perf_counter() - start
hwm = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")]
print(json.dumps({"seconds": elapsed, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "vmhwm_kib": hwm[0] if hwm else None,
                  "configmaps": len(result.get("configmaps", [])),
                  "manifest_bytes": result.get("manifest_bytes", 0)}))
"""

DAEMONS = "".join("%sd=%s\n%sd_options=\"-A 127.0.0.1\"\n" % (d, "yes" if i < 4 else "no", d)
                  for i, d in enumerate(["zebra", "bgp", "ospf", "ospf6", "rip", "ripng", "isis", "pim",
                                         "ldp", "nhrp", "eigrp", "babel", "sharp", "pbr", "bfd",
                                         "fabric", "vrrp", "path"])) * 4


def _addr(rng):
    return "10.%d.%d.%d" % (rng.randrange(1, 4), rng.randrange(256), rng.randrange(1, 255))


def node_files(index, rng):
    """The four per-node files: netlab-like templates filled with node-specific values."""
    loopback = "10.0.%d.%d" % (index // 250, index % 250 + 1)
    initial = ["#!/bin/bash", "#", "# Initial configuration for n%04d, generated" % index, "#", "set -e",
               "hostname n%04d" % index, "sysctl -w net.ipv4.ip_forward=1",
               "sysctl -w net.ipv6.conf.all.forwarding=1"]
    for port in range(1, 9):
        peer = rng.randrange(1000)
        initial += ["#", "# eth%d: n%04d -> n%04d (link %d, vlan %d)" % (port, index, peer, rng.randrange(9999),
                                                                         rng.randrange(2, 4094)),
                    "ip link set dev eth%d up" % port,
                    "ip addr add %s/30 dev eth%d" % (_addr(rng), port),
                    "ip -6 addr add 2001:db8:%x:%x::%x/64 dev eth%d"
                    % (rng.randrange(65536), rng.randrange(65536), rng.randrange(1, 65535), port),
                    "ip link set eth%d mtu %d" % (port, rng.choice([1500, 1500, 9000, 9216])),
                    "tc qdisc replace dev eth%d root fq_codel limit %d" % (port, rng.randrange(1000, 10240))]
    initial += ["ip addr add %s/32 dev lo" % loopback,
                "ip route add 192.0.2.%d/32 via %s" % (rng.randrange(256), _addr(rng))]
    ospf = ["#!/usr/bin/vtysh -f", "!", "router ospf", " ospf router-id %s" % loopback,
            " timers throttle spf 10 50 500", " auto-cost reference-bandwidth %d" % rng.choice([1000, 100000])]
    for port in range(1, 9):
        ospf += ["interface eth%d" % port, " ip ospf area 0.0.0.%d" % rng.randrange(3),
                 " ip ospf cost %d" % rng.randrange(1, 100), " ip ospf network point-to-point", "!"]
    bgp = ["#!/usr/bin/vtysh -f", "!", "router bgp %d" % (65000 + index // 100), " bgp router-id %s" % loopback,
           " no bgp default ipv4-unicast"]
    peers = [_addr(rng) for _peer in range(14)]
    for peer in peers:
        bgp += [" neighbor %s remote-as %d" % (peer, 65000 + rng.randrange(10)),
                " neighbor %s description n%04d" % (peer, rng.randrange(1000))]
    bgp += [" address-family ipv4 unicast", "  network %s/32" % loopback]
    bgp += ["  neighbor %s activate" % peer for peer in peers] + [" exit-address-family", "!"]
    return {"initial": ("\n".join(initial) + "\n", 0o755), "ospf": ("\n".join(ospf) + "\n", 0o755),
            "bgp": ("\n".join(bgp) + "\n", 0o755), "daemons": (DAEMONS, 0o644)}


def synthesise(root, nodes):
    rng = random.Random(42)
    lines = ["name: bench", "topology:", "  nodes:"]
    hosts = []
    for index in range(nodes):
        name = "n%04d" % index
        lines += ["    %s:" % name, "      kind: linux", "      image: quay.io/frrouting/frr:10.7.1",
                  "      mgmt-ipv4: 192.168.%d.%d" % (index // 250, index % 250 + 1), "      binds:"]
        for filename, (text, mode) in sorted(node_files(index, rng).items()):
            path = os.path.join(root, "node_files", name, filename)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write(text)
            os.chmod(path, mode)
            lines.append("      - node_files/%s/%s:/etc/config/%s" % (name, filename, filename))
        lines.append("      - node_files/-shared-hosts:/etc/hosts:ro")
        hosts.append("10.0.%d.%d %s" % (index // 250, index % 250 + 1, name))
    lines.append("  links:")
    for index in range(nodes - 1):
        lines += ["  - endpoints: [\"n%04d:eth1\", \"n%04d:eth2\"]" % (index, index + 1)]
    with open(os.path.join(root, "node_files", "-shared-hosts"), "w") as handle:
        handle.write("\n".join(hosts) + "\n")
    with open(os.path.join(root, "clab.yml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


def child(mode, src, dest):
    proc = subprocess.run([sys.executable, "-c", CHILD, os.path.join(REPO, ".skyforge", "collections"),
                           mode, src, dest], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def kubectl_path():
    for _attempt in range(30):
        proc = subprocess.run(["bash", os.path.join(REPO, "tests", "controlplane", "build.sh")],
                              capture_output=True, text=True, check=False)
        path = os.path.join(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "", "kubectl")
        if proc.returncode == 0 and os.access(path, os.X_OK):
            return path
        print("kubectl not available yet (%s); retrying in 20 s" % proc.stderr.strip()[-200:])
        time.sleep(20)
    raise SystemExit("kubectl did not become available from tests/controlplane/build.sh")


def kubectl_per_node(kubectl, lab, nodes, out_path):
    env = dict(os.environ, KUBECONFIG=os.devnull)
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        for index in range(nodes):
            name = "n%04d" % index
            args = [kubectl, "create", "configmap", "bench-%s" % name, "--namespace", "bench",
                    "--dry-run=client", "-o", "yaml",
                    "--from-file=hosts=%s" % os.path.join(lab, "node_files", "-shared-hosts")]
            for filename in ("bgp", "daemons", "initial", "ospf"):
                args.append("--from-file=%s=%s" % (filename, os.path.join(lab, "node_files", name, filename)))
            out.write(b"---\n" + subprocess.run(args, capture_output=True, check=True, env=env).stdout)
    return time.perf_counter() - start


def prepare(work, nodes):
    """Synthesise the lab and its bundle (run in a child: see main)."""
    lab = os.path.join(work, "lab")
    if os.path.exists(lab):
        shutil.rmtree(lab)
    os.makedirs(lab)
    synthesise(lab, nodes)
    files = bundle.collect_tree(lab)
    bundle_path = os.path.join(work, "bench.tar.gz")
    with open(bundle_path, "wb") as handle:
        handle.write(bundle.bundle_bytes(files))
    sizes = dict((path.rsplit("/", 1)[-1], len(data)) for path, (data, _mode) in files.items())
    print(json.dumps({"lab": lab, "bundle": bundle_path, "files": len(files),
                      "raw_bytes": sum(len(data) for data, _mode in files.values()),
                      "bundle_bytes": os.path.getsize(bundle_path), "sizes_n0000": dict(
                          (k, v) for k, v in sizes.items() if k in ("initial", "ospf", "bgp", "daemons", "-shared-hosts"))}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--keep", help="keep the synthetic lab and outputs in this directory")
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.nodes)
        return
    work = args.keep or tempfile.mkdtemp(prefix="bench-render-")
    try:
        # Linux carries a process's RSS high-water mark across fork+exec into ru_maxrss,
        # so everything heavy runs in children and this parent stays small.
        made = json.loads(subprocess.run([sys.executable, os.path.abspath(__file__), "--prepare", work,
                                          "--nodes", str(args.nodes)],
                                         capture_output=True, text=True, check=True).stdout)
        lab, bundle_path, bundle_bytes = made["lab"], made["bundle"], made["bundle_bytes"]
        print("lab: %d nodes x 5 files, %d files, %.2f MB uncompressed, bundle %.2f MB; sizes of one node: %s"
              % (args.nodes, made["files"], made["raw_bytes"] / 1e6, bundle_bytes / 1e6, made["sizes_n0000"]))

        kubectl = kubectl_path()
        baseline = child("baseline", bundle_path, os.path.join(work, "unused.yml"))
        render = child("render", bundle_path, os.path.join(work, "manifests.yml"))
        parse = child("parse", bundle_path, os.path.join(work, "unused.yml"))
        kubectl_seconds = kubectl_per_node(kubectl, lab, args.nodes, os.path.join(work, "kubectl.yml"))

        peak = render["maxrss_kib"] * 1024
        above = peak - baseline["maxrss_kib"] * 1024
        print("render (c9s.render from the bundle): %.2f s, %d ConfigMaps, manifests %.2f MB"
              % (render["seconds"], render["configmaps"], render["manifest_bytes"] / 1e6))
        print("kubectl create configmap --dry-run=client -o yaml, per node: %.2f s (%d ConfigMaps, %.2f MB)"
              % (kubectl_seconds, args.nodes, os.path.getsize(os.path.join(work, "kubectl.yml")) / 1e6))
        speedup = kubectl_seconds / render["seconds"]
        print("speedup: %.1fx (target >= 20x): %s" % (speedup, "PASS" if speedup >= 20 else "FAIL"))
        print("render peak RSS (ru_maxrss) %.1f MB (VmHWM %.1f MB); interpreter + imports baseline %.1f MB; "
              "above baseline %.1f MB" % (peak / 1e6, render["vmhwm_kib"] * 1024 / 1e6,
                                          baseline["maxrss_kib"] * 1024 / 1e6, above / 1e6))
        print("memory vs bundle (%.2f MB .tar.gz): peak %.1fx, above baseline %.1fx (target < 3x): %s"
              % (bundle_bytes / 1e6, peak / bundle_bytes, above / bundle_bytes,
                 "PASS" if peak < 3 * bundle_bytes else "FAIL"))
        print("memory vs the lab's uncompressed content (%.2f MB): peak %.1fx, above baseline %.1fx"
              % (made["raw_bytes"] / 1e6, peak / made["raw_bytes"], above / made["raw_bytes"]))
        print("of the peak above baseline, reading the bundle and parsing its clab.yml with PyYAML "
              "alone takes %.1f MB (%.1fx the bundle)"
              % ((parse["maxrss_kib"] - baseline["maxrss_kib"]) * 1024 / 1e6,
                 (parse["maxrss_kib"] - baseline["maxrss_kib"]) * 1024.0 / bundle_bytes))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
