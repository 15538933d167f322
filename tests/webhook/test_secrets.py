"""A secret in the worker's environment never reaches the store, the run dir or a client."""

import os

SECRET = "s3cr3t-Value-7f1e2d9c"


def test_secret_env_is_never_stored_or_streamed(make_service):
    svc = make_service(worker_env={"SF_TEST_SECRET": SECRET},
                       executor={"pass_env": ["SF_TEST_SECRET"]})
    run = svc.submit("secret")
    done = svc.wait(run["id"])
    assert done["status"] == "successful"
    needle = SECRET.encode()
    # the stream, the JSON pages, stdout and the run itself
    conn = svc.conn()
    conn.request("GET", f"/api/v1/runs/{run['id']}/events")
    stream = conn.getresponse().read()
    assert b"run.finished" in stream and needle not in stream
    for path in (f"/api/v1/runs/{run['id']}/events?after=0", f"/api/v1/runs/{run['id']}/stdout",
                 f"/api/v1/runs/{run['id']}"):
        status, body, _ = svc.request("GET", path)
        assert status == 200 and SECRET not in str(body), path
    stdout = svc.request("GET", f"/api/v1/runs/{run['id']}/stdout")[1]
    assert "token is ********" in stdout
    # the printed value is masked, the environment is never recorded
    assert all("env" not in e["data"] for e in svc.events(run["id"]))
    # every byte left on disk: the SQLite files (db, WAL) and the private data dir
    checked = 0
    for root, _, files in os.walk(svc.data_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                assert needle not in handle.read(), os.path.join(root, name)
            checked += 1
    assert checked > 5
