"""The Rust examples run against a real server (every other language's examples run from
their installed SDK in test_registry.py)."""

from __future__ import annotations

import subprocess

from conftest import TARGET

EXAMPLE_TIMEOUT_S = 300


def run_ok(argv: list[str]) -> str:
    """Runs `argv`, fails the test unless it exits 0; returns its standard output."""
    done = subprocess.run(
        argv, check=False, capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_S
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_rust_examples_run(server):
    quickstart, group = (str(TARGET / "debug" / name) for name in ("quickstart", "group"))
    assert "read 100 records back" in run_ok([quickstart, server.addr, server.ca_file])
    assert "committed orders/3" in run_ok([group, server.addr, server.ca_file])
