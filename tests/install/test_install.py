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


@pytest.mark.parametrize("language", ["python", "java", "go", "node"])
def test_installed_sdk_runs_the_examples(language, server):
    done = subprocess.run(
        ["bash", str(HERE / f"{language}.sh"), server.addr, server.ca_file],
        check=False,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    assert done.returncode == 0, (
        f"{language}.sh exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    assert "read 100 records back" in done.stdout, done.stdout
    assert "committed orders/3" in done.stdout, done.stdout


def test_rust_examples_run(server):
    for example in ("quickstart", "group"):
        done = subprocess.run(
            [str(TARGET / "debug" / example), server.addr, server.ca_file],
            check=False,
            capture_output=True,
            text=True,
            timeout=EXAMPLE_TIMEOUT_S,
        )
        assert done.returncode == 0, (
            f"{example} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    assert "committed orders/3" in done.stdout, done.stdout
