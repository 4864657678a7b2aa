"""Conformance scenarios of shared/conformance.md through the Python SDK
(sync client), against the real server. Scenarios not here yet are listed in
python/README.md."""

from __future__ import annotations

import json
import socket
import time

import pytest
from conftest import REPO, Server, unique

import pyralog
from pyralog import Client

VECTORS = json.loads((REPO.parent / "shared" / "spec" / "partitioner-vectors.json").read_text())


def test_scenario_1_connect_and_typed_connection_errors_within_10s(server):
    with Client(server.addr, ca_file=server.ca_file) as c:
        c.list_logs()
    other = Server()
    t = time.monotonic()
    try:
        with pytest.raises(pyralog.TlsError) as bad:
            Client(server.addr, ca_file=other.ca_file)
    finally:
        other.stop()
    assert bad.value.code == 901
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
        with pytest.raises(pyralog.ConnectionFailed) as e:
            Client(dead, ca_file=server.ca_file, connect_timeout=2.0)
    assert e.value.code == 900
    assert time.monotonic() - t < 10


def test_scenario_2_log_admin_and_invalid_names(client):
    name = unique("conf-2")
    md = client.create_log(name, partitions=4)
    assert md.partition_count == 4
    assert client.log_exists(name)
    listed = {m.name: m for m in client.list_logs()}
    assert listed[name].partition_count == 4
    assert [p.partition for p in client.get_log_metadata(name).partitions] == [
        0,
        1,
        2,
        3,
    ]
    with pytest.raises(pyralog.LogAlreadyExists):
        client.create_log(name, partitions=4)
    for bad in ["user/events", "events@prod", "a b", "", "a" * 250]:
        with pytest.raises(pyralog.InvalidLogId) as e:
            client.create_log(bad, partitions=1)
        assert e.value.code == 202
        assert not client.log_exists(bad) if bad else True


@pytest.mark.parametrize("count", [1, 4, 7, 16])
def test_scenario_3_keys_land_on_the_vector_partitions(client, count):
    log = unique(f"conf-3-{count}")
    client.create_log(log, partitions=count)
    for v in VECTORS["vectors"]:
        key = bytes.fromhex(v["key_hex"])
        md = client.produce(log, b"x", key=key)
        assert md.partition == v["partitions"][str(count)], v
        back = client.consume_from_partition(log, md.partition, md.offset, 1)
        assert back[0].key == key


def test_scenario_4_and_6_round_trip_keeps_every_field(client):
    log = unique("conf-4")
    client.create_log(log, partitions=4)
    start = int(time.time() * 1000) - 1
    headers = [("source", b"web-app"), ("source", b"dup"), ("empty", b"")]
    sent = []
    for i in range(1000):
        md = client.produce(log, f"event-{i}", key=f"user-{i % 100}", headers=headers)
        sent.append((md.partition, md.offset, f"user-{i % 100}".encode(), f"event-{i}".encode()))
    client.produce(log, b"\xff\x00\xfe", key=b"\x80\x81")
    client.produce(log, b"", key=b"empty-value")
    client.produce(log, b"no key")
    got = []
    for p in range(4):
        records = client.consume_from_partition(log, p, 0, 10_000)
        assert [r.offset for r in records] == list(range(len(records)))
        got.extend(records)
    assert len(got) == 1003
    by_pos = {(r.partition, r.offset): r for r in got}
    for partition, offset, key, value in sent:
        r = by_pos[(partition, offset)]
        assert (r.key, r.value, r.headers) == (key, value, headers)
        assert r.epoch >= 1 and start <= r.timestamp <= int(time.time() * 1000) + 1
    assert any(r.key == b"\x80\x81" and r.value == b"\xff\x00\xfe" for r in got)
    assert any(r.value == b"" for r in got) and any(r.key is None for r in got)


def test_scenario_11_missing_log_and_record_too_large(client):
    with pytest.raises(pyralog.LogNotFound):
        client.produce(unique("missing"), b"x")
    log = unique("conf-11")
    client.create_log(log, partitions=1)
    with pytest.raises(pyralog.RecordTooLarge):
        client.produce(log, b"x" * (2 * 1024 * 1024))
    assert client.consume(log, 0, 10) == []


def test_scenario_12_close_is_idempotent_and_later_calls_fail_closed(server):
    c = Client(server.addr, ca_file=server.ca_file)
    c.close()
    c.close()
    with pytest.raises(pyralog.Closed):
        c.list_logs()


def test_every_error_code_has_its_class():
    from pyralog import _pyralog, errors

    for code, name in _pyralog.error_codes():
        cls = errors.BY_CODE[code]
        assert cls.__name__ == name and issubclass(cls, pyralog.PyralogError)
