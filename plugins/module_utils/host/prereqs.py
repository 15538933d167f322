# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host prerequisite checks for running labs, read from /proc, /sys, /dev and /etc.

Everything is read below `root` (default `/`) so the same checks run against a mounted
host filesystem or a prepared test tree. Each check returns
`{name, status: ok|warn|fail, detail, remedy}`; what a check expects comes from the lab's
needs (host.needs.derive_needs) or, without a topology, from the assumption that
VM-based nodes may run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import stat
import subprocess

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.host.needs import derive_needs
from ansible_collections.skyforge.labs.plugins.module_utils.lab.source import lab_nodes

FAIL_ON = ("fail", "warn", "never")
MODES = ("local", "cluster")
MIN_CONTAINERLAB = (0, 75, 0)
# kind's recommended floors; every container with systemd, FRR's watchfrr or docker
# itself holds inotify instances, and the default 128 runs out around a dozen nodes.
MIN_INOTIFY_INSTANCES = 512
MIN_INOTIFY_WATCHES = 524288
READ_CHUNK = 64 * 1024
READ_CAP = 4 * 1024 * 1024
BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
RUNTIMES = (
    ("docker", ("/run/docker.sock", "/var/run/docker.sock")),
    ("podman", ("/run/podman/podman.sock",)),
    ("containerd", ("/run/containerd/containerd.sock",)),
    ("crio", ("/run/crio/crio.sock", "/var/run/crio/crio.sock")),
)


class Unreadable(Exception):
    pass


