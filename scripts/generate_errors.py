#!/usr/bin/env python3
"""Generates every language's list of error codes from the one table,
`protocol/src/error.rs` (`Name = code,` with its doc comment):

- python/pyralog/errors.py   (the classes, BY_CODE and __all__)
- go/errors_codes.go         (codes, sentinels, names; gofmt-aligned)
- java/src/main/java/io/pyralog/errors/  (ErrorCodes.java and one exception per code)

Node's list comes from node/scripts/generate-errors.mjs (it reads the same
table through the addon). Each language's own test also checks its list
against the native library at run time.

    scripts/generate_errors.py           rewrite the files
    scripts/generate_errors.py --check   fail (exit 1) if any is out of date
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "protocol" / "src" / "error.rs"
JAVA_DIR = REPO / "java" / "src" / "main" / "java" / "io" / "pyralog" / "errors"
# Extra Python names exported beside the per-code classes.
PY_EXTRA_EXPORTS = ["BY_CODE", "PyralogError", "UsedAfterFork"]
# Line width of the generated Python (the SDK's ruff line length).
PY_LINE_WIDTH = 100

# What a class says and carries beyond its code, per language: `CorruptData` raised for
# fetched data names the batch that cannot be decoded (pyralog::Error::corrupt_batch).
CORRUPT_DATA_DOC = (
    "Raised for fetched data, it names the batch that cannot be decoded in {fields}, {absent}"
    " when it names none. Every record before that batch was delivered; to skip the batch"
    " (after deciding its records are lost: a replica may still hold them intact), seek the"
    " partition to {skip}."
)
PY_CLASS_EXTRAS = {
    "CorruptData": (
        CORRUPT_DATA_DOC.format(
            fields="`log`, `partition`, `first_offset` and `last_offset`",
            absent="None",
            skip="`last_offset + 1`",
        ),
        """
    #: The log of the batch that cannot be decoded.
    log: str | None = None
    #: Its partition.
    partition: int | None = None
    #: Its first offset (the first record not delivered).
    first_offset: int | None = None
    #: Its last offset: seek to `last_offset + 1` to skip it.
    last_offset: int | None = None

    def __init__(
        self,
        code: int,
        message: str,
        retry_after_ms: int | None = None,
        *,
        log: str | None = None,
        partition: int | None = None,
        first_offset: int | None = None,
        last_offset: int | None = None,
    ) -> None:
        super().__init__(code, message, retry_after_ms)
        self.log = log
        self.partition = partition
        self.first_offset = first_offset
        self.last_offset = last_offset
""",
    ),
}


def codes() -> list[tuple[str, int, str]]:
    """(name, code, doc) of every `Name = code,` line (the variants of `ErrorCode`)."""
    out, doc = [], []
    for line in SOURCE.read_text().splitlines():
        line = line.strip()
        if line.startswith("///"):
            doc.append(line[3:].strip())
        elif m := re.fullmatch(r"(\w+) = (\d+),", line):
            out.append((m[1], int(m[2]), " ".join(doc) or m[1]))
            doc = []
        else:
            doc = []
    assert out, f"no error codes found in {SOURCE}"
    return out


def python(table) -> str:
    head, _, _ = (REPO / "python/pyralog/errors.py").read_text().partition("\n\nclass Unknown(")
    s = head
    for name, code, doc in table:
        # Wrapped so that the closing quotes fit too.
        doc = textwrap.fill(
            f"{doc} (code {code})",
            PY_LINE_WIDTH - 3,
            initial_indent='    """',
            subsequent_indent="    ",
        )
        extra_doc, body = PY_CLASS_EXTRAS.get(name, ("", ""))
        if extra_doc:
            doc += "\n\n" + textwrap.fill(
                extra_doc, PY_LINE_WIDTH - 3, initial_indent="    ", subsequent_indent="    "
            )
        s += f'\n\nclass {name}(PyralogError):\n{doc}"""\n\n    code = {code}\n{body}'
    s += "\n\n#: Error class per code.\nBY_CODE: dict[int, type[PyralogError]] = {\n"
    s += "".join(f"    {code}: {name},\n" for name, code, _ in table)
    s += "}\n"
    s += '''

class UsedAfterFork(Closed):
    """A client, producer or consumer created before `os.fork()` was used in the
    child: its native threads did not survive the fork. Create them in the child."""


def _check_codes() -> None:
    native = dict(_pyralog.error_codes())
    missing = {c: n for c, n in native.items() if c not in BY_CODE or BY_CODE[c].__name__ != n}
    if missing:
        raise ImportError(f"pyralog.errors is out of date with the native module: {missing}")


_check_codes()
_pyralog._register_errors(BY_CODE, UsedAfterFork)

__all__ = [
'''
    # isort-style, as ruff's RUF022 wants: CONSTANTS first, then Classes.
    names = sorted([n for n, _, _ in table] + PY_EXTRA_EXPORTS, key=lambda n: (not n.isupper(), n))
    s += "".join(f'    "{n}",\n' for n in names)
    return s + "]\n"


