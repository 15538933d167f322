"""Lookup skyforge.labs.cwd: the controller's working directory, whatever $PWD says."""

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.skyforge.labs.plugins.lookup.cwd import LookupModule


def test_the_real_working_directory_not_pwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PWD", "/somewhere/else")
    assert LookupModule().run([]) == [str(tmp_path)]


def test_terms_are_refused():
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        LookupModule().run(["x"])