class Host(object):
    """Read-only view of a host filesystem below `root`."""

    def __init__(self, root="/"):
        if not os.path.isdir(root):
            raise LabError("root %s is not a directory: point it at / or at a tree holding proc/, sys/ and dev/"
                           % root)
        self.root = os.path.abspath(root)

    def path(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def read(self, path):
        # /proc/sys handlers refuse a single read of 4 MiB or more (ENOMEM since Linux 5.8):
        # read in small chunks up to the same cap.
        chunks, size = [], 0
        try:
            with open(self.path(path), "rb") as handle:
                while size < READ_CAP:
                    chunk = handle.read(READ_CHUNK)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
            return b"".join(chunks)[:READ_CAP].decode("utf-8", "replace")
        except (IOError, OSError) as exc:
            raise Unreadable("cannot read %s: %s" % (self.path(path), exc.strerror or exc))

    def exists(self, path):
        return os.path.lexists(self.path(path))

    def is_socket(self, path):
        try:
            return stat.S_ISSOCK(os.stat(self.path(path)).st_mode)
        except OSError:
            return False

    def which(self, name):
        for directory in BIN_DIRS:
            candidate = self.path(os.path.join(directory, name))
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        return None


def result(name, status, detail, remedy=None):
    return {"name": name, "status": status, "detail": detail, "remedy": remedy}


def cpu_flags(host):
    text = host.read("/proc/cpuinfo")
    flags = set()
    for line in text.splitlines():
        key, dummy, value = line.partition(":")
        if key.strip() == "flags":
            flags.update(value.split())
    return flags, sum(1 for line in text.splitlines() if line.split(":")[0].strip() == "processor")


def meminfo(host):
    values = {}
    for line in host.read("/proc/meminfo").splitlines():
        match = re.match(r"^(\w+):\s+(\d+)\s*kB", line)
        if match:
            values[match.group(1)] = int(match.group(2)) // 1024
    return values


def parse_passwd(host):
    users, groups = {}, {}
    try:
        for line in host.read("/etc/passwd").splitlines():
            parts = line.split(":")
            if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
                users[parts[0]] = (int(parts[2]), int(parts[3]))
    except Unreadable:
        pass
    try:
        for line in host.read("/etc/group").splitlines():
            parts = line.split(":")
            if len(parts) >= 4 and parts[2].isdigit():
                groups[parts[0]] = (int(parts[2]), [m for m in parts[3].split(",") if m])
    except Unreadable:
        pass
    return users, groups


def user_ids(host, user):
    """(uid, set of gids, group names) for `user` per the tree's /etc/passwd and /etc/group."""
    users, groups = parse_passwd(host)
    if user not in users:
        return None
    uid, gid = users[user]
    gids = {gid}
    names = set()
    for name, (group_gid, members) in groups.items():
        if user in members or group_gid == gid:
            gids.add(group_gid)
            names.add(name)
    return uid, gids, names


def group_name(host, gid):
    dummy, groups = parse_passwd(host)
    for name, (group_gid, _members) in groups.items():
        if group_gid == gid:
            return name
    return str(gid)


def can_read_write(st, uid, gids):
    """Whether uid (with gids) may open a file read-write under its mode bits (root may)."""
    if uid == 0:
        return True
    mode = st.st_mode
    if st.st_uid == uid:
        return bool(mode & stat.S_IRUSR and mode & stat.S_IWUSR)
    if st.st_gid in gids:
        return bool(mode & stat.S_IRGRP and mode & stat.S_IWGRP)
    return bool(mode & stat.S_IROTH and mode & stat.S_IWOTH)


class Context(object):
    def __init__(self, host, needs, lab_user, mode, disk_path, min_free_disk_gb, run):
        self.host = host
        self.needs = needs
        self.lab_user = lab_user
        self.mode = mode
        self.disk_path = disk_path
        self.min_free_disk_gb = min_free_disk_gb
        self.run = run

    @property
    def vm_kinds(self):
        """VM-based kinds in the lab; None when no topology was given (assume they may run)."""
        return None if self.needs is None else self.needs["vm_kinds"]

    def vm_severity(self):
        return "fail" if self.vm_kinds is None or self.vm_kinds else "ok"

    def why_vm(self):
        if self.vm_kinds is None:
            return "VM-based (vrnetlab) nodes"
        return "the VM-based kinds in this lab (%s)" % ", ".join(self.vm_kinds)


def not_needed(name, ctx):
    return result(name, "ok", "not needed: the lab has no VM-based (vrnetlab) kinds")


def check_kvm(ctx):
    if ctx.vm_kinds == []:
        return not_needed("kvm", ctx)
    host = ctx.host
    path = host.path("/dev/kvm")
    try:
        st = os.stat(path)
    except OSError:
        return result("kvm", "fail", "%s does not exist: %s would run in QEMU without acceleration (unusably slow)"
                      % (path, ctx.why_vm()),
                      "enable VT-x/AMD-V in the firmware and load kvm_intel or kvm_amd (modprobe kvm_intel); "
                      "on a VM enable nested virtualisation on the hypervisor")
    if not stat.S_ISCHR(st.st_mode):
        return result("kvm", "fail", "%s is not a character device" % path,
                      "remove it and reload the kvm module so udev recreates /dev/kvm (10:232)")
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IROTH and mode & stat.S_IWOTH:
        return result("kvm", "ok", "%s is readable and writable by every user (mode %04o)" % (path, mode))
    ids = user_ids(host, ctx.lab_user)
    if ids is None:
        return result("kvm", "warn", "%s exists, but user %s is not in %s, so its access cannot be checked"
                      % (path, ctx.lab_user, host.path("/etc/passwd")),
                      "set lab_user to the account that runs the lab")
    uid, gids, _names = ids
    owner = "mode %04o, owner uid %d, group %s" % (stat.S_IMODE(st.st_mode), st.st_uid, group_name(host, st.st_gid))
    if not can_read_write(st, uid, gids):
        group = group_name(host, st.st_gid)
        return result("kvm", "fail", "%s is not readable and writable by %s (%s)" % (path, ctx.lab_user, owner),
                      "add %s to group %s (usermod -aG %s %s, then log in again) or grant access with a udev "
                      "rule: KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"" % (ctx.lab_user, group, group, ctx.lab_user))
    return result("kvm", "ok", "%s is usable by %s (%s)" % (path, ctx.lab_user, owner))


def check_cpu_virt(ctx):
    if ctx.vm_kinds == []:
        return not_needed("cpu_virt", ctx)
    flags, _count = cpu_flags(ctx.host)
    found = sorted(flags & {"vmx", "svm"})
    if found:
        return result("cpu_virt", "ok", "CPU virtualisation flag %s present" % found[0])
    where = "this VM's CPU" if "hypervisor" in flags else "the CPU"
    return result("cpu_virt", ctx.vm_severity(),
                  "%s shows neither vmx nor svm in %s: containerlab refuses %s"
                  % (where, ctx.host.path("/proc/cpuinfo"), ctx.why_vm()),
                  "enable VT-x/AMD-V in the firmware, or nested virtualisation if this is a VM")


def nested_param(host):
    for module in ("kvm_intel", "kvm_amd"):
        try:
            return module, host.read("/sys/module/%s/parameters/nested" % module).strip()
        except Unreadable:
            continue
    return None, None


def check_nested_virt(ctx):
    if ctx.vm_kinds == []:
        return not_needed("nested_virt", ctx)
    flags, _count = cpu_flags(ctx.host)
    if "hypervisor" in flags:
        if flags & {"vmx", "svm"}:
            return result("nested_virt", "ok", "this is a VM and nested virtualisation is enabled (vmx/svm visible)")
        return result("nested_virt", ctx.vm_severity(),
                      "this is a VM without nested virtualisation: the guest CPU has no vmx/svm flag, so %s cannot "
                      "use KVM" % ctx.why_vm(),
                      "enable nested virtualisation for this VM (KVM: modprobe kvm_intel nested=1 on the hypervisor "
                      "and CPU model host-passthrough; clouds: choose an instance type that offers it)")
    module, value = nested_param(ctx.host)
    if module is None:
        return result("nested_virt", "warn", "bare metal, but neither kvm_intel nor kvm_amd is loaded",
                      "modprobe kvm_intel (or kvm_amd)")
    if value in ("Y", "1"):
        return result("nested_virt", "ok", "bare metal; %s nested=%s" % (module, value))
    return result("nested_virt", "warn",
                  "bare metal; %s nested=%s: VM images that run their own hypervisor inside cannot" % (module, value),
                  "echo 'options %s nested=1' > /etc/modprobe.d/kvm-nested.conf and reload %s" % (module, module))


def norm(name):
    return name.replace("-", "_")


def kernel_module_state(host):
    """(loaded names, builtin names, loadable names, kernel release, modular) with '-' read
    as '_'. A kernel built without loadable module support has no /proc/modules (modular
    False): what it has is built in, and shows under /sys/module when it has parameters."""
    release = host.read("/proc/sys/kernel/osrelease").strip()
    loaded = set()
    modular = host.exists("/proc/modules")
    for line in (host.read("/proc/modules") if modular else "").splitlines():
        if line.strip():
            loaded.add(norm(line.split()[0]))
    base = "/lib/modules/%s/" % release
    ko = re.compile(r"([^/\s]+)\.ko(?:\.xz|\.zst|\.gz)?$")

    def names(path, first_field):
        found = set()
        try:
            text = host.read(base + path)
        except Unreadable:
            return found
        for line in text.splitlines():
            field = line.split(":")[0].strip() if first_field else line.strip()
            match = ko.search(field)
            if match:
                found.add(norm(match.group(1)))
        return found

    return loaded, names("modules.builtin", False), names("modules.dep", True), release, modular


def check_kernel_modules(ctx):
    wanted = ctx.needs["modules"] if ctx.needs else {}
    if not wanted:
        return result("kernel_modules", "ok", "no kernel modules needed by the lab's features")
    loaded, builtin, loadable, release, modular = kernel_module_state(ctx.host)
    states = {}
    for module in wanted:
        key = module.replace("-", "_")
        if key in loaded or ctx.host.exists("/sys/module/%s" % key):
            states[module] = "loaded"
        elif key in builtin:
            states[module] = "built in"
        elif key in loadable:
            states[module] = "available, not loaded"
        else:
            states[module] = "missing"
    detail = "; ".join("%s: %s (for %s)" % (m, states[m], ", ".join(wanted[m])) for m in sorted(states))
    missing = sorted(m for m, s in states.items() if s == "missing")
    unloaded = sorted(m for m, s in states.items() if s == "available, not loaded")
    if missing and not modular:
        return result("kernel_modules", "fail", detail + " (kernel %s cannot load modules: %s does not exist)"
                      % (release, ctx.host.path("/proc/modules")),
                      "run the lab on a kernel that has %s built in or can load modules (CONFIG_MODULES)"
                      % ", ".join(missing))
    if missing:
        return result("kernel_modules", "fail", detail,
                      "kernel %s lacks %s: install the kernel's extra modules (Debian/Ubuntu: "
                      "linux-modules-extra-%s; or build them), then modprobe %s"
                      % (release, ", ".join(missing), release, " ".join(missing)))
    if unloaded:
        return result("kernel_modules", "warn", detail,
                      "load them now and at boot: modprobe -a %s; printf '%%s\\n' %s > /etc/modules-load.d/labs.conf"
                      % (" ".join(unloaded), " ".join(unloaded)))
    return result("kernel_modules", "ok", detail)


def check_memory(ctx):
    mem = meminfo(ctx.host)
    if "MemTotal" not in mem:
        raise Unreadable("%s has no MemTotal line" % ctx.host.path("/proc/meminfo"))
    total, available = mem["MemTotal"], mem.get("MemAvailable", mem["MemTotal"])
    if not ctx.needs or not ctx.needs["nodes"]:
        return result("memory", "ok", "%d MiB total, %d MiB available (no topology to compare with)"
                      % (total, available))
    need = ctx.needs["memory_mb"]
    detail = "lab needs about %d MiB for %d nodes; host has %d MiB total, %d MiB available" % (
        need, len(ctx.needs["nodes"]), total, available)
    if total < need:
        return result("memory", "fail", detail, "run the lab on a host with at least %d MiB, or split it across "
                      "Kubernetes workers (or drop VM-based nodes)" % need)
    if available < need:
        return result("memory", "warn", detail, "free memory (stop other labs) before deploying")
    return result("memory", "ok", detail)


def check_cpus(ctx):
    _flags, count = cpu_flags(ctx.host)
    if not ctx.needs or not ctx.needs["nodes"]:
        return result("cpus", "ok", "%d CPUs (no topology to compare with)" % count)
    need = ctx.needs["cpus"]
    detail = "lab asks for %d vCPUs in total (largest node %d); host has %d" % (need, ctx.needs["max_node_cpus"], count)
    if count < ctx.needs["max_node_cpus"] or count < need:
        return result("cpus", "warn", detail, "expect slow boots and timeouts from oversubscription; use a bigger "
                      "host or fewer VM-based nodes")
    return result("cpus", "ok", detail)


def check_disk(ctx):
    path = ctx.host.path(ctx.disk_path)
    while not os.path.exists(path) and path != ctx.host.root:
        path = os.path.dirname(path)
    try:
        st = os.statvfs(path)
    except OSError as exc:
        raise Unreadable("cannot stat %s: %s" % (path, exc.strerror))
    free_gb = st.f_bavail * st.f_frsize / float(1024 ** 3)
    detail = "%.1f GiB free at %s (want %d GiB)" % (free_gb, path, ctx.min_free_disk_gb)
    if free_gb < ctx.min_free_disk_gb:
        return result("disk", "fail", detail, "free space under %s (docker image prune, remove old labs) or move "
                      "the container storage to a larger disk" % ctx.disk_path)
    return result("disk", "ok", detail)


def check_container_runtime(ctx):
    found = []
    for name, sockets in RUNTIMES:
        binary = ctx.host.which(name)
        socket_path = next((s for s in sockets if ctx.host.is_socket(s)), None)
        if binary or socket_path:
            found.append((name, binary, socket_path))
    usable = [f for f in found if f[1] and f[2]]
    if ctx.mode == "local":
        usable = [f for f in usable if f[0] in ("docker", "podman")]
        wanted = "docker (or podman), which containerlab drives"
    else:
        wanted = "a CRI runtime (containerd or CRI-O) for the launcher pods"
    if usable:
        name, binary, socket_path = usable[0]
        return result("container_runtime", "ok", "%s at %s, socket %s" % (name, binary, socket_path))
    if found:
        parts = ["%s (binary %s, socket %s)" % (n, b or "missing", s or "missing") for n, b, s in found]
        return result("container_runtime", "fail", "no running runtime for this mode (%s): found %s"
                      % (ctx.mode, "; ".join(parts)),
                      "start it (systemctl enable --now %s) or install %s" % (found[0][0], wanted))
    return result("container_runtime", "fail", "no container runtime found under %s" % ctx.host.root,
                  "install %s" % wanted)


def version_tuple(text):
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text or "")
    return tuple(int(x) for x in match.groups()) if match else None


def check_containerlab(ctx):
    if ctx.mode != "local":
        return result("containerlab", "ok", "not needed: containerlab runs inside the Clabernetes launcher pods")
    binary = ctx.host.which("containerlab") or ctx.host.which("clab")
    minimum = ".".join(str(x) for x in MIN_CONTAINERLAB)
    if not binary:
        return result("containerlab", "fail", "containerlab is not installed",
                      "install containerlab >= %s (https://containerlab.dev/install/)" % minimum)
    rc, out, err = ctx.run([binary, "version"])
    version = None
    for line in (out or "").splitlines():
        if line.strip().lower().startswith("version"):
            version = version_tuple(line)
    version = version or version_tuple(out)
    if rc != 0 or version is None:
        return result("containerlab", "warn", "%s version failed (rc %s): %s" % (binary, rc, (err or out).strip()[-200:]),
                      "check the containerlab installation")
    text = ".".join(str(x) for x in version)
    if version < MIN_CONTAINERLAB:
        return result("containerlab", "fail", "containerlab %s is older than %s (netlab needs it)" % (text, minimum),
                      "upgrade: containerlab version upgrade")
    ids = user_ids(ctx.host, ctx.lab_user)
    if ids and ids[0] != 0 and "clab_admins" not in ids[2]:
        return result("containerlab", "warn", "containerlab %s; user %s is not in clab_admins" % (text, ctx.lab_user),
                      "usermod -aG clab_admins %s (or run labs as root)" % ctx.lab_user)
    return result("containerlab", "ok", "containerlab %s at %s" % (text, binary))


def check_inotify(ctx):
    instances = int(ctx.host.read("/proc/sys/fs/inotify/max_user_instances").strip())
    watches = int(ctx.host.read("/proc/sys/fs/inotify/max_user_watches").strip())
    detail = "max_user_instances=%d, max_user_watches=%d" % (instances, watches)
    if instances < MIN_INOTIFY_INSTANCES or watches < MIN_INOTIFY_WATCHES:
        return result("inotify", "warn", detail + " (want >= %d and >= %d)" % (MIN_INOTIFY_INSTANCES, MIN_INOTIFY_WATCHES),
                      "sysctl -w fs.inotify.max_user_instances=%d fs.inotify.max_user_watches=%d and persist it in "
                      "/etc/sysctl.d/" % (max(instances, MIN_INOTIFY_INSTANCES), max(watches, MIN_INOTIFY_WATCHES)))
    return result("inotify", "ok", detail)


def check_cgroup_v2(ctx):
    if ctx.host.exists("/sys/fs/cgroup/cgroup.controllers"):
        controllers = ctx.host.read("/sys/fs/cgroup/cgroup.controllers").split()
        return result("cgroup_v2", "ok", "unified cgroup v2 hierarchy (controllers: %s)" % " ".join(controllers))
    return result("cgroup_v2", "warn", "%s is not a cgroup v2 mount" % ctx.host.path("/sys/fs/cgroup"),
                  "boot with systemd.unified_cgroup_hierarchy=1; newer images (cEOS, SR Linux, systemd-based "
                  "containers) expect cgroup v2")


# (name, check) in report order; the module's `checks` choices come from here.
CHECK_FUNCTIONS = (
    ("kvm", check_kvm), ("cpu_virt", check_cpu_virt), ("nested_virt", check_nested_virt),
    ("kernel_modules", check_kernel_modules), ("memory", check_memory), ("cpus", check_cpus), ("disk", check_disk),
    ("container_runtime", check_container_runtime), ("containerlab", check_containerlab), ("inotify", check_inotify),
    ("cgroup_v2", check_cgroup_v2),
)
CHECKS = tuple(name for name, _check in CHECK_FUNCTIONS)


def run_command(argv):
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def run_checks(root="/", needs=None, checks=None, lab_user="root", mode="local", disk_path="/var/lib",
               min_free_disk_gb=20, run=None):
    """Every selected check's result, in CHECKS order. A check whose files are missing fails
    with what could not be read instead of stopping the others."""
    selected = list(checks) if checks else list(CHECKS)
    unknown = [c for c in selected if c not in CHECKS]
    if unknown:
        raise LabError("unknown check(s) %s: choose from %s" % (", ".join(unknown), ", ".join(CHECKS)))
    if mode not in MODES:
        raise LabError("mode %r is not one of %s" % (mode, ", ".join(MODES)))
    ctx = Context(Host(root), needs, lab_user, mode, disk_path, min_free_disk_gb, run or run_command)
    results = []
    for name, check in CHECK_FUNCTIONS:
        if name not in selected:
            continue
        try:
            results.append(check(ctx))
        except Unreadable as exc:
            results.append(result(name, "fail", str(exc), "run on a Linux host, or point root at a tree that holds "
                                  "the file (proc/, sys/, dev/ of the host)"))
        except ValueError as exc:
            results.append(result(name, "fail", "unexpected content: %s" % exc, "check the host's %s" % name))
    return results


def summarise(results):
    counts = dict((s, [r["name"] for r in results if r["status"] == s]) for s in ("ok", "warn", "fail"))
    line = "%d checks: %d ok, %d warn, %d fail" % (
        len(results), len(counts["ok"]), len(counts["warn"]), len(counts["fail"]))
    bad = counts["fail"] + counts["warn"]
    if bad:
        line += " (%s)" % ", ".join("%s %s" % (n, "fail" if n in counts["fail"] else "warn") for n in bad)
    return line


def failures(results, fail_on):
    """The results that fail the task under `fail_on`."""
    if fail_on not in FAIL_ON:
        raise LabError("fail_on %r is not one of %s" % (fail_on, ", ".join(FAIL_ON)))
    levels = {"fail": ("fail",), "warn": ("fail", "warn"), "never": ()}[fail_on]
    return [r for r in results if r["status"] in levels]


def failure_message(bad):
    lines = ["host prerequisites not met:"]
    for r in bad:
        lines.append("- %s (%s): %s. Fix: %s" % (r["name"], r["status"], r["detail"], r["remedy"]))
    return "\n".join(lines)


def host_prereqs(params):
    """What the host_prereqs module returns: checks, summary, needs, failed list and message."""
    needs = None
    if params.get("topology"):
        try:
            lab = lab_nodes(params["topology"])
        except LabError as exc:
            origin = params.get("topology_origin")
            if not origin:
                raise
            # the role passes a temporary copy of the user's file: name both
            raise LabError(exc.message.replace(params["topology"], "%s (copied to %s)"
                                               % (origin, params["topology"])))
        needs = derive_needs(lab, params.get("modules") or ())
    elif params.get("modules"):
        needs = derive_needs([], params["modules"])
        needs["vm_kinds"] = None  # no topology: still assume VM-based nodes may run
    results = run_checks(params.get("root") or "/", needs, params.get("checks"), params.get("lab_user") or "root",
                         params.get("mode") or "local", params.get("disk_path") or "/var/lib",
                         params.get("min_free_disk_gb", 20))
    bad = failures(results, params.get("fail_on") or "fail")
    return {"checks": results, "summary": summarise(results), "needs": needs,
            "failed_checks": [r["name"] for r in bad], "message": failure_message(bad) if bad else ""}
