"""Map a verified delivery to a run: the first rule of the source whose ``when`` is true.

Expressions are JMESPath over ``{payload, headers}`` (header names in lower case, e.g.
``headers."x-github-event"``).  A var whose expression yields null is left out, so the
catalog schema decides whether it was required.
"""


def document(payload, headers):
    return {"payload": payload, "headers": {k.lower(): v for k, v in headers.items()}}


def truthy(value):
    return value not in (None, False, "", [], {})


def match(rules, source, doc):
    """Return (rule, vars) for the first matching rule, or (None, None)."""
    for rule in rules:
        if rule.source != source or not truthy(rule.when.search(doc)):
            continue
        built = {}
        for name, expr in rule.vars.items():
            value = expr.search(doc)
            if value is not None:
                built[name] = value
        return rule, built
    return None, None
