# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a rendered 1,000-ConfigMap lab: c9s_apply vs `kubectl apply --server-side`.

    .venv/bin/python bench/bench_apply.py [--configmaps 1000] [--rounds 2]

One local etcd + kube-apiserver (tests/controlplane) with the Clabernetes CRDs. The lab is
rendered by skyforge.labs' own c9s_render code (one file per ConfigMap), once per namespace.
Each round applies it into a fresh namespace with kubectl and with c9s_apply (in-process,
YAML parsing included), then c9s_apply re-applies the unchanged lab three times. Targets: c9s_apply no
slower than kubectl; the no-op re-apply at least 5x faster than the first apply.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, ".skyforge", "collections"), REPO]

import yaml  # noqa: E402

from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s  # noqa: E402
from ansible_collections.skyforge.labs.plugins.module_utils.c9s.service import run  # noqa: E402
from tests.controlplane.cluster import ControlPlane  # noqa: E402
from tests.controlplane.fixtures import apply_params  # noqa: E402

FILES_PER_NODE = 10


def make_lab(root, files):
    """A containerlab lab whose every node binds FILES_PER_NODE distinct ~1 KiB files."""
    rng = random.Random(42)
    nodes = {}
    for index in range((files + FILES_PER_NODE - 1) // FILES_PER_NODE):
        name = "r%03d" % index
        binds = []
        for number in range(min(FILES_PER_NODE, files - index * FILES_PER_NODE)):
            rel = "node_files/%s/f%02d.cfg" % (name, number)
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as handle:
                handle.write("".join("line %d %d\n" % (i, rng.getrandbits(64)) for i in range(40)))
            binds.append("%s:/etc/skyforge/f%02d.cfg" % (rel, number))
        nodes[name] = {"kind": "linux", "image": "python:3.13-alpine", "binds": binds}
    with open(os.path.join(root, "clab.yml"), "w") as handle:
        yaml.safe_dump({"name": "bench", "topology": {"nodes": nodes}}, handle)


def render(lab, dest, namespace):
    # 3000 bytes per ConfigMap: one ~1.1 KiB file each (the envelope takes ~1.3 KiB)
    result = c9s.render(lab, dest, namespace, max_configmap_bytes=3000)
    return result["configmaps"] if isinstance(result["configmaps"], int) else len(result["configmaps"])


def timed(func):
    start = time.perf_counter()
    value = func()
    return time.perf_counter() - start, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--configmaps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="skyforge-bench-")
    cp = ControlPlane(os.path.join(work, "cluster"))
    try:
        cp.start()
        cp.install_crds()
        kubectl = os.path.join(cp.bin_dir, "kubectl")
        env = dict(os.environ, KUBECONFIG=cp.admin_kubeconfig, KUBECACHEDIR=os.path.join(work, "kube-cache"))
        lab = os.path.join(work, "lab")
        make_lab(lab, args.configmaps)

        def manifests(namespace):
            cp.create_namespace(namespace)
            dest = os.path.join(work, namespace + ".yml")
            count = render(lab, dest, namespace)
            assert count == args.configmaps, "rendered %d ConfigMaps" % count
            return dest

        def kubectl_apply(path):
            subprocess.run([kubectl, "apply", "--server-side", "--field-manager=kubectl-bench", "-f", path],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def ours(path):
            return run(apply_params(cp.admin_kubeconfig, src=path))

        # warm both clients up on a small lab (discovery caches, CRD storage initialisation)
        make_lab(os.path.join(work, "warm"), 20)
        for tool in (kubectl_apply, ours):
            cp.create_namespace("warm-" + tool.__name__.replace("_", "-"))
            dest = os.path.join(work, "warm-%s.yml" % tool.__name__)
            render(os.path.join(work, "warm"), dest, "warm-" + tool.__name__.replace("_", "-"))
            tool(dest)

        kubectl_times, our_times, noop_times = [], [], []
        for number in range(args.rounds):
            path_k = manifests("kubectl-%d" % number)
            seconds, _unused = timed(lambda: kubectl_apply(path_k))
            kubectl_times.append(seconds)
            path_o = manifests("ours-%d" % number)
            seconds, result = timed(lambda: ours(path_o))
            # a fresh namespace: every object is new (the lab's ConfigMaps, the Topology, and
            # the render's Day-2 inventory ConfigMap and credentials Secret)
            assert all(o["action"] == "created" for o in result["objects"]), result["objects"]
            assert sum(1 for o in result["objects"] if o["kind"] == "Topology") == 1
            assert len(result["objects"]) >= args.configmaps + 1, len(result["objects"])
            our_times.append(seconds)
            for _repeat in range(3):
                seconds, again = timed(lambda: ours(path_o))
                assert again["changed"] is False
                noop_times.append(seconds)
            print("round %d: kubectl %.2fs  c9s_apply %.2fs  c9s_apply no-op %.3fs" % (
                number + 1, kubectl_times[-1], our_times[-1], noop_times[-1]))
        kubectl_noop, _unused = timed(lambda: kubectl_apply(path_k))

        k, o, n = statistics.median(kubectl_times), statistics.median(our_times), statistics.median(noop_times)
        print()
        print("lab: %d ConfigMaps + 1 Topology (%d bytes of YAML), kube-apiserver %s, %d CPUs" % (
            args.configmaps, os.path.getsize(path_o), os.path.basename(os.path.realpath(
                os.path.join(cp.bin_dir, "kube-apiserver"))), os.cpu_count()))
        print("kubectl apply --server-side -f      %7.2f s  (median of %d)" % (k, len(kubectl_times)))
        print("c9s_apply first apply               %7.2f s  (median of %d)" % (o, len(our_times)))
        print("c9s_apply no-op re-apply            %7.3f s  (median of %d)" % (n, len(noop_times)))
        print("kubectl no-op re-apply (reference)  %7.2f s" % kubectl_noop)
        print("c9s_apply / kubectl                 %7.2f   target <= 1.00: %s" % (o / k, "PASS" if o <= k else "FAIL"))
        print("first / no-op re-apply speedup      %7.1fx  target >= 5x:   %s" % (o / n, "PASS" if o / n >= 5 else "FAIL"))
        return 0 if o <= k and o / n >= 5 else 1
    finally:
        cp.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
