"""GitLab: ``X-Gitlab-Token`` carries the configured secret token as is;
``X-Gitlab-Event-UUID`` identifies a delivery (dedupe only when GitLab sends it)."""

from ...errors import ApiError
from .payload import parse_json
from .signatures import same_secret

TOKEN = "X-Gitlab-Token"
DELIVERY = "X-Gitlab-Event-UUID"


def presence(source, headers):
    if not headers.get(TOKEN):
        raise ApiError(401, f"missing {TOKEN} header: set the secret token in the GitLab webhook "
                            "settings (the same value as hooks.gitlab.token)")


def verify(source, headers, body, guard, now):
    presented = headers.get(TOKEN)
    if not same_secret(source.secret, presented):
        raise ApiError(401, f"{TOKEN} does not match hooks.gitlab.token")
    return headers.get(DELIVERY) or None


def parse(headers, body):
    return parse_json(headers.get("Content-Type"), body, "")
