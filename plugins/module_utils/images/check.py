# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Are a lab's container images pullable? Mirrors, registry and runtime checks, remedies.

Each image is normalised (docker rules), rewritten by the first matching mirror rule,
then looked up in the local runtime (optional) and in its registry through the OCI
distribution API. Missing images get the remedy that fits the image: cEOS is imported by
hand, vrnetlab images are built from vendor disk images, anything else can be mirrored.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.lab import source as lab_source
from ansible_collections.skyforge.labs.plugins.module_utils.images.registry import (
    RegistryClient, parse_reference,
)

RUNTIMES = ("none", "docker", "containerd")


def validate_mirrors(mirrors):
    rules = []
    for index, rule in enumerate(mirrors or []):
        if not isinstance(rule, dict) or not rule.get("from") or not rule.get("to"):
            raise LabError("mirrors[%d] must be a mapping with non-empty 'from' and 'to' prefixes, got %r"
                           % (index, rule))
        rules.append((str(rule["from"]), str(rule["to"])))
    return rules


def apply_mirrors(image, rules):
    """(rewritten image, rule) for the first rule whose `from` prefixes the image.

    A rule is tried against the image as written and against its normalised form, so
    `from: docker.io/` also catches `alpine:3` (docker.io/library/alpine:3).
    """
    normalised = str(parse_reference(image))
    for source, target in rules:
        for candidate in (image, normalised):
            if candidate.startswith(source):
                return target + candidate[len(source):], (source, target)
    return image, None


def image_family(ref):
    base = ref.repository.rsplit("/", 1)[-1]
    if base.startswith("ceos"):
        return "ceos"
    if ref.repository.startswith(("vrnetlab/", "library/vrnetlab")) or "vrnetlab" in ref.repository:
        return "vrnetlab"
    return "other"


def remedy_for(image, ref, outcome_status, error, mirrored, rules):
    """What the user should do about an image that is not available.

    cEOS and vrnetlab images are in no public registry, so their remedy does not depend on
    what the network answered."""
    family = image_family(ref)
    tag = ref.tag or "<version>"
    if family == "other" and outcome_status == "unauthorized":
        return ("give credentials for %s: registries: {%s: {username: ..., password: ...}} (or token: ...)"
                % (ref.registry, ref.registry))
    if family == "other" and outcome_status == "error":
        return ("the registry %s could not be checked (%s); check the network path and the registry, or "
                "add a mirror rule {from: '%s/', to: '<reachable-registry>/'}" % (ref.registry, error, ref.registry))
    if family == "ceos":
        return ("cEOS is not in a public registry: download cEOS64-lab-%s.tar.xz from arista.com, then "
                "'docker image import cEOS64-lab-%s.tar %s'; for Kubernetes labs push it to a registry the "
                "nodes can pull from and add a mirror rule {from: '%s', to: '<registry>/ceos'}"
                % (tag, tag, image, image.split(":")[0]))
    if family == "vrnetlab":
        return ("vrnetlab images are built from vendor VM images: put the vendor qcow2 into the matching "
                "vrnetlab/<platform> directory, run 'make' to build %s, then push it to a registry the lab "
                "hosts can pull from (and add a mirror rule if its name differs)" % image)
    if mirrored:
        return ("the mirror %s does not have it: copy it there (e.g. 'skopeo copy docker://%s docker://%s') "
                "or fix the mirror rule" % (mirrored[1], image, str(ref)))
    hint = "check the name and tag" + (" (the registry has no such manifest)" if outcome_status == "missing" else "")
    if not rules:
        hint += ", or add a mirror rule {from: '%s/', to: '<your-mirror>/'}" % ref.registry
    return hint


def runtime_argv(runtime, ref):
    """The command that looks `ref` up in the local runtime.

    containerd: the namespace the kubelet (CRI) pulls into, `k8s.io`, unless
    CONTAINERD_NAMESPACE says otherwise (nerdctl uses `default`); `ctr` finds the daemon
    through CONTAINERD_ADDRESS. A digest reference matches any image with that manifest."""
    if runtime == "docker":
        return ["docker", "image", "inspect", "--format", "{{.Id}}", str(ref)]
    namespace = os.environ.get("CONTAINERD_NAMESPACE") or "k8s.io"
    selector = ('target.digest=="%s"' % ref.digest) if ref.digest else ('name=="%s"' % ref)
    return ["ctr", "--namespace", namespace, "images", "list", selector]


