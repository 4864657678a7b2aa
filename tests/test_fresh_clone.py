"""A newcomer's path: a fresh clone, with nothing beside it, builds the server and the Rust
quickstart and runs one against the other.

The clone is made from this repository's HEAD into an empty temporary directory, so nothing
uncommitted and nothing outside the repository can help it. It builds into a target
directory of its own (the registry's crates come from the local cache, as for any user who
has built a Rust project before), so the binaries the other tests use are not replaced.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conftest import REPO, TARGET

BUILD_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 120


def run(cmd, cwd, timeout, **kw):
    return subprocess.run(
        cmd, cwd=cwd, timeout=timeout, check=True, capture_output=True, text=True, **kw
    )


def test_a_fresh_clone_builds_and_runs_the_rust_quickstart():
    with tempfile.TemporaryDirectory(prefix="pyralog-fresh-clone-") as tmp:
        parent = Path(tmp)
        clone = parent / "pyralog"
        run(["git", "clone", "--quiet", "--no-local", str(REPO), str(clone)], parent, 300)
        assert sorted(p.name for p in parent.iterdir()) == ["pyralog"], (
            "nothing may sit beside the clone"
        )
        target = TARGET / "fresh-clone"
        env = {**os.environ, "CARGO_TARGET_DIR": str(target)}
        run(
            ["cargo", "build", "--locked", "-p", "pyralog-server", "-p", "pyralog-example"],
            clone,
            BUILD_TIMEOUT_S,
            env=env,
        )
        data = parent / "data"
        server = subprocess.Popen(
            [
                str(target / "debug" / "pyralog-server"),
                "--data-dir",
                str(data),
                "--listen",
                "127.0.0.1:0",
            ],
            cwd=clone,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            first = server.stdout.readline()
            assert "listening on" in first, first
            addr = first.split()[-1]
            out = run(
                [str(target / "debug" / "quickstart"), addr, str(data / "tls" / "ca.pem")],
                clone,
                RUN_TIMEOUT_S,
            )
        finally:
            server.kill()
            server.wait(timeout=30)
        assert "read 100 records back" in out.stdout, out.stdout
        assert "stats: 1000 records" in out.stdout, out.stdout
        shutil.rmtree(target / "debug" / "incremental", ignore_errors=True)
