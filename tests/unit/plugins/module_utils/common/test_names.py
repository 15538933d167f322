# -*- coding: utf-8 -*-
# Copyright: (c) 2026, skyforge.labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mapping names to Kubernetes names: valid, stable, distinct."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.skyforge.labs.plugins.module_utils.common import names
from ansible_collections.skyforge.labs.plugins.module_utils.common.errors import LabError


@pytest.mark.parametrize("value", ["r1", "spine-01", "a"])
def test_valid_labels_are_kept(value):
    assert names.to_label(value) == value


@pytest.mark.parametrize("value", ["R1", "my_lab", "mv_3", "1leaf", "-x-", "___", "sw.1", "Ünïcode",
                                   "x" * 80, "a" * 63 + "B"])
def test_invalid_labels_become_valid_and_stable(value):
    mapped = names.to_label(value)
    assert names.is_label(mapped), mapped
    assert len(mapped) <= 63
    assert names.to_label(value) == mapped
    assert mapped.endswith("-" + names.short_hash(value))


def test_distinct_inputs_that_clean_up_alike_stay_distinct():
    assert names.to_label("R_1") != names.to_label("r-1")
    assert names.to_label("R_1") != names.to_label("r_1")
    assert names.to_label("x" * 70) != names.to_label("x" * 71)


def test_subdomains():
    assert names.to_subdomain("a.b-c") == "a.b-c"
    mapped = names.to_subdomain("My_Lab..Two")
    assert names.is_subdomain(mapped) and mapped.startswith("my-lab.two-")


def test_collision_names_both_originals(monkeypatch):
    with pytest.raises(LabError) as err:
        names.map_names(["a", "b"], "node", mapper=lambda value: "same")
    assert "'a'" in err.value.message and "'b'" in err.value.message and "node" in err.value.message


def test_map_names_keeps_valid_and_maps_invalid():
    assert names.map_names(["r1", "mv_3"], "node") == {"r1": "r1", "mv_3": names.to_label("mv_3")}


def test_namespace_labels_may_start_with_a_digit():
    assert names.is_dns_label("1lab") and not names.is_dns_label("my_lab")