def go(table) -> str:
    width = max(len(n) for n, _, _ in table)
    s = (
        "// Code generated from pyralog::ErrorCode; TestErrorCodesMatchTheLibrary keeps it in step."
        " DO NOT EDIT by hand.\n\npackage pyralog\n\n"
        "// Stable error codes (the numbers of the wire protocol and the C ABI).\nconst (\n"
    )
    for name, code, doc in table:
        s += f"\t// Code{name}: {doc}\n\tCode{name} Code = {code}\n"
    s += ")\n\n// Sentinels, one per code, for errors.Is(err, pyralog.ErrLogNotFound).\nvar (\n"
    for name, _, _ in table:
        s += f"\tErr{name.ljust(width)} = &Error{{Code: Code{name}}}\n"
    s += ")\n\nvar codeNames = map[Code]string{\n"
    for name, _, _ in table:
        s += f"\t{('Code' + name + ':').ljust(width + 6)}{chr(34)}{name}{chr(34)},\n"
    return s + "}\n"


JAVA_HEADER = "// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.\n"


# Java's extra imports, class doc, fields, constructor body and members per class.
JAVA_CLASS_EXTRAS = {
    "CorruptData": {
        "imports": ["io.pyralog.BatchLocation", "java.util.Optional"],
        "doc": CORRUPT_DATA_DOC.format(
            fields="{@link #corruptBatch()} (its log, partition, first and last offset)",
            absent="empty",
            skip="{@code lastOffset + 1}",
        ),
        "fields": """
    /** Where the batch that cannot be decoded lies; null when the error names none. */
    private final BatchLocation corruptBatch;
""",
        "constructor": "        this(message, null);\n",
        "members": """
    /**
     * Creates the exception naming the batch that cannot be decoded.
     *
     * @param message what happened and what to do
     * @param corruptBatch where the batch lies, or null
     */
    public CorruptDataException(String message, BatchLocation corruptBatch) {
        super(CODE, message);
        this.corruptBatch = corruptBatch;
    }

    /**
     * Where the batch that cannot be decoded lies: every record before it was delivered; seek
     * its partition to {@code lastOffset() + 1} to skip it.
     *
     * @return its log, partition and offsets, or empty when the error names no batch
     */
    public Optional<BatchLocation> corruptBatch() {
        return Optional.ofNullable(corruptBatch);
    }
""",
    },
}


def javadoc_paragraph(text: str) -> str:
    """`text` as a `<p>` paragraph of a class's Javadoc, its inline tags kept on one line."""
    text = re.sub(r"\{@[^}]*\}", lambda m: m[0].replace(" ", "\0"), f"<p>{text}")
    lines = textwrap.wrap(text, 96, initial_indent=" * ", subsequent_indent=" * ")
    return "\n".join(lines).replace("\0", " ")


def java_exception(name: str, code: int, doc: str) -> str:
    extra = JAVA_CLASS_EXTRAS.get(name, {})
    imports = sorted(["io.pyralog.PyralogException", *extra.get("imports", [])])
    imports = "".join(f"import {i};\n" for i in imports)
    doc = f"{doc} (code {code})".replace("*/", "* /")
    if "doc" in extra:
        doc = f"/**\n * {doc}\n *\n{javadoc_paragraph(extra['doc'])}\n */"
    else:
        doc = f"/** {doc} */"
    constructor = extra.get("constructor", "        super(CODE, message);\n")
    return f"""{JAVA_HEADER}package io.pyralog.errors;

{imports}
{doc}
public final class {name}Exception extends PyralogException {{
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = {code};
{extra.get("fields", "")}
    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public {name}Exception(String message) {{
{constructor}    }}
{extra.get("members", "")}}}
"""


def java_codes(table) -> str:
    all_codes = ", ".join(str(c) for _, c, _ in table)
    cases = "".join(f"            case {c} -> new {n}Exception(message);\n" for n, c, _ in table)
    return f"""{JAVA_HEADER}package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The typed exception of each error code. */
public final class ErrorCodes {{
    private ErrorCodes() {{}}

    /** Every code this version knows, in numeric order. */
    public static final int[] ALL = {{{all_codes}}};

    /**
     * The exception for {{@code code}}.
     *
     * @param code a stable error code
     * @param message what happened and what to do
     * @return its typed exception ({{@link UnknownException}} for an unknown code)
     */
    public static PyralogException create(int code, String message) {{
        return switch (code) {{
{cases}            default -> new UnknownException("code " + code + ": " + message);
        }};
    }}
}}
"""


def outputs() -> dict[Path, str]:
    table = codes()
    files = {
        REPO / "python/pyralog/errors.py": python(table),
        REPO / "go/errors_codes.go": go(table),
        JAVA_DIR / "ErrorCodes.java": java_codes(table),
    }
    for name, code, doc in table:
        files[JAVA_DIR / f"{name}Exception.java"] = java_exception(name, code, doc)
    return files


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for path, text in outputs().items():
        if not path.exists() or path.read_text() != text:
            stale.append(path.relative_to(REPO))
            if not check:
                path.write_text(text)
    if check and stale:
        print(
            "error lists out of date with protocol/src/error.rs (run scripts/generate_errors.py):"
        )
        for p in stale:
            print(f"  {p}")
        return 1
    for p in stale:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
