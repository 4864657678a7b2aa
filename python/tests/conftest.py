"""Starts the real pyralog-server binary for the test session."""

from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30


def server_binary() -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = pathlib.Path(os.environ.get("PYRALOG_SERVER_BIN", target / "debug" / "pyralog-server"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build the workspace first (cargo build --workspace)")
    return path


class Server:
    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        data = pathlib.Path(self.tmp.name) / "data"
        self.ca_file = str(data / "tls" / "ca.pem")
        self.proc = subprocess.Popen(
            [str(server_binary()), "--data-dir", str(data), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()  # "listening on ADDR"
        if not line:
            raise RuntimeError("pyralog-server did not start")
        self.addr = line.strip().rsplit(" ", 1)[-1]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=START_TIMEOUT_S)
        self.tmp.cleanup()


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def client(server):
    from pyralog import Client

    with Client(server.addr, ca_file=server.ca_file) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
