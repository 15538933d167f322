"""The extra vars file a run's ``ansible-playbook -e @FILE`` reads.

Every string a request or hook supplied, keys and values at any depth, is written with
Ansible's ``!unsafe`` YAML tag. ansible-core then never templates it, whatever it
contains: ``{{ }}``, ``{% %}``, ``{# #}``, or a ``#jinja2:`` header that redefines the
delimiters. This is structural: nothing is recognised or refused, so no spelling of a
template can slip through. Only strings under a catalog (sub)schema that opts in with
``x-skyforge-allow-templates`` are written as plain (templatable) strings.
"""

import yaml

UNSAFE_TAG = "!unsafe"


class _UnsafeDumper(yaml.SafeDumper):
    """Every str, mapping keys included, as a double-quoted ``!unsafe`` scalar."""


def _unsafe_str(dumper, value):
    return dumper.represent_scalar(UNSAFE_TAG, value, style='"')


class TemplateString(str):
    """A value the catalog schema lets Ansible template (``x-skyforge-allow-templates``)."""


def _plain_str(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_UnsafeDumper.add_representer(str, _unsafe_str)
_UnsafeDumper.add_representer(TemplateString, _plain_str)
_UnsafeDumper.ignore_aliases = lambda self, data: True


def _mark(value, trusted, path):
    if isinstance(value, str):
        return TemplateString(value) if path in trusted else value
    if isinstance(value, dict):
        return {k: _mark(v, trusted, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v, trusted, path + (n,)) for n, v in enumerate(value)]
    return value


def dump(extravars, trusted_paths=frozenset()):
    """YAML text for ``extravars``; ``trusted_paths`` (tuples of keys/indexes from the top)
    name the string values that stay templatable."""
    return yaml.dump(_mark(extravars, frozenset(trusted_paths), ()), Dumper=_UnsafeDumper,
                     allow_unicode=False, default_flow_style=False, sort_keys=True, width=1 << 30)


def with_files(extravars, files):
    """The run's vars with each name the catalog maps to a file (``files``: var -> {name:
    file}) replaced by that file; the request only ever chose among the names."""
    return dict(extravars, **{var: table[extravars[var]] for var, table in files.items()
                              if extravars.get(var) in table})
