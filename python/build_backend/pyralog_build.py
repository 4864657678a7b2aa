"""The build backend of pyralog's source distribution: maturin's own, after one check.

pip builds from the sdist only where no published wheel fits the machine. That build
compiles the Rust core client, so without a Rust toolchain it stops here with one message
(the platform pip could not find a wheel for, and how to build from source) instead of
failing deep inside cargo or fetching a toolchain on its own.
"""

from __future__ import annotations

import platform
import shutil
import sys
import sysconfig

import maturin

# The wheels a release publishes (docs/RELEASING.md).
PUBLISHED_WHEELS = "manylinux_2_17_x86_64 (Linux x86_64, glibc 2.17 or newer; Python 3.8+, abi3)"


def _require_rust() -> None:
    if shutil.which("cargo") is not None:
        return
    libc = " ".join(platform.libc_ver()).strip() or "no glibc"
    sys.exit(
        f"pyralog: no prebuilt wheel fits this platform ({sysconfig.get_platform()}, {libc}, "
        f"Python {platform.python_version()}); the published wheels are for "
        f"{PUBLISHED_WHEELS}.\n"
        "pip is building pyralog from its source distribution, which needs Rust (cargo 1.85+) "
        "and a C compiler, and cargo is not on PATH. Install Rust (https://rustup.rs), then run "
        "pip install pyralog again; see the README, 'Build from source'."
    )


def get_requires_for_build_wheel(config_settings=None):
    _require_rust()
    return maturin.get_requires_for_build_wheel(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _require_rust()
    return maturin.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _require_rust()
    return maturin.build_wheel(wheel_directory, config_settings, metadata_directory)


def get_requires_for_build_editable(config_settings=None):
    _require_rust()
    return maturin.get_requires_for_build_editable(config_settings)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    _require_rust()
    return maturin.prepare_metadata_for_build_editable(metadata_directory, config_settings)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _require_rust()
    return maturin.build_editable(wheel_directory, config_settings, metadata_directory)


# Building the sdist itself needs no Rust.
get_requires_for_build_sdist = maturin.get_requires_for_build_sdist
build_sdist = maturin.build_sdist
