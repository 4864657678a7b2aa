"""The repository stands alone: no tracked file refers to a path outside it.

A clone has nothing beside it, so a test, build or doc that reads a sibling directory of the
checkout or a machine's absolute path works only where it was written. (`test_fresh_clone.py`
proves the same by building and running from a clone.)
"""

import re
import subprocess

from conftest import REPO

# Built from parts so this file does not match itself.
OUTSIDE = [
    re.escape("../" + "shared"),
    re.escape("shared" + "/spec"),
    re.escape("shared" + "/DESIGN"),
    re.escape("shared" + "/conformance"),
    r"(?<![\w.])/(?:work|home|root|Users)/",
]
PATTERN = re.compile("|".join(OUTSIDE))


def tracked_text_files():
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, check=True, capture_output=True
    ).stdout
    for name in out.decode().split("\0"):
        path = REPO / name
        if name and path.is_file():
            data = path.read_bytes()
            if b"\0" not in data[:8192]:
                yield name, data.decode("utf-8", "replace")


def test_no_tracked_file_refers_outside_the_repository():
    offenders = []
    for name, text in tracked_text_files():
        for n, line in enumerate(text.splitlines(), 1):
            if PATTERN.search(line):
                offenders.append(f"{name}:{n}: {line.strip()[:120]}")
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_the_spec_files_the_suites_read_are_in_the_repository():
    assert (REPO / "spec" / "partitioner-vectors.json").is_file()
    assert (REPO / "spec" / "conformance.md").is_file()
