"""A stored batch that cannot be decoded (flipped on disk while the server runs) lets readers
take every record before it, then raises `CorruptData` naming the batch; seeking past its
last offset reads on."""

from __future__ import annotations

import pathlib
import struct
import time

import pytest
from conftest import unique

import pyralog

#: Records produced one at a time (one batch each); the batch of `BAD` is broken on disk.
RECORDS = 6
BAD = 3
#: The fixed batch header (protocol/src/batch.rs); the records section follows it.
BATCH_HEADER_BYTES = 80
#: base_offset (u64) and batch_length (u32): the bytes before batch_length's coverage.
LENGTH_PREFIX_BYTES = 12
WAIT_S = 10.0


def segment_file(server, log: str, partition: int) -> pathlib.Path:
    """The partition's first segment: `<data>/logs/<log>.<incarnation>/<p>/<base:020>.log`."""
    dirs = [d for d in (server.data_dir / "logs").iterdir() if d.name.rsplit(".", 1)[0] == log]
    assert len(dirs) == 1, f"one directory of {log}: {dirs}"
    return dirs[0] / str(partition) / f"{0:020}.log"


def flip_a_record_byte_of_batch(path: pathlib.Path, index: int) -> int:
    """Flips one byte inside the records section of the `index`-th batch of the segment (its
    checksum no longer holds); returns that batch's base offset."""
    with path.open("r+b") as f:
        at = 0
        for _ in range(index):
            f.seek(at)
            _, length = struct.unpack("<QI", f.read(LENGTH_PREFIX_BYTES))
            at += LENGTH_PREFIX_BYTES + length
        f.seek(at)
        base, length = struct.unpack("<QI", f.read(LENGTH_PREFIX_BYTES))
        end = at + LENGTH_PREFIX_BYTES + length
        assert at + BATCH_HEADER_BYTES < end, "the batch has a records section"
        target = (at + BATCH_HEADER_BYTES + end) // 2
        f.seek(target)
        byte = f.read(1)[0]
        f.seek(target)
        f.write(bytes([byte ^ 0xFF]))
    return base


def assert_names_the_bad_batch(e: pyralog.CorruptData, log: str) -> None:
    assert (e.log, e.partition, e.first_offset, e.last_offset) == (log, 0, BAD, BAD), e
    assert e.code == pyralog.CorruptData.code
    assert f"seek the partition to {BAD + 1}" in e.message


def poll_until_corrupt_data(c: pyralog.Consumer) -> pyralog.CorruptData:
    """The `CorruptData` a poll raises within `WAIT_S`; no poll returns records before it."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            assert c.poll(0.2) == [], "nothing past the corrupt batch before a seek"
        except pyralog.CorruptData as e:
            return e
    pytest.fail(f"no CorruptData within {WAIT_S} s")


@pytest.fixture
def corrupt_log(client, server) -> str:
    """A 1-partition log of `RECORDS` one-record batches whose batch at `BAD` fails its
    checksum on disk."""
    log = unique("corrupt")
    client.create_log(log, partitions=1)
    for i in range(RECORDS):
        md = client.produce(log, f"value-{i}".encode(), partition=0)
        assert md.offset == i
    base = flip_a_record_byte_of_batch(segment_file(server, log, 0), BAD)
    assert base == BAD
    return log


def test_consume_from_partition_returns_the_records_before_a_corrupt_batch(client, corrupt_log):
    got = client.consume_from_partition(corrupt_log, 0, 0, 10)
    assert [(r.offset, r.value) for r in got] == [(i, f"value-{i}".encode()) for i in range(BAD)]


def test_consume_from_partition_at_a_corrupt_batch_raises_corrupt_data_naming_it(
    client, corrupt_log
):
    with pytest.raises(pyralog.CorruptData) as raised:
        client.consume_from_partition(corrupt_log, 0, BAD, 10)
    assert_names_the_bad_batch(raised.value, corrupt_log)
    after = client.consume_from_partition(corrupt_log, 0, raised.value.last_offset + 1, 10)
    assert [r.offset for r in after] == list(range(BAD + 1, RECORDS))


def test_consumer_delivers_the_records_before_a_corrupt_batch_then_raises_until_seek(
    client, corrupt_log
):
    with client.consumer() as c:
        c.assign([(corrupt_log, 0)])
        c.seek((corrupt_log, 0), 0)
        got: list[pyralog.Record] = []
        deadline = time.monotonic() + WAIT_S
        while len(got) < BAD:
            assert time.monotonic() < deadline, f"{len(got)} of {BAD} good records in {WAIT_S} s"
            got += c.poll(0.2)
        assert [r.offset for r in got] == list(range(BAD))

        e = poll_until_corrupt_data(c)
        assert_names_the_bad_batch(e, corrupt_log)
        # Raised again on the next polls, until the partition is moved past the batch.
        assert_names_the_bad_batch(poll_until_corrupt_data(c), corrupt_log)

        c.seek((e.log, e.partition), e.last_offset + 1)
        after: list[pyralog.Record] = []
        deadline = time.monotonic() + WAIT_S
        while len(after) < RECORDS - BAD - 1:
            assert time.monotonic() < deadline, f"{len(after)} records after the seek"
            after += c.poll(0.2)
        assert [(r.offset, r.value) for r in after] == [
            (i, f"value-{i}".encode()) for i in range(BAD + 1, RECORDS)
        ]
