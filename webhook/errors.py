"""The errors a user sees: a refused request (``ApiError``, answered as JSON by the app's
error handlers in ``webhook.app``) and a wrong configuration (``ConfigError``).

Kept free of Flask so the domain, the config parser and the worker can raise them.
"""


class ConfigError(ValueError):
    """The configuration is wrong; the message says where and how to fix it."""


class ApiError(Exception):
    def __init__(self, status, message, headers=None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self):
        return dict({"error": self.message, "status": self.status}, **self.extra)
