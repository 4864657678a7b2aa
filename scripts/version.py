#!/usr/bin/env python3
"""The repository's one version: `[workspace.package] version` in Cargo.toml.

Every crate takes it from there (so the server's and the CLI's `--version`, and each
native library's exported version); the Python wheel's version comes from Cargo through
maturin. The places below spell it out and must agree with it:

- node/package.json, node/package-lock.json, node/npm/*/package.json (the npm packages)
- java/pom.xml and PyralogClient.VERSION (the Maven artifact and the Java constant)
- go/version.go (the Go constant)
- Cargo.lock and fuzz/Cargo.lock (the workspace crates' entries)
- the install lines of the READMEs (Maven/Gradle coordinates, `go get ...@vX`)

    scripts/version.py            print the version
    scripts/version.py --check    fail (exit 1) naming every place that differs
    scripts/version.py --set X.Y.Z  write X.Y.Z everywhere (Cargo.toml included)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VERSION_RE = r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?"

# (file, pattern): the pattern's group "v" is the version, every match must agree.
SPELLED = [
    ("Cargo.toml", rf'\[workspace\.package\]\nversion = "(?P<v>{VERSION_RE})"'),
    ("node/package.json", rf'^  "version": "(?P<v>{VERSION_RE})"'),
    ("node/npm/linux-x64-gnu/package.json", rf'^  "version": "(?P<v>{VERSION_RE})"'),
    (
        "java/pom.xml",
        rf"<artifactId>pyralog</artifactId>\n  <version>(?P<v>{VERSION_RE})</version>",
    ),
    (
        "java/src/main/java/io/pyralog/PyralogClient.java",
        rf'public static final String VERSION = "(?P<v>{VERSION_RE})";',
    ),
    ("go/version.go", rf'const Version = "(?P<v>{VERSION_RE})"'),
    (
        "java/README.md",
        rf"<artifactId>pyralog</artifactId>\n\s*<version>(?P<v>{VERSION_RE})</version>",
    ),
    ("java/README.md", rf'"io\.pyralog:pyralog:(?P<v>{VERSION_RE})"'),
    ("go/README.md", rf"github\.com/pyralog/pyralog/go@v(?P<v>{VERSION_RE})"),
    ("examples/go/README.md", rf"github\.com/pyralog/pyralog/go@v(?P<v>{VERSION_RE})"),
    ("README.md", rf"github\.com/pyralog/pyralog/go@v(?P<v>{VERSION_RE})"),
    ("README.md", rf"`io\.pyralog:pyralog:(?P<v>{VERSION_RE})`"),
    ("bindings/c/README.md", rf"pyralog-c-(?P<v>{VERSION_RE})-x86_64-linux-gnu"),
    (
        "examples/java/pom.xml",
        rf"<artifactId>pyralog</artifactId>\n\s*<version>(?P<v>{VERSION_RE})</version>",
    ),
]
# Lock files: the entries of the workspace's own crates.
LOCKS = ["Cargo.lock", "fuzz/Cargo.lock"]


def lock_entry_re() -> str:
    """Matches the lock entry of each workspace member (by its package name)."""
    cargo = (REPO / "Cargo.toml").read_text()
    members = re.search(r"^members = \[(.*?)\]", cargo, re.MULTILINE | re.DOTALL).group(1)
    names = []
    for member in re.findall(r'"([^"]+)"', members):
        manifest = (REPO / member / "Cargo.toml").read_text()
        names.append(re.search(r'^name = "([^"]+)"', manifest, re.MULTILINE).group(1))
    alternatives = "|".join(re.escape(n) for n in names)
    return rf'\[\[package\]\]\nname = "(?:{alternatives})"\nversion = "(?P<v>{VERSION_RE})"\n'


def workspace_version() -> str:
    text = (REPO / "Cargo.toml").read_text()
    m = re.search(SPELLED[0][1], text)
    if not m:
        sys.exit("scripts/version.py: no [workspace.package] version in Cargo.toml")
    return m.group("v")


def places() -> list[tuple[str, str]]:
    """Every (place, version it spells) of the repository."""
    found = []
    for path, pattern in SPELLED:
        text = (REPO / path).read_text()
        matches = list(re.finditer(pattern, text, re.MULTILINE))
        if not matches:
            found.append((f"{path} (pattern {pattern!r} not found)", "?"))
        found += [(path, m.group("v")) for m in matches]
    for path in LOCKS:
        for m in re.finditer(lock_entry_re(), (REPO / path).read_text()):
            found.append((f"{path} ({m.group(0).splitlines()[1]})", m.group("v")))
    lock = json.loads((REPO / "node/package-lock.json").read_text())
    found.append(("node/package-lock.json (version)", lock["version"]))
    found.append(('node/package-lock.json (packages[""].version)', lock["packages"][""]["version"]))
    return found


def check() -> int:
    version = workspace_version()
    wrong = [(place, v) for place, v in places() if v != version]
    for place, v in wrong:
        print(f"{place}: {v}, not the workspace version {version}", file=sys.stderr)
    if wrong:
        print("run: scripts/version.py --set " + version, file=sys.stderr)
        return 1
    print(f"version {version}: every package agrees")
    return 0


def set_version(version: str) -> None:
    if not re.fullmatch(VERSION_RE, version):
        sys.exit(f"scripts/version.py: {version!r} is not a version (X.Y.Z or X.Y.Z-pre)")

    def put(m: re.Match) -> str:
        start, end = m.start("v") - m.start(), m.end("v") - m.start()
        return m.group(0)[:start] + version + m.group(0)[end:]

    for path in {p for p, _ in SPELLED} | set(LOCKS):
        file = REPO / path
        text = file.read_text()
        for p, pattern in SPELLED:
            if p == path:
                text = re.sub(pattern, put, text, flags=re.MULTILINE)
        if path in LOCKS:
            text = re.sub(lock_entry_re(), put, text)
        file.write_text(text)
    lock_file = REPO / "node/package-lock.json"
    lock = json.loads(lock_file.read_text())
    lock["version"] = version
    lock["packages"][""]["version"] = version
    lock_file.write_text(json.dumps(lock, indent=2) + "\n")


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        return check()
    if len(argv) == 2 and argv[0] == "--set":
        set_version(argv[1])
        return check()
    if not argv:
        print(workspace_version())
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
