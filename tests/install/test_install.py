"""Installs each SDK as its users would, outside the repository (a wheel in a
fresh venv, a Maven project depending on io.pyralog:pyralog, an npm tarball in
a fresh project, a fresh Go module), and runs that language's examples there
against a real server: tests/install/<language>.sh."""

from __future__ import annotations

import pathlib
import subprocess

import pytest
from conftest import TARGET

HERE = pathlib.Path(__file__).resolve().parent
INSTALL_TIMEOUT_S = 900
EXAMPLE_TIMEOUT_S = 300


def run_ok(argv: list[str], timeout_s: int) -> str:
    """Runs `argv`, fails the test unless it exits 0; returns its standard output."""
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, (
        f"{argv[-3:]} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


@pytest.mark.parametrize("language", ["python", "java", "go", "node"])
def test_installed_sdk_runs_the_examples(language, server):
    script = str(HERE / f"{language}.sh")
    out = run_ok(["bash", script, server.addr, server.ca_file], INSTALL_TIMEOUT_S)
    assert "read 100 records back" in out, out
    assert "committed orders/3" in out, out


def test_rust_examples_run(server):
    quickstart, group = (str(TARGET / "debug" / name) for name in ("quickstart", "group"))
    assert "read 100 records back" in run_ok(
        [quickstart, server.addr, server.ca_file], EXAMPLE_TIMEOUT_S
    )
    assert "committed orders/3" in run_ok([group, server.addr, server.ca_file], EXAMPLE_TIMEOUT_S)
