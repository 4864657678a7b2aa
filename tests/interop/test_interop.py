"""Conformance scenario 14 across the five languages (tests/interop/README.md):
each language produces a tagged set of records, every language reads every
set back, and the driver checks each reading field by field; then one consumer
group with a member in every language splits a log."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import random
import subprocess
import sys
import threading
import time
import uuid

import pytest
from conftest import REPO, TARGET

LANGUAGES = ("rust", "python", "java", "go", "node")
PARTITIONS = 4
RECORDS_PER_LANGUAGE = 240
PROGRAM_TIMEOUT_S = 240
GROUP_PARTITIONS = 10
GROUP_RECORDS = 1000
GROUP_PHASE_TIMEOUT_S = 120
VECTORS = json.loads((REPO / "spec" / "partitioner-vectors.json").read_text())
HERE = pathlib.Path(__file__).resolve().parent


def murmur2_partition(key: bytes, partitions: int) -> int:
    """The Kafka Java client's murmur2 key placement (DESIGN §2), as the driver's
    own reference for where a keyed record must land."""
    m, mask = 0x5BD1E995, 0xFFFFFFFF
    h = (0x9747B28C ^ len(key)) & mask
    whole = len(key) - len(key) % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(key[i : i + 4], "little")
        k = (k * m) & mask
        k ^= k >> 24
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = key[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def test_the_drivers_own_key_placement_matches_the_shared_vectors():
    for v in VECTORS["vectors"]:
        for count, want in v["partitions"].items():
            assert murmur2_partition(bytes.fromhex(v["key_hex"]), int(count)) == want, v


@dataclasses.dataclass(frozen=True)
class Rec:
    partition: int | None
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def tsv(self) -> str:
        headers = ",".join(f"{n.encode().hex()}={v.hex()}" for n, v in self.headers) or "-"
        key = "-" if self.key is None else self.key.hex()
        partition = "-" if self.partition is None else str(self.partition)
        return f"{partition}\t{key}\t{self.value.hex()}\t{headers}\n"


def records_for(tag: str) -> list[Rec]:
    """A deterministic set with every shape of record: keyed (text, binary,
    non-ASCII), keyless, explicit partitions, binary, empty and large values,
    headers with duplicates, empty and non-UTF-8 values and non-ASCII names."""
    rng = random.Random(tag)
    out = []
    for i in range(RECORDS_PER_LANGUAGE):
        shape = i % 6
        key = {
            0: f"{tag}-user-{i % 17}".encode(),
            1: bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))),
            2: None,
            3: f"{tag}-user-{i % 17}".encode(),
            4: bytes([0xFF, 0xFE, i % 256]),
            5: f"ключ-{i % 5}".encode(),
        }[shape]
        partition = i % PARTITIONS if shape in (3, 4) else None
        if i % 25 == 0:
            value = b""
        elif i % 60 == 7:
            value = bytes(rng.randrange(256) for _ in range(64 * 1024))
        elif i % 2:
            value = bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
        else:
            value = f"{tag}-event-{i}".encode()
        headers: tuple[tuple[str, bytes], ...] = ()
        if i % 3:
            headers = (("lang", tag.encode()), ("i", str(i).encode()), ("dup", b"a"), ("dup", b"b"))
        if i % 4 == 1:
            headers += (("bin", bytes([0x00, 0xFF, 0x80, i % 256])), ("ключ", b""), ("empty", b""))
        out.append(Rec(partition, key, value, headers))
    return out


@pytest.fixture(scope="session")
def programs(workdir):
    """The command that runs each language's interop program."""
    go_binary = workdir / "interop-go"
    subprocess.run(
        ["go", "build", "-o", str(go_binary), "."],
        cwd=HERE / "go",
        check=True,
        timeout=PROGRAM_TIMEOUT_S,
    )
    version = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "version.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    jar = REPO / "java" / "target" / f"pyralog-{version}.jar"
    assert jar.exists(), f"{jar} is missing: run `mvn -f java/pom.xml verify` first"
    return {
        "rust": [str(TARGET / "debug" / "pyralog-interop")],
        "python": [sys.executable, str(HERE / "python" / "interop.py")],
        "java": ["java", "-cp", str(jar), str(HERE / "java" / "Interop.java")],
        "go": [str(go_binary)],
        "node": ["node", str(HERE / "node" / "interop.mjs")],
    }


