# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real Clabernetes managers: build time, and c9s_apply -> every launcher Deployment.

    .venv/bin/python bench/bench_manager.py [--cold] [--version all|v0.6|v0.8] [--topology FILE]

Starts a private etcd + kube-apiserver (+ kube-controller-manager) and each manager in turn
(v0.6: clabernetes.containerlab.dev, v0.8: c9s.run), generates and renders the 104-node
examples/large lab (and the 5-node multi-vendor one for comparison), applies each with
c9s_apply and reports how long until the controller has created one launcher Deployment
per node, and until it reports the lab ready once a stand-in kubelet marks launchers ready;
then compares the generations (v0.8 compiles Node/Link objects first, then Deployments).
Build figures: the cached binary (what every test run pays), a rebuild with warm Go caches,
and with --cold a build from empty Go module and build caches (minutes; downloads modules).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, ".skyforge", "collections"))

from tests.controlplane.cluster import ControlPlane  # noqa: E402
from tests.controlplane.manager import GENERATIONS, Manager  # noqa: E402
from tests.controlplane.manager_fixtures import Kubelet  # noqa: E402

BUILD = os.path.join(REPO, "tests", "controlplane", "build_manager.sh")


def timed_build(generation, env=None):
    start = time.monotonic()
    proc = subprocess.run(["bash", BUILD, generation], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=dict(os.environ, **(env or {})), check=False)
    if proc.returncode != 0:
        raise SystemExit("build_manager.sh %s failed (exit %d): %s" % (generation, proc.returncode, proc.stderr[-2000:]))
    return time.monotonic() - start


def build_figures(generation, cold):
    figures = [("cached binary (every test run)", timed_build(generation))]
    scratch = tempfile.mkdtemp(prefix="bench-manager-")
    try:
        figures.append(("rebuild, warm Go caches", timed_build(generation, {"SKYFORGE_CACHE": scratch + "/warm"})))
        if cold:
            figures.append(("cold: empty Go module + build caches", timed_build(generation, {
                "SKYFORGE_CACHE": scratch + "/cold", "GOCACHE": scratch + "/gocache",
                "GOMODCACHE": scratch + "/gomod"})))
    finally:
        subprocess.run(["chmod", "-R", "u+w", scratch], check=False)  # the module cache is read-only
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def params(cp, src, **extra):
    out = dict(src=src, lab_name=None, state="present", namespace=None, create_namespace=True, prune=True,
               wait=False, wait_timeout=600, api_version="auto", field_manager="skyforge-labs",
               force_conflicts=False, kubeconfig=cp.admin_kubeconfig, context=None, host=None, api_key=None,
               ca_cert=None, validate_certs=None)
    out.update(extra)
    return out


def deploy(cp, api, mgr, bundle, namespace, workdir):
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s import service as c9s_apply
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s.wait import definition_nodes

    dest = os.path.join(workdir, namespace + ".yml")
    rendered = c9s.render(bundle, dest, namespace, api_version=mgr.api_version)
    import yaml
    with open(dest) as handle:
        topology = [d for d in yaml.safe_load_all(handle) if d and d["kind"] == "Topology"][0]
    nodes = set(definition_nodes(topology))
    kubelet = Kubelet(api, namespace, mgr)
    offset = mgr.log_offset()
    start = time.monotonic()
    c9s_apply.run(params(cp, dest))
    applied = time.monotonic() - start
    first = None
    while True:
        found = set(kubelet.deployments(topology["metadata"]["name"]))
        if found and first is None:
            first = time.monotonic() - start
        if nodes <= found:
            break
        if time.monotonic() - start > 600:
            raise SystemExit("only %d/%d launcher Deployments after 600s" % (len(found), len(nodes)))
        time.sleep(0.05)
    all_created = time.monotonic() - start
    kubelet.run(boot=0)
    try:
        result = c9s_apply.run(params(cp, dest, wait=True))
    finally:
        kubelet.stop()
    ready = time.monotonic() - start
    assert result["readiness"]["ready"], result["readiness"]
    errors = mgr.definition_errors(offset)
    return {"nodes": len(nodes), "configmaps": len(rendered["configmaps"]), "apply": applied,
            "first": first, "all": all_created, "ready": ready, "errors": errors}


def run_generation(cp, generation, labs, cold):
    print("Clabernetes manager %s build:" % generation)
    for label, seconds in build_figures(generation, cold):
        print("  %-40s %7.1f s" % (label, seconds))
    workdir = tempfile.mkdtemp(prefix="bench-manager-labs-")
    start = time.monotonic()
    mgr = Manager(cp, generation).start()
    print("manager start to /alive 200:               %7.1f s" % (time.monotonic() - start))
    api = cp.api_client()
    try:
        rows = [(label, deploy(cp, api, mgr, bundle, "bench-%s-%s" % (generation.replace(".", ""), label), workdir))
                for label, bundle in labs]
        from kubernetes import client

        for label, _bundle in labs:  # the next generation gets an empty cluster again
            client.CoreV1Api(api).delete_namespace("bench-%s-%s" % (generation.replace(".", ""), label))
    finally:
        api.close()
        mgr.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nc9s_apply -> launcher Deployments, %s (seconds from the start of c9s_apply):" % generation)
    print("  %-14s %6s %5s %8s %10s %10s %10s" % ("lab", "nodes", "CMs", "apply", "first dep", "all deps", "ready"))
    for label, r in rows:
        print("  %-14s %6d %5d %8.2f %10.2f %10.2f %10.2f" % (
            label, r["nodes"], r["configmaps"], r["apply"], r["first"], r["all"], r["ready"]))
        if r["errors"]:
            print("    definition errors in the manager log: %s" % r["errors"])
    (small_label, small), (big_label, big) = rows
    print("comparison: %s needs %.1fx the time of %s to get every launcher (%.0f ms per node vs %.0f); "
          "c9s_apply itself is %.0f%% of it\n" % (
              big_label, big["all"] / small["all"], small_label, 1000 * big["all"] / big["nodes"],
              1000 * small["all"] / small["nodes"], 100 * big["apply"] / big["all"]))
    return dict(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", choices=sorted(GENERATIONS) + ["all"], default="all")
    parser.add_argument("--cold", action="store_true", help="also time a build from empty Go caches")
    parser.add_argument("--topology", default=os.path.join(REPO, "examples", "large", "topology.yml"))
    args = parser.parse_args(argv)

    from ansible_collections.skyforge.labs.plugins.module_utils.netlab import generate as netlab_generate

    generations = sorted(GENERATIONS) if args.version == "all" else [args.version]
    workdir = tempfile.mkdtemp(prefix="bench-manager-bundles-")
    cp = ControlPlane().start()
    try:
        cp.install_crds()
        labs = []
        for label, topology in (("multi-vendor", os.path.join(REPO, "examples", "multi-vendor", "topology.yml")),
                                (os.path.basename(os.path.dirname(args.topology)), args.topology)):
            out = os.path.join(workdir, label)
            labs.append((label, netlab_generate.generate(topology, out + "-work", out + ".tar.gz")["bundle"]))
        results = {g: run_generation(cp, g, labs, args.cold) for g in generations}
    finally:
        cp.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if len(results) == 2:
        big = labs[1][0]
        old, new = results["v0.6"][big], results["v0.8"][big]
        print("comparison: %s (%d nodes), c9s_apply -> every launcher Deployment: v0.8 %.2f s vs v0.6 %.2f s "
              "(%.1fx); to ready: %.2f s vs %.2f s" % (big, new["nodes"], new["all"], old["all"],
                                                       new["all"] / old["all"], new["ready"], old["ready"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
