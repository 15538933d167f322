"""HMAC helpers: every comparison is constant-time and covers the raw request body."""

import base64
import binascii
import hashlib
import hmac


def hmac_digest(secret: str, data: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode("utf-8"), data, getattr(hashlib, algorithm)).digest()


def equal(expected: str, presented: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"),
                               presented.encode("utf-8", "surrogateescape"))


def same_secret(expected: str, presented: str) -> bool:
    """Compare fixed-length digests, so not even the secret's length leaks."""
    return hmac.compare_digest(hashlib.sha256(expected.encode("utf-8")).digest(),
                               hashlib.sha256(presented.encode("utf-8", "surrogateescape"))
                               .digest())


def signature_matches(secret: str, algorithm: str, body: bytes, presented: str) -> bool:
    """``presented`` is hex or base64, optionally prefixed ``<algorithm>=``."""
    value = presented.strip()
    prefix = algorithm + "="
    if value.lower().startswith(prefix):
        value = value[len(prefix):]
    digest = hmac_digest(secret, body, algorithm)
    as_hex = equal(digest.hex(), value.lower())
    try:
        decoded = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        decoded = b""
    as_b64 = hmac.compare_digest(digest, decoded)
    return as_hex or as_b64
