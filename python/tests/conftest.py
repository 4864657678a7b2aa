"""Starts the real pyralog-server binary for the test session (and, for the
authentication tests, a second one with `[auth]` on)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile
import threading
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30


def _binary(env: str, name: str) -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = pathlib.Path(os.environ.get(env, target / "debug" / name))
    if not path.exists():
        pytest.fail(f"{path} is missing: build the workspace first (cargo build --workspace)")
    return path


def server_binary() -> pathlib.Path:
    return _binary("PYRALOG_SERVER_BIN", "pyralog-server")


def cli_binary() -> pathlib.Path:
    """The `pyralog` command-line client (crate pyralog-cli)."""
    return _binary("PYRALOG_CLI_BIN", "pyralog")


def _first_line(proc: subprocess.Popen, timeout_s: float) -> str:
    """The process's first line of output, or "" if none comes within `timeout_s`."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines[0] if lines else ""


class Server:
    """A pyralog-server in its own temporary data directory; `config` is the TOML of its
    `--config` file (None: the embedded defaults)."""

    def __init__(self, config: str | None = None) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)
        self.data_dir = self.dir / "data"
        self.ca_file = str(self.data_dir / "tls" / "ca.pem")
        self.global_args = ["--data-dir", str(self.data_dir)]
        if config is not None:
            path = self.dir / "pyralog.toml"
            path.write_text(config)
            self.global_args += ["--config", str(path)]
        self.proc = subprocess.Popen(
            [str(server_binary()), *self.global_args, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = _first_line(self.proc, START_TIMEOUT_S)  # "listening on ADDR"
        if not line:
            self.proc.kill()
            raise RuntimeError(f"pyralog-server did not start within {START_TIMEOUT_S} s")
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


#: Authentication on; `admin` may do anything, everyone else only what an ACL allows.
AUTH_CONFIG = '[auth]\nenabled = true\nsuperusers = ["admin"]\n'


@pytest.fixture(scope="session")
def auth_server():
    """A second server, with `[auth]` on (`AUTH_CONFIG`), in its own data directory."""
    s = Server(AUTH_CONFIG)
    yield s
    s.stop()


@pytest.fixture
def client(server):
    from pyralog import Client

    with Client(server.addr, ca_file=server.ca_file) as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
