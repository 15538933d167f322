#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: image_check
short_description: Check that a lab's container images can be pulled, before deploying
version_added: 0.1.0
author: skyforge.labs team (@skyforge)
description:
  - Takes the images of a topology (a clab.yml or a lab bundle; kinds and images merged from
    defaults, kinds, groups and nodes as containerlab does) or an explicit list, applies
    mirror rewrite rules, and asks each image's registry for its manifest through the OCI
    distribution API (C(HEAD /v2/<name>/manifests/<ref>) accepting OCI and Docker manifests
    and indexes), answering Bearer token challenges and basic-auth challenges.
  - Optionally looks in the local container runtime first (C(docker image inspect) or
    C(ctr -n k8s.io images list)); an image found there counts as available.
  - Every image gets one of three states. C(available) it was found; C(missing) its registry
    answered that it has no such manifest or refused access; C(unchecked) its registry
    could not be asked (unreachable, timed out, HTTP 5xx), so nothing is known about it.
  - Every image that is not available gets a remedy that fits it. cEOS images are not public
    and must be imported by hand (C(docker image import cEOS64-lab-<ver>.tar ceos:<ver>));
    vrnetlab images are built from vendor VM images; these two remedies are given whatever
    the network answered, since no public registry serves them. Other images can be served
    from a mirror.
  - Names are normalised like docker does (C(alpine) is C(docker.io/library/alpine:latest);
    Docker Hub is reached at C(registry-1.docker.io)).
options:
  images:
    description:
      - Image references to check. Mutually exclusive with O(topology).
    type: list
    elements: str
  topology:
    description:
      - A containerlab topology (C(clab.yml), or a directory holding one) or a lab bundle
        (C(.tar.gz)) whose images to check. Mutually exclusive with O(images).
    type: path
  registries:
    description:
      - Settings per registry host. Registries not listed are accessed anonymously over HTTPS.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description:
          - The registry host as it appears in image references, with the port if any
            (C(registry.example.net:5000)); C(docker.io) for Docker Hub.
        type: str
        required: true
      username:
        description:
          - User for basic auth or for the token service.
        type: str
      password:
        description:
          - Password for O(registries[].username).
        type: str
      token:
        description:
          - A bearer token to send as is (instead of asking the token service).
        type: str
      insecure:
        description:
          - Talk plain HTTP to this registry (local test registries).
        type: bool
        default: false
  mirrors:
    description:
      - Prefix rewrite rules, tried in order; the first whose O(mirrors[].from) prefixes the
        image as written, or its normalised form, rewrites it.
    type: list
    elements: dict
    default: []
    suboptions:
      from:
        description:
          - The prefix to replace, e.g. C(docker.io/) or C(quay.io/frrouting/).
        type: str
        required: true
      to:
        description:
          - What to put instead, e.g. C(mirror.example.net:5000/dockerhub/).
        type: str
        required: true
  runtime:
    description:
      - Also look in this local container runtime.
      - V(docker) asks the daemon C(docker) reaches (set E(DOCKER_HOST) in the task's
        C(environment) for another one).
      - V(containerd) asks C(ctr) in the namespace the kubelet pulls into, C(k8s.io);
        E(CONTAINERD_NAMESPACE) picks another (nerdctl uses C(default)) and
        E(CONTAINERD_ADDRESS) another socket.
    type: str
    choices: [none, docker, containerd]
    default: none
  fail_on_missing:
    description:
      - Fail the task when any image is not known to be available, listing each with its
        remedy; that is an image its registry does not have (or refuses to show), and an
        image that could not be checked at all (registry unreachable, timed out, or an
        HTTP 5xx; status C(unchecked)).
      - With V(false) the task only reports; RV(missing) and RV(unchecked) tell the two apart.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each registry request.
    type: float
    default: 10.0
notes:
  - Supports check mode.
