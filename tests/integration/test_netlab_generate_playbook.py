"""skyforge.labs.netlab_generate driven by ansible-playbook with the real netlab CLI."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "netlab_generate.yml")


def test_playbook_runs_the_module_twice_in_check_mode_and_on_bad_input(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("nodes:\n  r1:\n    device: warpdrive\n")
    out = tmp_path / "out"
    out.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".skyforge", "collections"),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_HOME=str(tmp_path / "ansible-home"))
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         PLAYBOOK, "-e", "out=%s" % out, "-e", "bad_topology=%s" % bad],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
        check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "failed=0" in proc.stdout and "rescued=1" in proc.stdout
    assert not (home / ".netlab").exists()
    assert (out / "lab.tar.gz").is_file() and not (out / "bad.tar.gz").exists()
