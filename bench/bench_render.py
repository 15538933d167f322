# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render synthetic labs of 100, 1,000 and 10,000 nodes; compare with clabverter and kubectl.

  .venv/bin/python bench/bench_render.py [--nodes 100,1000,10000] [--rounds 3] [--no-kubectl] [--keep DIR]

The lab is what netlab writes for FRR nodes: per node a startup-config (~0.7 KB), three
executable scripts bound into the container (`initial` ~3 KB, `ospf` ~0.6 KB, `bgp`
~1.8 KB) and one file shared by every node (FRR's `daemons`), plus a chain of links.
Every figure is a whole process, started fresh, on the same lab directory:

- clabverter v0.8 (upstream's converter; from tests/controlplane/build_manager.sh v0.8,
  i.e. ~/.cache/skyforge-labs/bin/clabverter-v0.8; CLABVERTER=path overrides), with
  --stdout into a file;
- ours as an Ansible task: ansible-playbook running one skyforge.labs.c9s_render task
  with `-c local`; the time is the task's (a callback notes when the task starts and when
  its result is back in the controller: the worker fork, argument checks, the render, the
  result's trip back), the peak memory is the highest peak RSS of the controller's children
  (the worker process that ran the task, a fork of ansible-playbook whose inherited pages
  count against us, and a module interpreter when there is one);
- ours as a library call (c9s.render) in a fresh interpreter;
- at 1,000 nodes, `kubectl create configmap --dry-run=client -o yaml` once per node.

The machine is shared and noisy: each size runs in ABBA order (clabverter, ours, ours,
clabverter, ...) for --rounds rounds and keeps the best time of each; peak memory is the
highest seen. CPU seconds (user + sys; for the task, the worker's plus the controller's
from task start to result) are printed at 1,000 nodes too: clabverter spreads its work
over several threads, which a loaded machine rewards in wall time, so the CPU figures
show the work each side does.  Goals (issues 2 and 15), checked at 1,000 nodes, exit status 1 when one is
missed: the Ansible task no slower than clabverter, its peak memory no higher than
clabverter's, the render >= 20x faster than kubectl.

A Topology carries the whole definition and the mounts table; past TOPOLOGY_MAX_BYTES
(etcd's 1.5 MiB request limit less a margin) c9s_render refuses the lab with an error
saying so; the bench prints the largest lab of this shape that fits, and at 10,000
nodes our error next to clabverter's output, whose Topology the API server would reject.
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
COLLECTIONS = os.path.join(REPO, ".skyforge", "collections")
CACHE_BIN = os.path.join(os.environ.get("SKYFORGE_CACHE", os.path.expanduser("~/.cache/skyforge-labs")), "bin")
GOAL_NODES = 1000
KUBECTL_SPEEDUP = 20

DAEMONS = "".join("%sd=%s\n%sd_options=\"-A 127.0.0.1\"\n" % (d, "yes" if i < 4 else "no", d)
                  for i, d in enumerate(["zebra", "bgp", "ospf", "ospf6", "rip", "ripng", "isis", "pim",
                                         "ldp", "nhrp", "eigrp", "babel", "sharp", "pbr", "bfd",
                                         "fabric", "vrrp", "path"])) * 4

LIBRARY = r"""
import sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.skyforge.labs.plugins.module_utils.c9s import output as c9s
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
try:
    c9s.render(sys.argv[2], sys.argv[3], "bench")
except LabError as exc:
    sys.exit("LabError: %s" % exc.message)
"""

CALLBACK = '''
from __future__ import absolute_import, division, print_function
__metaclass__ = type
DOCUMENTATION = """
name: task_timer
type: aggregate
short_description: bench_render, times each task
description: Writes the seconds (and the controller's CPU seconds) from each task start to its result,
  and the highest peak RSS (KiB) and the CPU seconds of the controller's children (the worker processes),
  as JSON, to TASK_TIMES_FILE.
"""
import json, multiprocessing, os, resource, time
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.started = {}
        self.times = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started[task.get_name()] = (time.perf_counter(), time.process_time())

    def _done(self, result, failed):
        name = result._task.get_name()
        wall, cpu = self.started[name]
        self.times[name] = {"seconds": time.perf_counter() - wall, "controller_cpu": time.process_time() - cpu,
                            "failed": failed, "msg": result._result.get("msg", "")}

    def v2_runner_on_ok(self, result):
        self._done(result, False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._done(result, True)

    def v2_playbook_on_stats(self, stats):
        # RUSAGE_CHILDREN counts a worker only once it is reaped, and the worker that sent the
        # result may still be exiting: active_children() reaps (through multiprocessing's own
        # bookkeeping) every worker that has ended, so wait until none is left
        deadline = time.monotonic() + 30
        while multiprocessing.active_children() and time.monotonic() < deadline:
            time.sleep(0.005)
        with open(os.environ["TASK_TIMES_FILE"], "w") as out:
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            json.dump({"tasks": self.times, "children_maxrss": children.ru_maxrss,
                       "children_cpu": children.ru_utime + children.ru_stime}, out)
'''

PLAYBOOK = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: render
      skyforge.labs.c9s_render:
        src: "{{ src }}"
        dest: "{{ dest }}"
        namespace: bench
"""


def _addr(rng):
    return "10.%d.%d.%d" % (rng.randrange(1, 4), rng.randrange(256), rng.randrange(1, 255))


def node_files(index, rng):
    """Netlab-like texts filled with node-specific values: {name: (text, mode)}."""
    loopback = "10.%d.%d.%d" % (index // 62500, index // 250 % 250, index % 250 + 1)
    initial = ["#!/bin/bash", "#", "# Initial configuration for n%05d, generated" % index, "#", "set -e",
               "hostname n%05d" % index, "sysctl -w net.ipv4.ip_forward=1",
               "sysctl -w net.ipv6.conf.all.forwarding=1"]
    for port in range(1, 9):
        initial += ["#", "# eth%d: n%05d -> n%05d (link %d, vlan %d)" % (port, index, rng.randrange(1000),
                                                                         rng.randrange(9999), rng.randrange(2, 4094)),
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
                " neighbor %s description n%05d" % (peer, rng.randrange(1000))]
    bgp += [" address-family ipv4 unicast", "  network %s/32" % loopback]
    bgp += ["  neighbor %s activate" % peer for peer in peers] + [" exit-address-family", "!"]
    startup = ["hostname n%05d" % index, "!", "interface lo", " ip address %s/32" % loopback, "!"]
    for port in range(1, 9):
        startup += ["interface eth%d" % port, " description to n%05d" % rng.randrange(1000),
                    " ip address %s/30" % _addr(rng), "!"]
    return {"initial": ("\n".join(initial) + "\n", 0o755), "ospf": ("\n".join(ospf) + "\n", 0o755),
            "bgp": ("\n".join(bgp) + "\n", 0o755), "startup.cfg": ("\n".join(startup) + "\n", 0o644)}


def synthesise(root, nodes):
    """The lab directory: clab.yml + node_files/ (startup-config, 3 scripts, 1 shared file)."""
    rng = random.Random(42)
    os.makedirs(os.path.join(root, "node_files"))
    with open(os.path.join(root, "node_files", "-shared-daemons"), "w") as handle:
        handle.write(DAEMONS)
    lines = ["name: bench", "topology:", "  nodes:"]
    for index in range(nodes):
        name = "n%05d" % index
        directory = os.path.join(root, "node_files", name)
        os.makedirs(directory)
        for filename, (text, mode) in sorted(node_files(index, rng).items()):
            path = os.path.join(directory, filename)
            with open(path, "w") as handle:
                handle.write(text)
            os.chmod(path, mode)
        lines += ["    %s:" % name, "      kind: linux", "      image: quay.io/frrouting/frr:10.7.1",
                  "      startup-config: node_files/%s/startup.cfg" % name, "      binds:"]
        lines += ["      - node_files/%s/%s:/etc/frr/scripts/%s" % (name, script, script)
                  for script in ("initial", "ospf", "bgp")]
        lines.append("      - node_files/-shared-daemons:/etc/frr/daemons:ro")
    lines.append("  links:")
    lines += ["  - endpoints: [\"n%05d:eth1\", \"n%05d:eth2\"]" % (index, index + 1) for index in range(nodes - 1)]
    with open(os.path.join(root, "clab.yml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


def measure(argv, env=None, stdout=None):
    """(wall seconds, peak RSS MiB, returncode, stderr, CPU seconds) of a whole child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    return seconds, usage.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status), err, usage.ru_utime + usage.ru_stime


def find_clabverter():
    if os.environ.get("CLABVERTER"):
        return os.environ["CLABVERTER"]
    proc = subprocess.run(["bash", os.path.join(REPO, "tests", "controlplane", "build_manager.sh"), "v0.8"],
                          capture_output=True, text=True, check=False)
    path = os.path.join(CACHE_BIN, "clabverter-v0.8")
    if proc.returncode != 0 or not os.access(path, os.X_OK):
        raise SystemExit("clabverter v0.8 is not available (tests/controlplane/build_manager.sh v0.8 exited %d: "
                         "%s); set CLABVERTER to a clabverter binary to compare with"
                         % (proc.returncode, proc.stderr.strip()[-300:]))
    return path


def find_kubectl():
    proc = subprocess.run(["bash", os.path.join(REPO, "tests", "controlplane", "build.sh")],
                          capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    path = os.path.join(lines[-1] if lines else "", "kubectl")
    if proc.returncode != 0 or not os.access(path, os.X_OK):
        raise SystemExit("kubectl is not available from tests/controlplane/build.sh: %s" % proc.stderr.strip()[-300:])
    return path


class Runner(object):
    def __init__(self, work, clabverter):
        self.work = work
        self.clabverter = clabverter
        tools = os.path.join(work, "tools")
        os.makedirs(os.path.join(tools, "callbacks"), exist_ok=True)
        with open(os.path.join(tools, "callbacks", "task_timer.py"), "w") as handle:
            handle.write(CALLBACK)
        with open(os.path.join(tools, "playbook.yml"), "w") as handle:
            handle.write(PLAYBOOK)
        self.tools = tools

    def clabverter_run(self, lab, out):
        with open(out, "wb") as handle:
            seconds, rss, code, err, cpu = measure([self.clabverter, "--topologyFile", os.path.join(lab, "clab.yml"),
                                               "--stdout", "--quiet", "--destinationNamespace", "bench"],
                                              stdout=handle)
        if code != 0:
            raise SystemExit("clabverter failed (%d): %s" % (code, err[-500:]))
        return {"seconds": seconds, "rss": rss, "cpu": cpu}

    def library_run(self, lab, out):
        seconds, rss, code, err, cpu = measure([sys.executable, "-c", LIBRARY, COLLECTIONS, lab, out])
        return {"seconds": seconds, "rss": rss, "cpu": cpu, "error": err.strip() if code else None}

    def task_run(self, lab, out):
        times = os.path.join(self.tools, "times.json")
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(self.tools, "callbacks"),
                   ANSIBLE_CALLBACKS_ENABLED="task_timer", TASK_TIMES_FILE=times,
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
        if os.path.exists(times):
            os.unlink(times)
        _s, _r, code, err, _c = measure([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                                     "-i", "localhost,", "-c", "local",
                                     "-e", "ansible_python_interpreter=%s" % sys.executable,
                                     "-e", "src=%s" % lab, "-e", "dest=%s" % out,
                                     os.path.join(self.tools, "playbook.yml")], env=env)
        if not os.path.exists(times):
            raise SystemExit("ansible-playbook exited %d without timing the task: %s" % (code, err[-500:]))
        with open(times) as handle:
            found = json.load(handle)
        task = found["tasks"]["render"]
        return {"seconds": task["seconds"], "rss": found["children_maxrss"] / 1024.0,
                "cpu": found["children_cpu"] + task["controller_cpu"],
                "error": task["msg"] if task["failed"] else None}


def best(runs):
    return {"seconds": min(r["seconds"] for r in runs), "rss": max(r["rss"] for r in runs),
            "cpu": min(r["cpu"] for r in runs),
            "error": next((r.get("error") for r in runs if r.get("error")), None)}


def topology_bytes(manifests):
    """Size of the last document (the Topology) of a multi-document YAML file."""
    with open(manifests, "rb") as handle:
        text = handle.read()
    return len(text) - text.rfind(b"\n---\n") - 5


def kubectl_per_node(kubectl, lab, nodes, out_path):
    env = dict(os.environ, KUBECONFIG=os.devnull)
    started = time.perf_counter()
    with open(out_path, "wb") as out:
        for index in range(nodes):
            name = "n%05d" % index
            args = [kubectl, "create", "configmap", "bench-%s" % name, "--namespace", "bench",
                    "--dry-run=client", "-o", "yaml",
                    "--from-file=daemons=%s" % os.path.join(lab, "node_files", "-shared-daemons")]
            for filename in ("bgp", "initial", "ospf", "startup.cfg"):
                args.append("--from-file=%s=%s" % (filename, os.path.join(lab, "node_files", name, filename)))
            out.write(b"---\n" + subprocess.run(args, capture_output=True, check=True, env=env).stdout)
    return time.perf_counter() - started


def run_size(runner, nodes, rounds):
    lab = os.path.join(runner.work, "lab-%d" % nodes)
    if not os.path.isdir(lab):
        synthesise(lab, nodes)
    outs = dict((name, os.path.join(runner.work, "%s-%d.yml" % (name, nodes))) for name in ("clabverter", "task", "library"))
    runs = {"clabverter": [], "task": [], "library": []}
    for _round in range(rounds):    # ABBA: clabverter, ours, ours, clabverter
        runs["clabverter"].append(runner.clabverter_run(lab, outs["clabverter"]))
        runs["task"].append(runner.task_run(lab, outs["task"]))
        runs["library"].append(runner.library_run(lab, outs["library"]))
        runs["clabverter"].append(runner.clabverter_run(lab, outs["clabverter"]))
    result = dict((name, best(found)) for name, found in runs.items())
    result["lab_bytes"] = sum(os.path.getsize(os.path.join(d, f)) for d, _s, files in os.walk(lab) for f in files)
    result["clabverter_topology"] = topology_bytes(outs["clabverter"])
    if not result["task"]["error"]:
        result["topology"] = topology_bytes(outs["task"])
        result["manifest_bytes"] = os.path.getsize(outs["task"])
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="100,1000,10000", help="comma-separated lab sizes")
    parser.add_argument("--rounds", type=int, default=3, help="ABBA rounds per size (best time kept)")
    parser.add_argument("--no-kubectl", action="store_true", help="skip the per-node kubectl comparison")
    parser.add_argument("--keep", help="keep the labs and outputs in this directory")
    args = parser.parse_args()
    sizes = [int(n) for n in args.nodes.split(",")]
    work = args.keep or tempfile.mkdtemp(prefix="bench-render-")
    os.makedirs(work, exist_ok=True)
    failures = []
    try:
        clabverter = find_clabverter()
        runner = Runner(work, clabverter)
        print("clabverter: %s; %d ABBA rounds per size, best time / highest peak RSS of each; whole processes"
              % (clabverter, args.rounds))
        print("%7s %9s | %-24s | %-24s | %-24s | %s" % ("nodes", "lab MB", "clabverter v0.8", "ours, Ansible task",
                                                       "ours, library call", "task/clabverter"))
        one = os.path.join(work, "lab-1")
        if not os.path.isdir(one):
            synthesise(one, 1)
        fixed = best([runner.task_run(one, os.path.join(work, "task-1.yml")) for _round in range(args.rounds)])
        clab_one = best([runner.clabverter_run(one, os.path.join(work, "clabverter-1.yml"))
                         for _round in range(args.rounds)])
        print("a 1-node lab (fixed costs): Ansible task %.2f s, %.1f MiB; clabverter %.2f s, %.1f MiB"
              % (fixed["seconds"], fixed["rss"], clab_one["seconds"], clab_one["rss"]))
        results = {}
        for nodes in sizes:
            r = results[nodes] = run_size(runner, nodes, args.rounds)
            cell = dict((name, "%6.2f s %7.1f MiB" % (r[name]["seconds"], r[name]["rss"])) for name in
                        ("clabverter", "task", "library"))
            for name in ("task", "library"):
                if r[name]["error"]:
                    cell[name] = "error after %.2f s" % r[name]["seconds"]
            ratio = "" if r["task"]["error"] else "%.2fx time, %.2fx memory" % (
                r["task"]["seconds"] / r["clabverter"]["seconds"], r["task"]["rss"] / r["clabverter"]["rss"])
            print("%7d %9.1f | %-24s | %-24s | %-24s | %s" % (nodes, r["lab_bytes"] / 1e6, cell["clabverter"],
                                                           cell["task"], cell["library"], ratio))
        for nodes in sizes:
            r = results[nodes]
            if r["task"]["error"]:
                print("%d nodes: c9s_render refuses the lab: %s" % (nodes, r["task"]["error"]))
                print("%d nodes: clabverter wrote a Topology of %d bytes; kube-apiserver accepts requests up to "
                      "3 MiB and etcd stores objects up to 1.5 MiB by default, so it cannot be applied either"
                      % (nodes, r["clabverter_topology"]))
            else:
                per_node = float(r["topology"]) / nodes
                print("%d nodes: our Topology is %d bytes (%.0f per node): labs of this shape fit one Topology up "
                      "to about %d nodes (c9s.plan.TOPOLOGY_MAX_BYTES)" % (nodes, r["topology"], per_node,
                                                                     _max_bytes() / per_node))
        if GOAL_NODES in results and not results[GOAL_NODES]["task"]["error"]:
            r = results[GOAL_NODES]
            print("CPU seconds (user + sys, least of the rounds; steadier than wall time on a loaded machine) at %d "
                  "nodes: clabverter %.2f, Ansible task %.2f (worker + controller from task start to result), "
                  "library call %.2f" % (GOAL_NODES, r["clabverter"]["cpu"], r["task"]["cpu"], r["library"]["cpu"]))
            for what, ours, theirs in (("time", r["task"]["seconds"], r["clabverter"]["seconds"]),
                                       ("peak memory", r["task"]["rss"], r["clabverter"]["rss"])):
                ok = ours <= theirs
                print("goal at %d nodes, Ansible task %s no higher than clabverter's: %.2f vs %.2f: %s"
                      % (GOAL_NODES, what, ours, theirs, "PASS" if ok else "FAIL"))
                if not ok:
                    failures.append("%s at %d nodes" % (what, GOAL_NODES))
        if not args.no_kubectl and GOAL_NODES in results:
            kubectl = find_kubectl()
            seconds = kubectl_per_node(kubectl, os.path.join(work, "lab-%d" % GOAL_NODES), GOAL_NODES,
                                       os.path.join(work, "kubectl.yml"))
            speedup = seconds / results[GOAL_NODES]["library"]["seconds"]
            ok = speedup >= KUBECTL_SPEEDUP
            print("kubectl create configmap --dry-run=client -o yaml, once per node (%d nodes): %.2f s; the library "
                  "render is %.1fx faster (goal >= %dx): %s" % (GOAL_NODES, seconds, speedup, KUBECTL_SPEEDUP,
                                                                "PASS" if ok else "FAIL"))
            if not ok:
                failures.append("kubectl speedup")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("MISSED: %s" % ", ".join(failures))
        return 1
    return 0


def _max_bytes():
    sys.path.insert(0, COLLECTIONS)
    from ansible_collections.skyforge.labs.plugins.module_utils.c9s import plan
    return plan.TOPOLOGY_MAX_BYTES


if __name__ == "__main__":
    sys.exit(main())
