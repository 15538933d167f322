"""The service as a wheel: every subpackage and the files it reads beside its code
(OpenAPI document, dashboard page and assets) are in it, so an installed service serves
what the checkout serves."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

from tests.webhook.conftest import ROOT, write_config

# Runs with the unpacked wheel first on sys.path, from a directory outside the checkout.
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import webhook
app = webhook.create_app()
client = app.test_client()
answers = {url: client.get(url).status_code
           for url in ("/api/v1/openapi.json", "/", "/static/dashboard.js", "/static/dashboard.css")}
print(json.dumps({"file": webhook.__file__, "answers": answers}))
"""


def tracked_copy(dest):
    """The checkout's tracked files only: setuptools reuses a build/ tree left in the source
    directory, which would hide a file the packaging config leaves out."""
    files = subprocess.run(["git", "ls-files", "-z", "pyproject.toml", "webhook"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, files):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), dest / name)
    return dest


def test_the_wheel_holds_every_subpackage_and_data_file(tmp_path):
    source = tracked_copy(tmp_path / "source")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--disable-pip-version-check", "-w", str(tmp_path / "dist"), str(source)],
                   check=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(unpacked)
    for package in ("domain", "http", "http/hooks", "http/dashboard", "store", "worker", "executor"):
        assert f"webhook/{package}/__init__.py" in names, package
    assert "webhook/http/openapi.yaml" in names

    config = write_config(str(tmp_path))
    env = dict(os.environ, SKYFORGE_CONFIG=config, PYTHONPATH="")
    out = subprocess.run([sys.executable, "-c", PROBE, str(unpacked)], env=env, cwd=tmp_path,
                         check=True, capture_output=True, text=True).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe["file"].startswith(str(unpacked)), probe["file"]
    assert probe["answers"] == {"/api/v1/openapi.json": 200, "/": 200,
                                "/static/dashboard.js": 200, "/static/dashboard.css": 200}
