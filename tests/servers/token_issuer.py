"""A real JWT token issuer for the distribution registry's `token` auth (RS256).

The registry (Debian's docker-registry) is configured with this issuer's certificate as
its `rootcertbundle` and validates every token's signature, issuer, audience and expiry:
what is exercised is the client's Bearer challenge flow against the real registry.
Users with valid basic credentials get the scope they ask for; anonymous callers get a
token with no access (the registry then answers 401), as Docker Hub does.
"""

import base64
import datetime
import hashlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def libtrust_key_id(public_key):
    """The key id format distribution uses to match a JWT `kid` to a certificate."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


class TokenIssuer(object):
    def __init__(self, users, issuer="skyforge-test-issuer", service="skyforge-test-registry"):
        self.users = users
        self.issuer = issuer
        self.service = service
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(minutes=5))
                     .not_valid_after(now + datetime.timedelta(days=1))
                     .sign(self.key, hashes.SHA256()))
        self.kid = libtrust_key_id(self.key.public_key())
        self.requests = []
        self.server = None

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def sign(self, subject, access):
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "iat": now, "nbf": now - 10,
                  "exp": now + 300, "jti": uuid.uuid4().hex, "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
        signature = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + b64url(signature)

    def authenticate(self, header):
        """(status, subject) for an Authorization header: anonymous, a known user, or 401."""
        if not header:
            return 200, ""
        if not header.startswith("Basic "):
            return 401, None
        user, dummy, password = base64.b64decode(header[6:]).decode().partition(":")
        if self.users.get(user) == password:
            return 200, user
        return 401, None

    def grant(self, subject, scopes):
        access = []
        if not subject:
            return access
        for scope in scopes:
            kind, dummy, rest = scope.partition(":")
            name, dummy, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        return access

    def start(self, port):
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                issuer.requests.append({"path": parts.path, "query": query,
                                        "auth": bool(self.headers.get("Authorization"))})
                status, subject = issuer.authenticate(self.headers.get("Authorization"))
                if status != 200 or parts.path != "/token":
                    self.send_response(401 if status != 200 else 404)
                    self.end_headers()
                    return
                token = issuer.sign(subject, issuer.grant(subject, query.get("scope", [])))
                body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
