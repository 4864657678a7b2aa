"""Repository-level tests (interop, installs, README): one real pyralog-server
for the session, and where each language's build lives."""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import tempfile
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
SERVER_START_TIMEOUT_S = 30
CLUSTER_LIVE_TIMEOUT_S = 60


class Server:
    """`pyralog-server` (the debug build unless `binary` names another) on a free loopback
    port with a fresh data directory."""

    def __init__(self, workdir: pathlib.Path, binary: pathlib.Path | None = None) -> None:
        binary = binary or TARGET / "debug" / "pyralog-server"
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


def free_udp_ports(n: int) -> list[int]:
    """`n` loopback UDP ports free at the time of the call."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Cluster:
    """Three `pyralog-server` nodes on loopback under one cluster CA; logs get three
    replicas unless they ask otherwise. `addr` is the clients' bootstrap list."""

    NODES = 3

    def __init__(self, workdir: pathlib.Path) -> None:
        binary = TARGET / "debug" / "pyralog-server"
        if not binary.exists():
            pytest.fail(f"{binary} is missing: build the workspace first (cargo build --workspace)")
        root = workdir / "cluster"
        ports = free_udp_ports(self.NODES)
        voters = ",".join(f"{i + 1}@127.0.0.1:{port}" for i, port in enumerate(ports))
        tls = root / "tls"
        subprocess.run(
            [str(binary), "init-cluster", "--voters", voters, "--tls-dir", str(tls)],
            check=True,
            capture_output=True,
            timeout=SERVER_START_TIMEOUT_S,
        )
        config = root / "node.toml"
        config.write_text("default_replication_factor = 3\n")
        self.ca_file = str(tls / "ca.pem")
        self.addr = ",".join(f"127.0.0.1:{port}" for port in ports)
        self.procs = []
        for i in range(self.NODES):
            log = open(root / f"node-{i + 1}.log", "w")  # noqa: SIM115 (lives as long as the node)
            self.procs.append(
                subprocess.Popen(
                    [str(binary), "--config", str(config), "--node-id", str(i + 1)]
                    + ["--voters", voters, "--tls-dir", str(tls)]
                    + ["--data-dir", str(root / f"node-{i + 1}")],
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            )
        for i, proc in enumerate(self.procs):
            first = proc.stdout.readline()
            if "listening on" not in first:
                self.stop()
                pytest.fail(f"cluster node {i + 1} did not start: {first!r}; see {root}")
        self.wait_all_live(binary.parent / "pyralog", root)

    def wait_all_live(self, cli: pathlib.Path, root: pathlib.Path) -> None:
        """Until `cluster describe` lists every node live (a node fenced while the
        machine was busy starting the others registers again)."""
        deadline = time.monotonic() + CLUSTER_LIVE_TIMEOUT_S
        while True:
            out = subprocess.run(
                [str(cli), "--server", self.addr, "--ca-file", self.ca_file, "cluster", "describe"],
                check=False,
                capture_output=True,
                text=True,
                timeout=CLUSTER_LIVE_TIMEOUT_S,
            ).stdout
            live = [
                line
                for line in out.splitlines()
                if line.startswith("  node") and line.endswith(" live")
            ]
            if len(live) == self.NODES:
                return
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"cluster nodes not all live in time: {out!r}; see {root}")
            time.sleep(0.1)

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
        for proc in self.procs:
            proc.wait(timeout=SERVER_START_TIMEOUT_S)


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="pyralog-repo-tests-") as d:
        yield pathlib.Path(d)


@pytest.fixture(scope="session")
def server(workdir):
    s = Server(workdir)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def cluster(workdir):
    c = Cluster(workdir)
    yield c
    c.stop()


@pytest.fixture(params=["one node", "three nodes"])
def target(request):
    """The single server, then the 3-node cluster: tests taking it run on both."""
    return request.getfixturevalue("server" if request.param == "one node" else "cluster")
