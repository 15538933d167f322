"""A throwaway PostgreSQL server from the Debian packages, for tests and `make postgres-up`.

    python3 tests/servers/postgres.py up --dir .postgres     # prints the URL, writes DIR/url
    python3 tests/servers/postgres.py down --dir .postgres   # stops it and deletes its data

initdb + pg_ctl from /usr/lib/postgresql/<version>/bin (the newest installed), run as the
unprivileged `postgres` user when we are root (PostgreSQL refuses to run as root), listening
on a free 127.0.0.1 port only (no unix socket), password authentication for one superuser.
Durability is switched off (fsync, synchronous_commit): the data is thrown away.
"""

import argparse
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import sys

if __name__ == "__main__":  # run as a script: make `tests` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.servers.common import free_port, read_log  # noqa: E402

USER = "skyforge"
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "log_min_messages": "warning",
}


def bin_dir():
    """The bin directory of the newest installed PostgreSQL, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()])
    return os.path.dirname(found[-1]) if found else None


class PostgresServer:
    """One cluster in ``workdir`` (``workdir/data`` is PGDATA); ``url`` once started."""

    def __init__(self, workdir):
        self.workdir = os.path.abspath(workdir)
        self.data = os.path.join(self.workdir, "data")
        self.log = os.path.join(self.workdir, "postgres.log")
        self.url_file = os.path.join(self.workdir, "url")
        self.url = None
        self.bin = bin_dir()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb):"
                               " run `make system-deps` (it installs the Debian package "
                               "postgresql)")
        # PostgreSQL will not run as root: run it as the `postgres` system user instead
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def _run(self, argv, **kwargs):
        user = {"user": self.owner.pw_uid, "group": self.owner.pw_gid,
                "extra_groups": []} if self.owner else {}
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, cwd=self.workdir, check=False, **user,
                             **kwargs)
        if out.returncode != 0:
            raise RuntimeError("%s failed (%d): %s\n%s" % (
                os.path.basename(argv[0]), out.returncode,
                out.stdout.decode("utf-8", "replace")[-3000:], read_log(self.log)))
        return out

    def _chown(self, path):
        if self.owner:
            os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def running(self):
        if not os.path.exists(os.path.join(self.data, "postmaster.pid")):
            return False
        try:
            self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "status"])
        except RuntimeError:
            return False
        return True

    def start(self):
        """Create the cluster (first time) and start it; return its URL."""
        if self.running():
            with open(self.url_file) as handle:
                self.url = handle.read().strip()
            return self.url
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o700)
        self._chown(self.workdir)
        # throwaway: a cluster left stopped from an earlier run is made again from scratch
        shutil.rmtree(self.data, ignore_errors=True)
        password = secrets.token_hex(16)
        pwfile = os.path.join(self.workdir, "initdb.pw")
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(password + "\n")
        self._chown(pwfile)
        try:
            self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", USER,
                       "--pwfile", pwfile, "--auth", "scram-sha-256", "--no-sync",
                       "--no-instructions", "-E", "UTF8", "--locale", "C"])
        finally:
            os.unlink(pwfile)
        port = free_port()
        conf = os.path.join(self.data, "postgresql.auto.conf")
        with open(conf, "w") as handle:
            handle.write("".join("%s = %s\n" % kv for kv in dict(SETTINGS, port=port).items()))
        self._chown(conf)
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-w",
                   "-t", "60", "start"])
        self.url = "postgresql://%s:%s@127.0.0.1:%d/postgres" % (USER, password, port)
        with open(os.open(self.url_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            fh.write(self.url + "\n")
        return self.url

    def resume(self):
        """Start again a server :meth:`stop` stopped, with its data and port."""
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-w",
                   "-t", "60", "start"])

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                       "stop"])

    def destroy(self):
        """Stop the server and delete everything under ``workdir``."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def create_database(self, name):
        """A fresh database on this server; return its URL."""
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "%s"' % name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop_database(self, name):
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--dir", default=".postgres", help="working directory (default .postgres)")
    args = parser.parse_args(argv)
    server = PostgresServer(args.dir)
    if args.action == "up":
        print(server.start())
        print("URL written to %s; stop: make postgres-down" % server.url_file, file=sys.stderr)
    else:
        server.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
