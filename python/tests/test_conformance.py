"""Conformance scenarios of spec/conformance.md through the blocking `Client`,
against the real server (the asyncio twins are in test_conformance_async.py)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import REPO, Server, unique

import pyralog
from pyralog import Client

VECTORS = json.loads((REPO / "spec" / "partitioner-vectors.json").read_text())


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
    for p in client.get_log_metadata(name).partitions:
        assert p.replicas == [p.leader] and p.isr == [p.leader], (
            "one node leads and holds each partition"
        )
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
    stats = client.get_log_stats(log)
    assert stats.record_count == 1003 and stats.size_bytes > 0


def test_scenario_5_offsets_start_exactly_where_asked(client):
    log = unique("conf-5")
    client.create_log(log, partitions=1)
    for i in range(10):
        client.produce(log, f"v{i}", partition=0)
    assert [r.offset for r in client.consume_from_partition(log, 0, 7, 100)] == [7, 8, 9]
    assert client.consume_from_partition(log, 0, pyralog.OFFSET_END, 100) == []
    md = client.produce(log, b"new", partition=0)
    end = client.consume_from_partition(log, 0, md.offset, 100)
    assert [(r.offset, r.value) for r in end] == [(10, b"new")]
    with pytest.raises(pyralog.OffsetOutOfRange):
        client.consume_from_partition(log, 0, 12, 100)


def test_scenario_7_lifecycle_pause_resume_retention_delete_recreate(client):
    log = unique("conf-7")
    client.create_log(log, partitions=2)
    client.produce(log, b"before", partition=0)
    assert client.pause_log(log).state == "Paused"
    with pytest.raises(pyralog.LogPaused):
        client.produce(log, b"while paused")
    assert len(client.consume(log, 0, 10)) == 1
    client.resume_log(log)
    client.produce(log, b"after", partition=0)
    config = client.get_log_metadata(log).config
    config.retention_ms = 3_600_000
    assert client.update_log_config(log, config).config.retention_ms == 3_600_000
    assert client.get_log_metadata(log).config.retention_ms == 3_600_000
    client.delete_log(log)
    with pytest.raises(pyralog.LogNotFound):
        client.produce(log, b"gone")
    with pytest.raises(pyralog.LogNotFound):
        client.consume(log, 0, 10)
    client.create_log(log, partitions=2)
    assert client.consume(log, 0, 10) == []


def test_scenario_8_hundred_thousand_sends_resolve_and_read_back_once(client):
    log = unique("conf-8")
    client.create_log(log, partitions=4)
    count = 100_000
    with client.producer() as producer:
        deliveries = [
            producer.send(log, f"{i:0100d}".encode(), key=f"k{i % 1000}") for i in range(count)
        ]
        producer.flush()
        assert all(d.done() for d in deliveries)
        metadata = [d.result() for d in deliveries]
    assert len({(m.partition, m.offset) for m in metadata}) == count
    pairs = set()
    for p in range(4):
        offset = 0
        while records := client.consume_from_partition(log, p, offset, 20_000):
            pairs.update((r.key, r.value) for r in records)
            offset = records[-1].offset + 1
    assert len(pairs) == count


def poll_until(consumer, want, limit_s=30.0):
    """Polls until `want()` holds, returning the records seen."""
    seen = []
    deadline = time.monotonic() + limit_s
    while not want() and time.monotonic() < deadline:
        seen.extend(consumer.poll(0.2))
    assert want(), "condition not reached in time"
    return seen


class Member:
    """A group member polling on its own thread; the callbacks track what it owns."""

    def __init__(self, client, log, group):
        self.owned, self.delivered, self.events = set(), [], []
        self.consumer = client.consumer(group_id=group, session_timeout=6.0, heartbeat_interval=0.5)
        self.consumer.subscribe([log], on_assign=self.on_assign, on_revoke=self.on_revoke)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def on_assign(self, partitions):
        self.events.append("assign")
        self.owned |= {p.partition for p in partitions}

    def on_revoke(self, partitions):
        self.events.append("revoke")
        self.owned -= {p.partition for p in partitions}

    def run(self):
        while not self.stop.is_set():
            records = self.consumer.poll(0.2)
            self.delivered.extend((r.partition, r.offset) for r in records)
            if records:
                self.consumer.commit()

    def close(self):
        self.stop.set()
        self.thread.join(10)
        self.consumer.close()


def wait_for(condition, limit_s=30.0):
    deadline = time.monotonic() + limit_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition(), "condition not reached in time"


def test_scenario_9_two_members_split_then_one_owns_all(client):
    log, group = unique("conf-9"), unique("g9")
    client.create_log(log, partitions=4)
    for i in range(200):
        client.produce(log, f"v{i}", key=f"k{i}")
    a, b = Member(client, log, group), Member(client, log, group)
    try:
        wait_for(
            lambda: len(a.owned) == len(b.owned) == 2 and len(a.delivered) + len(b.delivered) >= 200
        )
        assert not a.owned & b.owned and a.owned | b.owned == {0, 1, 2, 3}
        assert "assign" in a.events and "assign" in b.events
        b.close()
        wait_for(lambda: a.owned == {0, 1, 2, 3})
        assert "revoke" in a.events or "revoke" in b.events
        delivered = a.delivered + b.delivered
        assert len(delivered) == len(set(delivered)) == 200
        for i in range(200, 220):
            client.produce(log, f"v{i}", key=f"k{i}")
        wait_for(lambda: len(a.delivered) + len(b.delivered) == 220)
    finally:
        a.close()
        b.close()
    for i in range(220, 230):
        client.produce(log, f"v{i}", key=f"k{i}")
    with client.consumer(group_id=group) as late:
        late.subscribe([log])
        got = []
        wait_for(lambda: got.extend(late.poll(0.2)) or len(got) >= 10)
    assert sorted(r.value for r in got) == sorted(f"v{i}".encode() for i in range(220, 230))


def test_scenario_10_commit_then_committed_and_resume_there(client):
    log, group = unique("conf-10"), unique("g10")
    client.create_log(log, partitions=2)
    for i in range(50):
        client.produce(log, f"v{i}", partition=i % 2)
    with client.consumer(group_id=group, enable_auto_commit=False) as c:
        c.subscribe([log])
        poll_until(c, lambda: len(c.assignment()) == 2)
        c.seek(pyralog.LogPartition(log, 0), 10)
        c.seek((log, 1), 7)
        c.commit()
        assert c.committed() == {
            pyralog.LogPartition(log, 0): 10,
            pyralog.LogPartition(log, 1): 7,
        }
    with client.consumer(group_id=group) as c:
        c.subscribe([log])
        recs = []
        wait_for(lambda: recs.extend(c.poll(0.2)) or len(recs) >= 15 + 18)
    for p, first in [(0, 10), (1, 7)]:
        assert [r.offset for r in recs if r.partition == p] == list(range(first, 25))


def test_scenario_11_poll_on_an_empty_log_returns_empty_after_its_timeout(client):
    log = unique("conf-11-poll")
    client.create_log(log, partitions=1)
    with client.consumer() as c:
        c.assign([(log, 0)])
        t = time.monotonic()
        assert c.poll(0.5) == []
        assert 0.4 <= time.monotonic() - t < 3.0


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


def test_scenario_12_producer_and_consumer_close_idempotently_and_process_exits(server):
    script = f"""