'''

EXAMPLES = r'''
- name: Are the lab's images pullable from our mirror?
  skyforge.labs.image_check:
    topology: "{{ lab_workdir }}/clab.yml"
    mirrors:
      - from: docker.io/
        to: registry.lab.example.net/dockerhub/
    registries:
      - host: registry.lab.example.net
        username: puller
        password: "{{ registry_password }}"

- name: Check a list, report without failing
  skyforge.labs.image_check:
    images: [quay.io/frrouting/frr:10.7.1, ceos:4.34.2F]
    runtime: docker
    fail_on_missing: false
  register: images

- name: Are the images already on this Kubernetes worker (containerd, as the kubelet sees them)?
  skyforge.labs.image_check:
    topology: "{{ lab_workdir }}/clab.yml"
    runtime: containerd
  environment:
    CONTAINERD_ADDRESS: /run/containerd/containerd.sock
'''

RETURN = r'''
images:
  description: One entry per unique image, in the order first used.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The image as written.
      type: str
      sample: ceos:4.34.2F
    resolved:
      description: The normalised reference checked, after mirror rules.
      type: str
      sample: docker.io/library/ceos:4.34.2F
    status:
      description: C(available), C(missing) (the registry does not have it or refused access),
        or C(unchecked) (the registry could not be asked).
      type: str
      sample: unchecked
    available:
      description: Whether the image was found.
      type: bool
    digest:
      description: The manifest digest (registry, containerd) or image id (docker); null when unknown.
      type: str
      sample: sha256:3dec6a6064fecba89c6a447020ec93568c005dcc4911fd9127c82bef47516fbd
    source:
      description: Where it was found (C(registry), C(docker), C(containerd)); null if missing.
      type: str
    remedy:
      description: What to do about a missing image; null when available.
      type: str
    error:
      description: What the registry or runtime said; null when available.
      type: str
    nodes:
      description: Topology nodes using the image (empty for O(images)).
      type: list
      elements: str
    mirror:
      description: The mirror prefix applied, if any.
      type: str
missing:
  description: Images (as written) whose registry answered that it does not have them or refused access.
  returned: always
  type: list
  elements: str
  sample: [ceos:4.34.2F]
unchecked:
  description: Images (as written) that could not be checked (registry unreachable, timed out, HTTP 5xx).
  returned: always
  type: list
  elements: str
  sample: [quay.io/frrouting/frr:10.7.1]
message:
  description: Every image that is not available, with its state, error and remedy (the
    failure message); empty when all are available.
  returned: always
  type: str
  sample: "images not available:\n- ceos:4.34.2F (nodes: r2) (missing): ... Fix: ..."
summary:
  description: One line counting available and missing images.
  returned: always
  type: str
  sample: "3 images: 2 available, 1 missing (ceos:4.34.2F)"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError
from ansible_collections.skyforge.labs.plugins.module_utils.images.check import run_image_check


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            images=dict(type="list", elements="str"),
            topology=dict(type="path"),
            registries=dict(type="list", elements="dict", default=[], options=dict(
                host=dict(type="str", required=True),
                username=dict(type="str"),
                password=dict(type="str", no_log=True),
                token=dict(type="str", no_log=True),
                insecure=dict(type="bool", default=False),
            )),
            mirrors=dict(type="list", elements="dict", default=[], options={
                "from": dict(type="str", required=True),
                "to": dict(type="str", required=True),
            }),
            runtime=dict(type="str", choices=["none", "docker", "containerd"], default="none"),
            fail_on_missing=dict(type="bool", default=True),
            timeout=dict(type="float", default=10.0),
        ),
        mutually_exclusive=[("images", "topology")],
        required_one_of=[("images", "topology")],
        supports_check_mode=True,
    )
    try:
        result = run_image_check(module.params)
    except LabError as exc:
        module.fail_json(msg=exc.message)
    if (result["missing"] or result["unchecked"]) and module.params["fail_on_missing"]:
        module.fail_json(msg=result["message"], **result)
    module.exit_json(changed=False, **result)


def main():
    run_module()


if __name__ == "__main__":
    main()
