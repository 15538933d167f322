"""Filter skyforge.labs.job_path: extra-var paths made absolute against the job's directory."""

import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.skyforge.labs.plugins.filter.job_path import FilterModule, job_path


def test_relative_paths_join_the_base_and_absolute_ones_stay():
    assert job_path("out/lab/../lab/bundle.tar.gz", "/srv/project") == "/srv/project/out/lab/bundle.tar.gz"
    assert job_path("/etc/kubeconfig", "/srv/project") == "/etc/kubeconfig"
    assert job_path("~/kubeconfig", "/srv/project") == os.path.expanduser("~/kubeconfig")


def test_without_a_base_the_process_directory_is_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert job_path("clab.yml") == str(tmp_path / "clab.yml")


def test_empty_stays_empty_so_omit_can_follow():
    assert job_path("", "/srv") == "" and job_path(None, "/srv") == ""


def test_a_non_string_is_refused():
    with pytest.raises(AnsibleFilterError, match="expects a path string"):
        job_path(["a"], "/srv")
    assert FilterModule().filters()["job_path"] is job_path
