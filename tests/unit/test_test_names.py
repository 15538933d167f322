"""pytest's default (prepend) import mode imports each test file by its basename, so two
test files with one name in different folders stop the whole run at collection."""

import collections
import pathlib

TESTS = pathlib.Path(__file__).resolve().parent.parent


def test_every_test_file_has_a_unique_basename():
    names = collections.defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        names[path.name].append(str(path.relative_to(TESTS)))
    assert {n: p for n, p in names.items() if len(p) > 1} == {}
