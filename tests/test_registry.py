"""Every SDK installed the way its users do it, from a local instance of its registry, on a
machine with no Rust toolchain; then that language's quickstart and consumer-group example run
against the released server binary.

`scripts/release.sh --profile dev` builds the artifacts (dist/ of one version) first; they are
published to pypiserver (twine), Verdaccio (npm publish), a Maven repository over HTTP
(mvn deploy:deploy-file) and a Go module proxy (the GOPROXY layout release.sh writes); then, in
a fresh directory with PATH holding no cargo, rustc or rustup and CARGO_HOME/RUSTUP_HOME empty:
`pip install pyralog`, `npm install pyralog`, a Maven project naming only the coordinate,
`go get github.com/pyralog/pyralog/go@vV`. Anything reaching for Rust fails there. Each checks
that it reports the repository's one version, and that a platform without a prebuilt binary
gets one clear message (where this machine can fake one).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import pytest
from conftest import REPO, TARGET, Server
from registries import (
    http_files,
    no_rust_env,
    pypiserver,
    run,
    tools_venv,
    verdaccio,
)

RELEASE_TIMEOUT_S = 2400
EXAMPLE_TIMEOUT_S = 300
GO_MODULE = "github.com/pyralog/pyralog/go"
VERSION = subprocess.run(
    [sys.executable, str(REPO / "scripts" / "version.py")],
    capture_output=True,
    text=True,
    check=True,
).stdout.strip()


@pytest.fixture(scope="module")
def dist() -> pathlib.Path:
    """The artifacts of this version (debug builds), as scripts/release.sh lays them out."""
    out = TARGET / "registry-dist"
    subprocess.run(
        [str(REPO / "scripts" / "release.sh"), "--profile", "dev", "--out", str(out)],
        check=True,
        timeout=RELEASE_TIMEOUT_S,
        env={**os.environ, "CARGO_TARGET_DIR": str(TARGET)},
    )
    return out


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="pyralog-registry-") as d:
        yield pathlib.Path(d)


@pytest.fixture(scope="module")
def released_server(dist, workdir):
    """pyralog-server from the release's server tarball."""
    with tarfile.open(next((dist / "server").glob("*.tar.gz"))) as tar:
        tar.extractall(workdir / "server", filter="data")
    (bin_dir,) = (workdir / "server").glob("*/bin")
    server = Server(workdir, bin_dir / "pyralog-server")
    server.bin_dir = bin_dir
    yield server
    server.stop()


@pytest.fixture
def user(tmp_path):
    """A user's empty directory and environment without Rust."""
    home = tmp_path / "home"
    home.mkdir()
    return tmp_path, no_rust_env(home)


def run_examples(argv_of, server) -> None:
    """Runs the quickstart and the group example (argv_of(name) + server, CA)."""
    quickstart = run(argv_of("quickstart") + [server.addr, server.ca_file], EXAMPLE_TIMEOUT_S)
    assert "read 100 records back" in quickstart.stdout, quickstart.stdout
    group = run(argv_of("group") + [server.addr, server.ca_file], EXAMPLE_TIMEOUT_S)
    assert "committed orders/3" in group.stdout, group.stdout


def test_release_has_every_artifact_of_one_version(dist):
    wheel = next((dist / "python").glob("*.whl")).name
    assert wheel.startswith(f"pyralog-{VERSION}-cp38-abi3-"), wheel
    expected = [
        f"python/pyralog-{VERSION}.tar.gz",
        f"npm/pyralog-{VERSION}.tgz",
        f"npm/pyralog-linux-x64-gnu-{VERSION}.tgz",
        *(f"maven/pyralog-{VERSION}{c}.jar" for c in ("", "-sources", "-javadoc")),
        f"maven/pyralog-{VERSION}.pom",
        f"goproxy/{GO_MODULE}/@v/v{VERSION}.zip",
        f"c/pyralog-c-{VERSION}-x86_64-linux-gnu.tar.gz",
        f"server/pyralog-{VERSION}-x86_64-linux-gnu.tar.gz",
    ]
    missing = [name for name in expected if not (dist / name).is_file()]
    assert not missing, missing


