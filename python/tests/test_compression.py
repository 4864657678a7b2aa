"""Producer compression: every codec round-trips through the server, and a codec or level
the core client does not know is refused with `InvalidArgument`."""

from __future__ import annotations

import json

import pytest
from conftest import unique

import pyralog

RECORDS = 500
CODECS = [
    pytest.param({"compression": "snappy"}, id="snappy"),
    pytest.param({"compression": "lz4"}, id="lz4"),
    pytest.param({"compression": "zstd"}, id="zstd"),
    pytest.param({"compression": "zstd", "compression_level": 9}, id="zstd-9"),
]


def sample() -> list[tuple[bytes, bytes]]:
    return [
        (
            f"user-{i % 17}".encode(),
            json.dumps({"id": i, "kind": "click", "page": f"/items/{i % 40}"}).encode(),
        )
        for i in range(RECORDS)
    ]


def produce(client, settings: dict) -> tuple[str, list[int]]:
    """Sends `sample()` to a fresh 1-partition log; returns it and the records' offsets."""
    log = unique("compression")
    client.create_log(log, partitions=1)
    with client.producer(linger=0.01, **settings) as p:
        deliveries = [p.send(log, value, key=key) for key, value in sample()]
        p.flush()
        return log, [d.result(timeout=10).offset for d in deliveries]


@pytest.mark.parametrize("settings", CODECS)
def test_compressed_records_read_back_identical_and_in_order(client, settings):
    log, offsets = produce(client, settings)
    assert offsets == list(range(RECORDS))
    got: list[pyralog.Record] = []
    while len(got) < RECORDS:
        more = client.consume_from_partition(log, 0, len(got), RECORDS)
        assert more, f"read {len(got)} of {RECORDS} records"
        got += more
    assert [(r.key, r.value) for r in got] == sample()
    assert [r.offset for r in got] == offsets
    plain, _ = produce(client, {})
    stored, uncompressed = (client.get_log_stats(x).size_bytes for x in (log, plain))
    assert stored * 2 < uncompressed, f"{stored} bytes stored, {uncompressed} uncompressed"


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"compression": "gzip"}, id="unknown-codec"),
        pytest.param({"compression": "lz4", "compression_level": 1}, id="level-without-levels"),
        pytest.param({"compression": "zstd", "compression_level": 23}, id="zstd-level-too-high"),
        pytest.param({"compression_level": 9}, id="level-without-codec"),
    ],
)
def test_unknown_codec_or_level_is_invalid_argument(client, settings):
    with pytest.raises(pyralog.InvalidArgument, match="compression|level"):
        client.producer(**settings)
