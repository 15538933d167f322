"""The HTTP side: the API, auth, hooks, dashboard, OpenAPI, metrics and event streams."""