def test_wheel_is_manylinux_2_17_by_auditwheel(dist):
    wheel = next((dist / "python").glob("*.whl"))
    auditwheel = TARGET / "release-tools" / "bin" / "auditwheel"
    shown = run([auditwheel, "show", wheel]).stdout
    assert '"manylinux_2_17_x86_64"' in shown, shown
    assert "manylinux_2_17_x86_64" in wheel.name


def test_server_and_cli_report_the_one_version(released_server):
    for binary in ("pyralog-server", "pyralog"):
        out = run([released_server.bin_dir / binary, "--version"]).stdout
        assert out.strip() == f"{binary} {VERSION}", out


def test_python_from_pypiserver(dist, workdir, released_server, user):
    home, env = user
    with pypiserver(workdir) as (index, upload, packages):
        twine = tools_venv() / "bin" / "twine"
        run([twine, "upload", "--non-interactive", "--repository-url", upload, "-u", "releaser"]
            + ["-p", "unused", *sorted((dist / "python").iterdir())])  # fmt: skip
        venv = home / "venv"
        run(["python3", "-m", "venv", venv], env=env)
        pip = [venv / "bin" / "pip", "--disable-pip-version-check", "--no-cache-dir"]
        run(pip + ["install", "--index-url", index, "pyralog"], env=env)
        version = run([venv / "bin" / "python", "-c", "import pyralog; print(pyralog.__version__)"])
        assert version.stdout.strip() == VERSION
        for example in ("quickstart", "group"):
            shutil.copy(REPO / "examples" / "python" / f"{example}.py", home)
        run_examples(lambda name: [venv / "bin" / "python", home / f"{name}.py"], released_server)

        # No wheel fits (forced here): pip builds the sdist, whose backend asks for Rust
        # instead of failing inside cargo. Its build requirement, maturin, is on the index
        # as it is on PyPI.
        run([tools_venv() / "bin" / "pip", "download", "-q", "--only-binary", ":all:", "-d", packages]
            + ["maturin==1.16.0"])  # fmt: skip
        refused = subprocess.run(
            [str(a) for a in pip]
            + ["install", "--index-url", index, "--no-binary", "pyralog", "--force-reinstall"]
            + ["--no-deps", "pyralog"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        said = refused.stdout + refused.stderr
        assert refused.returncode != 0, said
        assert "pyralog: no prebuilt wheel fits this platform (linux-x86_64" in said, said
        assert "Install Rust (https://rustup.rs)" in said, said


def test_node_from_verdaccio(dist, workdir, released_server, user):
    home, env = user
    with verdaccio(workdir) as (registry, token):
        npmrc = workdir / "publisher.npmrc"
        npmrc.write_text(f"registry={registry}\n//{registry.split('://')[1]}:_authToken={token}\n")
        for tarball in (f"pyralog-linux-x64-gnu-{VERSION}.tgz", f"pyralog-{VERSION}.tgz"):
            run(
                [
                    "npm",
                    "publish",
                    dist / "npm" / tarball,
                    "--access",
                    "public",
                    "--userconfig",
                    npmrc,
                ]
            )

        project = home / "project"
        project.mkdir()
        (home / "user.npmrc").write_text(f"registry={registry}\n")
        npm = ["npm", "--userconfig", home / "user.npmrc", "--cache", home / "npm-cache"]
        run(npm + ["init", "-y"], cwd=project, env=env)
        run(npm + ["install", "--no-audit", "--no-fund", "pyralog"], cwd=project, env=env)
        installed = project / "node_modules"
        platform_pkg = json.loads((installed / "@pyralog/linux-x64-gnu/package.json").read_text())
        main_pkg = json.loads((installed / "pyralog/package.json").read_text())
        assert "scripts" not in main_pkg, "the published package runs nothing at install"
        assert (main_pkg["version"], platform_pkg["version"]) == (VERSION, VERSION)
        version = run(
            ["node", "-e", "console.log(require('pyralog').version)"], cwd=project, env=env
        )
        assert version.stdout.strip() == VERSION

        for example in ("quickstart", "group"):
            shutil.copy(REPO / "examples" / "node" / f"{example}.mjs", project)
        run_examples(lambda name: ["node", project / f"{name}.mjs"], released_server)

        # Another platform (faked): one message naming it and how to build from source.
        fake = home / "fake-arm64.cjs"
        fake.write_text("Object.defineProperty(process, 'arch', { value: 'arm64' });\n")
        refused = subprocess.run(
            ["node", "-r", str(fake), "-e", "require('pyralog')"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode != 0
        assert "no prebuilt native addon for this platform (linux-arm64-gnu)" in refused.stderr
        assert "npm run build" in refused.stderr


def test_java_from_a_maven_repository(dist, workdir, released_server, user):
    home, env = user
    maven = dist / "maven"
    repo = workdir / "maven-repository"
    repo.mkdir()
    with http_files(repo, writable=True) as (url, served):
        run(["mvn", "-B", "-q", "org.apache.maven.plugins:maven-deploy-plugin:3.1.4:deploy-file"]
            + [f"-Durl={url}/releases", "-DrepositoryId=local-registry"]
            + [f"-Dfile={maven / f'pyralog-{VERSION}.jar'}", f"-DpomFile={maven / f'pyralog-{VERSION}.pom'}"]
            + [f"-Dsources={maven / f'pyralog-{VERSION}-sources.jar'}"]
            + [f"-Djavadoc={maven / f'pyralog-{VERSION}-javadoc.jar'}"])  # fmt: skip
        assert (repo / f"releases/io/pyralog/pyralog/{VERSION}/pyralog-{VERSION}.jar").is_file()

        # A user's project naming only the coordinate (examples/java/pom.xml), the repository
        # added in settings.xml, and a local repository of its own (kept between runs for
        # Maven's plugins, but never with io.pyralog in it).
        project = home / "project"
        shutil.copytree(
            REPO / "examples" / "java", project, ignore=shutil.ignore_patterns("target")
        )
        version_main = project / "src/main/java/io/pyralog/examples/PrintVersion.java"
        version_main.write_text(
            "package io.pyralog.examples;\n\n/** Prints the SDK's version. */\n"
            "public final class PrintVersion {\n    private PrintVersion() {}\n\n"
            "    public static void main(String[] args) {\n"
            "        System.out.println(io.pyralog.PyralogClient.VERSION);\n    }\n}\n"
        )
        settings = home / "settings.xml"
        settings.write_text(
            "<settings><profiles><profile><id>local-registry</id><repositories><repository>"
            f"<id>local-registry</id><url>{url}/releases</url></repository></repositories>"
            "</profile></profiles><activeProfiles><activeProfile>local-registry</activeProfile>"
            "</activeProfiles></settings>\n"
        )
        local_repo = TARGET / "registry-tools" / "m2"
        shutil.rmtree(local_repo / "io" / "pyralog", ignore_errors=True)
        mvn = [
            "mvn",
            "-B",
            "-q",
            "-s",
            settings,
            f"-Dmaven.repo.local={local_repo}",
            "-f",
            project / "pom.xml",
        ]
        run(mvn + ["compile"], env=env)
        assert f"/releases/io/pyralog/pyralog/{VERSION}/pyralog-{VERSION}.jar" in served, served

        def exec_java(main: str, args: str = "") -> str:
            argv = mvn + ["exec:java", f"-Dexec.mainClass=io.pyralog.examples.{main}"]
            out = run(argv + [f"-Dexec.args={args}"], EXAMPLE_TIMEOUT_S, env=env).stdout
            return re.sub(r"\x1b\[[0-9;]*m", "", out)  # Maven 3.8 colours even in batch mode

        assert exec_java("PrintVersion").strip() == VERSION
        server_args = f"{released_server.addr} {released_server.ca_file}"
        assert "read 100 records back" in exec_java("Quickstart", server_args)
        assert "committed orders/3" in exec_java("GroupExample", server_args)


def test_go_from_a_module_proxy(dist, released_server, user):
    home, env = user
    with http_files(dist / "goproxy", writable=False) as (url, served):
        env = {
            **env,
            "GOPROXY": url,
            "GONOSUMDB": GO_MODULE,
            "GOINSECURE": GO_MODULE,
            "GOFLAGS": "-mod=mod",
            "GOMODCACHE": str(home / "gomodcache"),
            "GOTOOLCHAIN": "local",
            "CGO_ENABLED": "1",
        }
        module = home / "module"
        module.mkdir()
        try:
            run(["go", "mod", "init", "example.com/pyralog-user"], cwd=module, env=env)
            run(["go", "get", f"{GO_MODULE}@v{VERSION}"], cwd=module, env=env)
            assert f"/{GO_MODULE}/@v/v{VERSION}.zip" in served, served
            for example in ("quickstart", "group"):
                shutil.copytree(REPO / "examples" / "go" / example, module / example)
            (module / "version").mkdir()
            (module / "version" / "main.go").write_text(
                f'package main\n\nimport (\n\t"fmt"\n\n\tpyralog "{GO_MODULE}"\n)\n\n'
                "func main() { fmt.Println(pyralog.Version) }\n"
            )
            run(
                ["go", "build", "-o", "bin/", "./quickstart", "./group", "./version"],
                cwd=module,
                env=env,
            )
            assert run([module / "bin" / "version"], env=env).stdout.strip() == VERSION
            run_examples(lambda name: [module / "bin" / name], released_server)

            # Another platform (linux/arm64, cross-compiled with zig as the C compiler): the
            # build stops with the platform in the message.
            zig_cc = f"{TARGET / 'release-tools' / 'bin' / 'python'} -m ziglang cc -target aarch64-linux-gnu"
            refused = subprocess.run(
                ["go", "build", "-o", os.devnull, "./quickstart"],
                cwd=module,
                env={**env, "GOARCH": "arm64", "CC": zig_cc},
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert refused.returncode != 0
            assert '"linux/arm64: no prebuilt pyralog library; README: Build from source"' in (
                refused.stderr
            ), refused.stderr
        finally:  # the module cache is read-only
            subprocess.run(["go", "clean", "-modcache"], env=env, timeout=120, check=False)


def test_c_tarball_with_pkg_config(dist, released_server, user):
    home, env = user
    with tarfile.open(next((dist / "c").glob("*.tar.gz"))) as tar:
        tar.extractall(home, filter="data")
    (prefix,) = home.glob("pyralog-c-*")
    env = {**env, "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig")}
    assert run(["pkg-config", "--modversion", "pyralog"], env=env).stdout.strip() == VERSION
    flags = run(["pkg-config", "--cflags", "--libs", "pyralog"], env=env).stdout.split()
    main = REPO / "examples" / "c" / "main.c"
    run(["cc", "-o", home / "shared", main, *flags], env=env)
    run(["cc", "-o", home / "static", main, f"-I{prefix / 'include'}", prefix / "lib" / "libpyralog_c.a"]
        + ["-lm", "-ldl", "-lpthread"], env=env)  # fmt: skip
    shared_env = {**env, "LD_LIBRARY_PATH": str(prefix / "lib")}
    for binary, run_env in (("shared", shared_env), ("static", env)):
        out = run(
            [home / binary, released_server.addr, released_server.ca_file, f"registry_c_{binary}"],
            EXAMPLE_TIMEOUT_S,
            env=run_env,
        ).stdout
        assert "read " in out and "records back" in out, out