import pyralog
c = pyralog.Client({server.addr!r}, ca_file={server.ca_file!r})
log = "conf-12-exit-" + str(__import__("os").getpid())
c.create_log(log, partitions=1)
p = c.producer()
p.send(log, b"x").result()
p.close(); p.close()
try:
    p.send(log, b"y")
except pyralog.Closed:
    pass
else:
    raise SystemExit("send after close did not raise Closed")
k = c.consumer(); k.assign([(log, 0)]); assert len(k.poll(5.0)) == 1
k.close(); k.close()
try:
    k.poll(0.1)
except pyralog.Closed:
    pass
else:
    raise SystemExit("poll after close did not raise Closed")
c.close()
print("done")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "done"


def test_scenario_13_eight_threads_share_one_client(client):
    log = unique("conf-13")
    client.create_log(log, partitions=4)
    per_thread = 500
    results = [[] for _ in range(8)]
    with client.producer() as producer:

        def work(t):
            ds = [producer.send(log, f"t{t}-{i}") for i in range(per_thread)]
            results[t] = [d.result() for d in ds]

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sum(len(r) for r in results) == 8 * per_thread
    values = [r.value for r in client.consume(log, 0, 100_000)]
    assert len(values) == len(set(values)) == 8 * per_thread


def test_every_error_code_has_its_class():
    from pyralog import _pyralog, errors

    for code, name in _pyralog.error_codes():
        cls = errors.BY_CODE[code]
        assert cls.__name__ == name and issubclass(cls, pyralog.PyralogError)
