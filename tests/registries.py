"""Local instances of the four package registries, on free loopback ports, for
test_registry.py: pypiserver (PyPI), Verdaccio (npm), a Maven repository over HTTP (GET, HEAD,
PUT: what `mvn deploy` and Maven's resolver speak) and a Go module proxy (the GOPROXY protocol:
static files over HTTP). Each is a context manager that stops its server on exit, failure
included; every wait is bounded.

The registry software is installed by the test itself into `$CARGO_TARGET_DIR/registry-tools`
(kept between runs): pypiserver and twine into a venv, Verdaccio with npm.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from conftest import TARGET

TOOLS = TARGET / "registry-tools"
VERDACCIO_VERSION = "6.8.0"  # newer ones need Node 22
PYPI_TOOLS = ["pypiserver==2.4.2", "twine==7.0.0"]
SERVER_START_TIMEOUT_S = 60
INSTALL_TIMEOUT_S = 600
RUST_TOOLS = ("cargo", "rustc", "rustup")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float = SERVER_START_TIMEOUT_S, proc=None) -> None:
    """Until `url` answers at all (any HTTP status), or fails after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError as e:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"{proc.args[0]} exited ({proc.returncode}) before serving {url}"
                ) from e
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout_s} s") from e
            time.sleep(0.2)


def run(argv, timeout_s: int = INSTALL_TIMEOUT_S, **kwargs) -> subprocess.CompletedProcess:
    """Runs `argv`; raises with its output unless it exits 0."""
    done = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        **kwargs,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{[str(a) for a in argv]} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done


def no_rust_env(home: pathlib.Path) -> dict[str, str]:
    """The environment of a user without Rust: PATH without any directory holding cargo, rustc
    or rustup, and CARGO_HOME/RUSTUP_HOME empty directories."""
    path = [
        d
        for d in os.environ["PATH"].split(os.pathsep)
        if d and not any((pathlib.Path(d) / tool).exists() for tool in RUST_TOOLS)
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO", "RUSTUP", "RUST"))}
    env["PATH"] = os.pathsep.join(path)
    for var in ("CARGO_HOME", "RUSTUP_HOME"):
        env[var] = str(home / var.lower())
        pathlib.Path(env[var]).mkdir(parents=True, exist_ok=True)
    for tool in RUST_TOOLS:
        assert shutil.which(tool, path=env["PATH"]) is None, f"{tool} still on PATH"
    return env


def tools_venv() -> pathlib.Path:
    """A venv with pypiserver and twine (and the pip that fetches maturin for the sdist case)."""
    venv = TOOLS / "venv"
    if not (venv / "bin" / "python").exists():
        run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check", *PYPI_TOOLS])
    return venv


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def http_files(root: pathlib.Path, writable: bool):
    """A static file server over `root` on a free loopback port (PUT too if `writable`: a Maven
    repository that `mvn deploy` uploads to). Yields (url, the paths served by GET)."""
    served: list[str] = []

    class Handler(_Quiet):
        def _file(self) -> pathlib.Path | None:
            path = (root / self.path.split("?")[0].lstrip("/")).resolve()
            return path if path.is_relative_to(root.resolve()) else None

        def do_GET(self, body: bool = True) -> None:
            path = self._file()
            if path is None or not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                served.append(self.path)
                self.wfile.write(data)

        def do_HEAD(self) -> None:
            self.do_GET(body=False)

        def do_PUT(self) -> None:
            path = self._file()
            if not writable or path is None:
                self.send_error(405)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def process(argv, log: pathlib.Path, ready_url: str, **kwargs):
    """Runs a server until the block ends (killed then, failure or not)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, **kwargs
        )
    try:
        try:
            wait_http(ready_url, proc=proc)
        except (RuntimeError, TimeoutError) as e:
            raise RuntimeError(f"{e}\n{log.read_text()}") from e
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)


@contextlib.contextmanager
def pypiserver(workdir: pathlib.Path):
    """pypiserver without authentication and without falling back to the public index.
    Yields (index URL for pip, upload URL for twine, the package directory)."""
    venv = tools_venv()
    packages = workdir / "pypi-packages"
    packages.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        venv / "bin" / "pypi-server",
        "run",
        "-i",
        "127.0.0.1",
        "-p",
        port,
        "-a",
        ".",
        "-P",
        ".",
    ]
    argv += ["--disable-fallback", packages]
    with process(argv, workdir / "pypiserver.log", f"{url}/simple/"):
        yield f"{url}/simple/", f"{url}/", packages


@contextlib.contextmanager
def verdaccio(workdir: pathlib.Path):
    """Verdaccio with no uplink (only what is published here can be installed), anyone may
    publish pyralog and @pyralog/*. Yields (registry URL, an auth token for publishing)."""
    home = TOOLS / "verdaccio"
    binary = home / "node_modules" / ".bin" / "verdaccio"
    if not binary.exists():
        run(["npm", "install", "--prefix", home, "--no-audit", "--no-fund", "--loglevel=error",
             f"verdaccio@{VERDACCIO_VERSION}"])  # fmt: skip
    root = workdir / "verdaccio"
    root.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    (root / "config.yaml").write_text(
        "storage: ./storage\n"
        "auth:\n  htpasswd:\n    file: ./htpasswd\n    max_users: 10\n"
        "uplinks: {}\n"
        "packages:\n"
        "  '@pyralog/*':\n    access: $all\n    publish: $authenticated\n"
        "  'pyralog':\n    access: $all\n    publish: $authenticated\n"
        "  '**':\n    access: $all\n    publish: $authenticated\n"
        "log: { type: stdout, format: pretty, level: warn }\n"
        # The platform package of a debug build carries a 50 MB addon.
        "max_body_size: 200mb\n"
    )
    argv = [binary, "--config", root / "config.yaml", "--listen", f"127.0.0.1:{port}"]
    with process(argv, workdir / "verdaccio.log", f"{url}-/ping", cwd=root):
        # npm publish needs a user: Verdaccio makes one on the first login.
        body = json.dumps({"name": "releaser", "password": "releaser-password"}).encode()
        request = urllib.request.Request(
            f"{url}-/user/org.couchdb.user:releaser",
            data=body,
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            token = json.load(response)["token"]
        yield url, token