def runtime_has(runtime, ref, run=None):
    """(present, digest or None, error or None) for `ref` in the local container runtime.

    The digest is docker's image ID, or the manifest digest containerd recorded."""
    run = run or _run
    argv = runtime_argv(runtime, ref)
    if not shutil.which(argv[0]):
        return False, None, "%s is not installed on this host (runtime: %s)" % (argv[0], runtime)
    rc, out, err = run(argv)
    if runtime == "docker":
        if rc == 0 and out.strip():
            return True, out.strip(), None
        if "No such image" in err or "No such object" in err:
            return False, None, None
        return False, None, "docker image inspect failed (rc %d): %s" % (rc, err.strip()[-300:])
    if rc != 0:
        return False, None, "ctr images list failed (rc %d): %s" % (rc, err.strip()[-300:])
    # REF TYPE DIGEST SIZE PLATFORMS LABELS: a header, then one row per matching image
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    if not rows:
        return False, None, None
    return True, rows[0][2] if len(rows[0]) > 2 else None, None


def _run(argv):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, env=dict(os.environ, LC_ALL="C"), check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def check_images(images, registries=None, mirrors=None, runtime="none", timeout=10.0, nodes=None,
                 client=None, run=None):
    """One result dict per unique image, in the order given; and the images found missing
    (those whose registry could not be asked have status `unchecked` and are not in it)."""
    if runtime not in RUNTIMES:
        raise LabError("runtime %r is not one of %s" % (runtime, ", ".join(RUNTIMES)))
    rules = validate_mirrors(mirrors)
    client = client or RegistryClient(registries, timeout)
    results = []
    seen = set()
    for image in images:
        if image in seen:
            continue
        seen.add(image)
        results.append(check_image(image, client, rules, runtime, (nodes or {}).get(image, []), run))
    missing = [r["image"] for r in results if r["status"] == "missing"]
    return results, missing


def check_image(image, client, rules, runtime, node_list, run):
    resolved, rule = apply_mirrors(image, rules)
    ref = parse_reference(resolved)
    result = {"image": image, "resolved": str(ref), "status": "missing", "available": False, "digest": None,
              "source": None,
              "remedy": None, "error": None, "nodes": sorted(node_list), "mirror": rule[1] if rule else None}
    runtime_error = None
    if runtime != "none":
        present, digest, runtime_error = runtime_has(runtime, ref, run)
        if present:
            result.update(status="available", available=True, source=runtime, digest=digest)
            return result
    outcome = client.check(ref)
    if outcome.status == "available":
        result.update(status="available", available=True, source="registry", digest=outcome.digest)
        return result
    if outcome.status == "error":
        result["status"] = "unchecked"
    result["error"] = "; ".join(e for e in (outcome.error, runtime_error) if e)
    result["remedy"] = remedy_for(image, ref, outcome.status, outcome.error, rule, rules)
    return result


def images_from_nodes(lab_nodes):
    """(images in first-use order, {image: [node names]}); nodes without an image are skipped."""
    images = []
    nodes = {}
    for node in lab_nodes:
        if not node.image:
            continue
        if node.image not in nodes:
            images.append(node.image)
            nodes[node.image] = []
        nodes[node.image].append(node.name)
    return images, nodes


def registries_by_host(entries):
    out = {}
    for entry in entries or []:
        host = entry.get("host")
        if not host:
            raise LabError("registries entries need a 'host' (e.g. registry.example.net:5000)")
        if host in out:
            raise LabError("registry %s is listed twice in registries: merge the entries" % host)
        out[host] = dict((k, v) for k, v in entry.items() if k != "host")
    return out


def summarise(results, missing, unchecked=()):
    line = "%d images: %d available, %d missing" % (
        len(results), len(results) - len(missing) - len(unchecked), len(missing))
    if missing:
        line += " (%s)" % ", ".join(missing)
    if unchecked:
        line += ", %d could not be checked (%s)" % (len(unchecked), ", ".join(unchecked))
    return line


def failure_message(results):
    lines = ["images not available:"]
    for result in results:
        if not result["available"]:
            used = " (nodes: %s)" % ", ".join(result["nodes"]) if result["nodes"] else ""
            state = "could not check" if result["status"] == "unchecked" else "missing"
            lines.append("- %s%s (%s): %s. Fix: %s" % (result["image"], used, state, result["error"],
                                                       result["remedy"]))
    return "\n".join(lines)


def run_image_check(params):
    """What the image_check module returns (images, missing, summary, message)."""
    nodes = {}
    if params.get("topology"):
        images, nodes = images_from_nodes(lab_source.lab_nodes(params["topology"]))
    else:
        images = list(params.get("images") or [])
    results, missing = check_images(images, registries_by_host(params.get("registries")), params.get("mirrors"),
                                    params.get("runtime") or "none", params.get("timeout") or 10.0, nodes)
    unchecked = [r["image"] for r in results if r["status"] == "unchecked"]
    return {"images": results, "missing": missing, "unchecked": unchecked,
            "summary": summarise(results, missing, unchecked),
            "message": failure_message(results) if missing or unchecked else ""}
