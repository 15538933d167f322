"""``store.url``: ``sqlite:///path`` or ``postgresql://user[:password]@host[:port]/db``.

A relative SQLite path is relative to the config file's directory (``sqlite:////abs`` is
absolute). A PostgreSQL password may be ``env:NAME``: it is read from that environment
variable when the store is opened, so the config file holds no secret. Query parameters
(``?sslmode=require``) are passed to libpq as they are.
"""

import dataclasses
import os
from typing import Optional
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_PORT = 5432


@dataclasses.dataclass(frozen=True)
class StoreUrl:
    kind: str                        # "sqlite" or "postgresql"
    path: Optional[str] = None       # sqlite: the database file
    host: Optional[str] = None
    port: int = DEFAULT_PORT
    dbname: Optional[str] = None
    user: Optional[str] = None
    password: Optional[str] = dataclasses.field(default=None, repr=False)
    options: tuple = ()              # libpq keywords from the query string

    def display(self) -> str:
        """The URL without its password, for messages and logs."""
        if self.kind == "sqlite":
            return "sqlite:///" + self.path
        user = f"{self.user}@" if self.user else ""
        return f"postgresql://{user}{self.host}:{self.port}/{self.dbname}"

    def connect_kwargs(self) -> dict:
        """libpq keywords; an ``env:NAME`` password is read now."""
        kwargs = dict(self.options, host=self.host, port=self.port, dbname=self.dbname)
        if self.user:
            kwargs["user"] = self.user
        password = self.password
        if password is not None and password.startswith("env:"):
            name = password[4:]
            if name not in os.environ:
                raise ValueError(f"the password of {self.display()} is env:{name}, but the "
                                 f"environment variable {name} is not set")
            password = os.environ[name]
        if password is not None:
            kwargs["password"] = password
        return kwargs


def parse(url: str, base_dir: str) -> StoreUrl:
    """Parse ``url``; ValueError with what is wrong and the accepted forms."""
    forms = "sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise ValueError(f"'{url}' names no database file ({forms})")
        return StoreUrl("sqlite", path=os.path.normpath(os.path.join(base_dir, path)))
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"unsupported store URL '{_redacted(url)}': expected {forms}")
    dbname = unquote(parts.path.lstrip("/"))
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"'{_redacted(url)}': the port is not a number ({forms})") from None
    if not parts.hostname or not dbname or "/" in dbname:
        raise ValueError(f"'{_redacted(url)}' needs a host and a database name ({forms})")
    return StoreUrl("postgresql", host=parts.hostname, port=port, dbname=dbname,
                    user=unquote(parts.username) if parts.username else None,
                    password=unquote(parts.password) if parts.password is not None else None,
                    options=tuple(parse_qsl(parts.query)))


def _redacted(url: str) -> str:
    """``url`` with any password replaced by ***, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
