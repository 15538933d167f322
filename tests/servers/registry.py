"""Start Debian's docker-registry (distribution 2.8) on 127.0.0.1 for tests.

auth: None (open), "htpasswd" (basic auth, bcrypt file from `htpasswd -B`), or "token"
(bearer tokens from tests.servers.token_issuer, validated by the registry with its cert).
Images are pushed with skopeo from an OCI layout the test writes.
"""

import os
import shutil
import subprocess
import warnings

from tests.servers.common import free_port, require_tool, start, stop
from tests.servers.oci_layout import write_layout
from tests.servers.token_issuer import TokenIssuer

REGISTRY = "/usr/bin/docker-registry"


def require_registry_tools():
    require_tool(REGISTRY, "apt-get install -y docker-registry")
    require_tool("skopeo", "apt-get install -y skopeo")


def bcrypt_line(user, password):
    """An htpasswd line (bcrypt, the only scheme the registry accepts)."""
    if shutil.which("htpasswd"):
        return subprocess.run(["htpasswd", "-Bbn", user, password], check=True,
                              stdout=subprocess.PIPE).stdout.decode().strip()
    # Without apache2-utils: libxcrypt's bcrypt through the stdlib crypt module (Python < 3.13).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return "%s:%s" % (user, crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH)))


class Registry(object):
    def __init__(self, workdir, auth=None, users=None):
        self.workdir = workdir
        self.auth = auth
        self.users = users or {"alice": "wonderland"}
        self.port = None
        self.proc = None
        self.issuer = None

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def auth_config(self):
        if self.auth == "htpasswd":
            path = os.path.join(self.workdir, "htpasswd")
            with open(path, "w") as handle:
                for user, password in sorted(self.users.items()):
                    handle.write(bcrypt_line(user, password) + "\n")
            return "auth:\n  htpasswd:\n    realm: skyforge-test\n    path: %s\n" % path
        if self.auth == "token":
            token_port = free_port()
            self.issuer = TokenIssuer(self.users).start(token_port)
            cert = os.path.join(self.workdir, "issuer.pem")
            with open(cert, "wb") as handle:
                handle.write(self.issuer.cert_pem())
            return ("auth:\n  token:\n    realm: http://127.0.0.1:%d/token\n    service: %s\n"
                    "    issuer: %s\n    rootcertbundle: %s\n"
                    % (token_port, self.issuer.service, self.issuer.issuer, cert))
        return ""

    def __enter__(self):
        self.port = free_port()
        storage = os.path.join(self.workdir, "storage")
        os.makedirs(storage, exist_ok=True)
        config = os.path.join(self.workdir, "config.yml")
        with open(config, "w") as handle:
            handle.write("version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                         "  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%d\n%s"
                         % (storage, self.port, self.auth_config()))
        try:
            self.proc = start([REGISTRY, "serve", config], os.path.join(self.workdir, "registry.log"), self.port)
        except Exception:
            if self.issuer:
                self.issuer.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc:
            stop(self.proc)
        if self.issuer:
            self.issuer.stop()
            self.issuer = None

    def push(self, repository, tag, payload=b"hello\n"):
        """Build an OCI layout and push it with skopeo; returns the manifest digest."""
        layout = os.path.join(self.workdir, "layout-%s-%s" % (repository.replace("/", "_"), tag))
        digest = write_layout(layout, tag, payload)
        argv = ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests",
                "oci:%s:%s" % (layout, tag), "docker://%s/%s:%s" % (self.host, repository, tag)]
        if self.auth:
            user, password = sorted(self.users.items())[0]
            argv[2:2] = ["--dest-creds", "%s:%s" % (user, password)]
        out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                             env=dict(os.environ, HOME=self.workdir), check=False)
        if out.returncode != 0:
            raise RuntimeError("skopeo push failed: %s" % out.stderr.decode()[-2000:])
        return digest

    def storage_path(self, *parts):
        return os.path.join(self.workdir, "storage", "docker", "registry", "v2", *parts)
