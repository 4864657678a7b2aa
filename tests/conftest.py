"""Repository-level tests (interop, installs, README): one real pyralog-server
for the session, and where each language's build lives."""

from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
SERVER_START_TIMEOUT_S = 30


class Server:
    """`pyralog-server` on a free loopback port with a fresh data directory."""

    def __init__(self, workdir: pathlib.Path) -> None:
        binary = TARGET / "debug" / "pyralog-server"
        if not binary.exists():
            pytest.fail(f"{binary} is missing: build the workspace first (cargo build --workspace)")
        data = workdir / "data"
        self.ca_file = str(data / "tls" / "ca.pem")
        self.proc = subprocess.Popen(
            [str(binary), "--data-dir", str(data), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        first = self.proc.stdout.readline()  # "listening on ADDR"
        if "listening on" not in first:
            self.proc.kill()
            pytest.fail(f"pyralog-server did not start: {first!r}")
        self.addr = first.split()[-1]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=SERVER_START_TIMEOUT_S)


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="pyralog-repo-tests-") as d:
        yield pathlib.Path(d)


@pytest.fixture(scope="session")
def server(workdir):
    s = Server(workdir)
    yield s
    s.stop()