def program_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYRALOG_NODE_ADDON", str(TARGET / "debug" / "libpyralog_node.so"))
    return env


def run(programs, lang: str, *args: str) -> None:
    done = subprocess.run(
        [*programs[lang], *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=PROGRAM_TIMEOUT_S,
        env=program_env(),
    )
    assert done.returncode == 0, f"{lang} {args[0]} exited {done.returncode}: {done.stderr}"


def parse_headers(field: str) -> tuple[tuple[str, bytes], ...]:
    if field == "-":
        return ()
    pairs = (p.split("=", 1) for p in field.split(","))
    return tuple((bytes.fromhex(n).decode(), bytes.fromhex(v)) for n, v in pairs)


def read_dump(path: pathlib.Path) -> dict[tuple[int, int], tuple[int, int, Rec]]:
    """(partition, offset) -> (epoch, timestamp, record) of a dump file."""
    out = {}
    for line in path.read_text().splitlines():
        p, o, epoch, ts, key, value, headers = line.split("\t")
        rec = Rec(
            None,
            None if key == "-" else bytes.fromhex(key),
            bytes.fromhex(value),
            parse_headers(headers),
        )
        out[(int(p), int(o))] = (int(epoch), int(ts), rec)
    return out


def check_placement(sent: list[Rec], acks: list[tuple[int, int]]) -> None:
    assert len(acks) == len(sent) and len(set(acks)) == len(sent), (
        "one distinct position per record"
    )
    last: dict[int, int] = {}
    for rec, (p, o) in zip(sent, acks):
        if rec.partition is not None:
            assert p == rec.partition, f"explicit partition {rec.partition}, written to {p}"
        elif rec.key is not None:
            assert p == murmur2_partition(rec.key, PARTITIONS), f"key {rec.key!r} placed on {p}"
        assert o > last.get(p, -1), f"partition {p}: offsets follow send order"
        last[p] = o


def check_reading(reader: str, sent, acks, dump, window) -> None:
    assert len(dump) == len(sent), f"{reader} read {len(dump)} records, {len(sent)} were written"
    per_partition: dict[int, list[int]] = {}
    for p, o in dump:
        per_partition.setdefault(p, []).append(o)
    for p, offsets in per_partition.items():
        assert sorted(offsets) == list(range(len(offsets))), (
            f"{reader}: partition {p} offsets dense from 0"
        )
    for i, (rec, position) in enumerate(zip(sent, acks)):
        epoch, ts, got = dump[position]
        where = f"{reader} reading record {i} at {position}"
        assert got.key == rec.key, f"{where}: key"
        assert got.value == rec.value, f"{where}: value"
        assert got.headers == rec.headers, f"{where}: headers"
        assert epoch >= 1, f"{where}: epoch {epoch}"
        assert window[0] <= ts <= window[1], f"{where}: timestamp {ts} outside {window}"


@pytest.mark.parametrize("producer", LANGUAGES)
def test_records_produced_in_one_language_read_back_identically_by_every_language(
    producer, programs, target, workdir
):
    from pyralog import Client

    log = f"interop-{producer}-{uuid.uuid4().hex[:8]}"
    with Client(target.addr, ca_file=target.ca_file) as client:
        client.create_log(log, partitions=PARTITIONS)
    sent = records_for(f"{producer}-{log}")
    records_in, acks_out = workdir / f"{log}.in.tsv", workdir / f"{log}.acks.tsv"
    records_in.write_text("".join(r.tsv() for r in sent))
    started_ms = int(time.time() * 1000) - 1
    run(
        programs,
        producer,
        "produce",
        target.addr,
        target.ca_file,
        log,
        str(records_in),
        str(acks_out),
    )
    window = (started_ms, int(time.time() * 1000) + 1)
    acks = [tuple(map(int, line.split("\t"))) for line in acks_out.read_text().splitlines()]
    check_placement(sent, acks)

    dumps = {}
    for reader in LANGUAGES:
        out = workdir / f"{log}.dump-{reader}.tsv"
        run(programs, reader, "dump", target.addr, target.ca_file, log, str(out))
        dumps[reader] = out.read_text()
        check_reading(reader, sent, acks, read_dump(out), window)
    assert len(set(dumps.values())) == 1, (
        "every language reads the same bytes, epochs and timestamps"
    )


class Member:
    """One language's `member` process and what it printed."""

    def __init__(self, lang: str, argv: list[str]) -> None:
        self.lang = lang
        self.lines: list[str] = []
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=program_env())
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def assignment(self) -> set[int] | None:
        shown = [line.split()[1] for line in list(self.lines) if line.startswith("assignment ")]
        if not shown:
            return None
        return set() if shown[-1] == "-" else {int(p) for p in shown[-1].split(",")}


