"""The README's example for each language is exactly the code between the
`readme:start` and `readme:end` markers of that language's quickstart."""

from __future__ import annotations

import re
import textwrap

import pytest
from conftest import REPO

QUICKSTARTS = {
    "Rust": ("rust", "examples/rust/src/main.rs"),
    "Python": ("python", "examples/python/quickstart.py"),
    "Java": ("java", "examples/java/src/main/java/io/pyralog/examples/Quickstart.java"),
    "Go": ("go", "examples/go/quickstart/main.go"),
    "Node": ("js", "examples/node/quickstart.mjs"),
}


def marked_lines(path: str) -> str:
    lines = (REPO / path).read_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().endswith("readme:start")]
    ends = [i for i, line in enumerate(lines) if line.strip().endswith("readme:end")]
    assert len(starts) == 1 and len(ends) == 1 and starts[0] < ends[0], f"{path}: one marked region"
    return textwrap.dedent("\n".join(lines[starts[0] + 1 : ends[0]])).strip("\n")


def readme_block(heading: str, fence: str) -> str:
    readme = (REPO / "README.md").read_text()
    section = re.search(rf"^### {heading}\n(.*?)(?=^##)", readme, re.DOTALL | re.MULTILINE)
    assert section, f"README.md has a '### {heading}' section"
    block = re.search(rf"^```{fence}\n(.*?)^```", section.group(1), re.DOTALL | re.MULTILINE)
    assert block, f"README.md '### {heading}' has a ```{fence} block"
    return block.group(1).strip("\n")


@pytest.mark.parametrize("heading", QUICKSTARTS)
def test_readme_example_is_the_code_of_the_quickstart(heading):
    fence, path = QUICKSTARTS[heading]
    assert readme_block(heading, fence) == marked_lines(path), (
        f"README.md '### {heading}' differs from the marked lines of {path}: copy them over"
    )


def write_readme() -> None:
    """Copies each quickstart's marked lines into its README block."""
    readme = (REPO / "README.md").read_text()
    for heading, (fence, path) in QUICKSTARTS.items():
        old = f"```{fence}\n{readme_block(heading, fence)}\n```"
        at = readme.index(old, readme.index(f"### {heading}\n"))
        new = f"```{fence}\n{marked_lines(path)}\n```"
        readme = readme[:at] + new + readme[at + len(old) :]
    (REPO / "README.md").write_text(readme)


if __name__ == "__main__":  # python tests/test_readme.py: copies the examples into README.md
    write_readme()