def eventually(what: str, done, members) -> None:
    deadline = time.monotonic() + GROUP_PHASE_TIMEOUT_S
    while not done():
        exited = [(m.lang, m.proc.returncode) for m in members if m.proc.poll() is not None]
        assert not exited, f"members exited while waiting for {what}: {exited}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}: " + "; ".join(
            f"{m.lang}: {m.lines[-3:]}" for m in members
        )
        time.sleep(0.1)


def test_one_group_with_a_member_in_every_language_splits_a_log(programs, target, workdir):
    from pyralog import Client

    log, group = f"interop-group-{uuid.uuid4().hex[:8]}", f"interop-{uuid.uuid4().hex[:8]}"
    stop = workdir / f"{group}.stop"
    with Client(target.addr, ca_file=target.ca_file) as client:
        client.create_log(log, partitions=GROUP_PARTITIONS)
        members = [
            Member(
                lang,
                [
                    *programs[lang],
                    "member",
                    target.addr,
                    target.ca_file,
                    log,
                    group,
                    str(stop),
                    str(workdir / f"{group}.{lang}.tsv"),
                ],
            )
            for lang in LANGUAGES
        ]
        try:

            def split() -> bool:
                owned = [m.assignment() for m in members]
                if any(not o for o in owned):
                    return False
                return sum(map(len, owned)) == GROUP_PARTITIONS and set().union(*owned) == set(
                    range(GROUP_PARTITIONS)
                )

            eventually("the five members to split the partitions", split, members)
            with client.producer() as producer:
                items = [(f"g-key-{i % 50}", f"g-value-{i}") for i in range(GROUP_RECORDS)]
                written = producer.send_batch(log, items).result(timeout=60)
            value_at = {
                (md.partition, md.offset): f"g-value-{i}".encode() for i, md in enumerate(written)
            }

            def deliveries() -> dict[str, list[tuple[int, int, bytes]]]:
                got = {}
                for m in members:
                    path = workdir / f"{group}.{m.lang}.tsv"
                    # Complete lines only: a member may be writing the last one.
                    lines = path.read_text().split("\n")[:-1] if path.exists() else []
                    rows = [line.split("\t") for line in lines]
                    got[m.lang] = [(int(p), int(o), bytes.fromhex(v)) for p, o, v in rows]
                return got

            eventually(
                "every record to be delivered",
                lambda: sum(map(len, deliveries().values())) >= GROUP_RECORDS,
                members,
            )
            final = {m.lang: m.assignment() for m in members}
        finally:
            stop.touch()
            for m in members:
                try:
                    m.proc.wait(timeout=GROUP_PHASE_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    m.proc.kill()
        for m in members:
            m.reader.join(timeout=5)
            assert m.proc.returncode == 0, f"{m.lang} member exited {m.proc.returncode}"
            assert m.lines[-1] == "closed", f"{m.lang} member closed cleanly: {m.lines[-3:]}"

        got = deliveries()
        positions = [(p, o) for rows in got.values() for p, o, _ in rows]
        assert sorted(positions) == sorted(value_at), (
            "every record delivered exactly once to the group"
        )
        for lang, rows in got.items():
            assert rows, f"the {lang} member received records"
            for p, o, value in rows:
                assert p in final[lang], f"{lang} got partition {p} it did not own ({final[lang]})"
                assert value == value_at[(p, o)], f"{lang} at {p}/{o}: value"

        ends = {}
        for p, o in value_at:
            ends[p] = max(ends.get(p, 0), o + 1)
        with client.consumer(group_id=group) as admin:
            committed = admin.committed([(log, p) for p in range(GROUP_PARTITIONS)])
        assert {lp.partition: off for lp, off in committed.items()} == ends, (
            "the group committed every record"
        )
