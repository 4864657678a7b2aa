"""Conformance scenarios of spec/conformance.md through `AsyncClient`, against the real
server. Each test runs its coroutine in a fresh event loop with a time limit."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import time

import pytest
from conftest import REPO, Server, unique

import pyralog
from pyralog import AsyncClient

VECTORS = json.loads((REPO / "spec" / "partitioner-vectors.json").read_text())
TEST_LIMIT_S = 120


def run(test):
    """Runs an async test function in its own event loop, bounded in time."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(asyncio.wait_for(test(*args, **kwargs), TEST_LIMIT_S))

    return wrapper


def connect(server):
    return AsyncClient.connect(server.addr, ca_file=server.ca_file)


async def read_all(client, log, partitions):
    out = []
    for p in range(partitions):
        offset = 0
        while records := await client.consume_from_partition(log, p, offset, 20_000):
            out.extend(records)
            offset = records[-1].offset + 1
    return out


@run
async def test_scenario_1_connect_and_typed_connection_errors_within_10s(server):
    async with connect(server) as c:
        await c.list_logs()
    other = Server()
    t = time.monotonic()
    try:
        with pytest.raises(pyralog.TlsError):
            await AsyncClient.connect(server.addr, ca_file=other.ca_file)
    finally:
        other.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
        with pytest.raises(pyralog.ConnectionFailed):
            await AsyncClient.connect(dead, ca_file=server.ca_file, connect_timeout=2.0)
    assert time.monotonic() - t < 10


@run
async def test_scenario_2_log_admin_and_invalid_names(server):
    async with connect(server) as c:
        name = unique("aconf-2")
        await c.create_log(name, partitions=4)
        assert await c.log_exists(name)
        assert {m.name: m.partition_count for m in await c.list_logs()}[name] == 4
        md = await c.get_log_metadata(name)
        assert [p.partition for p in md.partitions] == [0, 1, 2, 3]
        with pytest.raises(pyralog.LogAlreadyExists):
            await c.create_log(name, partitions=4)
        for bad in ["user/events", "events@prod", "a b", "", "a" * 250]:
            with pytest.raises(pyralog.InvalidLogId):
                await c.create_log(bad)
        assert not any(m.name in ("a b", "events@prod") for m in await c.list_logs())


@run
async def test_scenario_3_keys_land_on_the_vector_partitions(server):
    async with connect(server) as c:
        for count in (1, 4, 7, 16):
            log = unique(f"aconf-3-{count}")
            await c.create_log(log, partitions=count)
            for v in VECTORS["vectors"]:
                key = bytes.fromhex(v["key_hex"])
                md = await c.produce(log, b"x", key=key)
                assert md.partition == v["partitions"][str(count)], v
                back = await c.consume_from_partition(log, md.partition, md.offset, 1)
                assert back[0].key == key


@run
async def test_scenario_4_and_6_round_trip_and_stats(server):
    async with connect(server) as c:
        log = unique("aconf-4")
        await c.create_log(log, partitions=4)
        start = int(time.time() * 1000) - 1
        headers = [("source", b"web-app"), ("source", b"dup"), ("empty", b"")]
        async with c.producer() as p:
            deliveries = [
                await p.send(log, f"event-{i}", key=f"user-{i % 100}", headers=headers)
                for i in range(1000)
            ]
            deliveries.append(await p.send(log, b"\xff\x00\xfe", key=b"\x80\x81"))
            deliveries.append(await p.send(log, b"", key=b"empty-value"))
            deliveries.append(await p.send(log, b"no key"))
            metadata = [await d for d in deliveries]
        got = await read_all(c, log, 4)
        assert len(got) == 1003
        by_pos = {(r.partition, r.offset): r for r in got}
        for i, md in enumerate(metadata[:1000]):
            r = by_pos[(md.partition, md.offset)]
            assert (r.key, r.value) == (f"user-{i % 100}".encode(), f"event-{i}".encode())
            assert r.headers == headers and r.epoch >= 1
            assert start <= r.timestamp <= int(time.time() * 1000) + 1
        for p in range(4):
            offsets = [r.offset for r in got if r.partition == p]
            assert offsets == list(range(len(offsets)))
        stats = await c.get_log_stats(log)
        assert stats.record_count == 1003 and stats.size_bytes > 0


@run
async def test_scenario_5_offsets_start_exactly_where_asked(server):
    async with connect(server) as c:
        log = unique("aconf-5")
        await c.create_log(log, partitions=1)
        for i in range(10):
            await c.produce(log, f"v{i}")
        assert [r.offset for r in await c.consume_from_partition(log, 0, 7, 100)] == [7, 8, 9]
        assert await c.consume_from_partition(log, 0, pyralog.OFFSET_END, 100) == []
        await c.produce(log, b"new")
        assert [r.value for r in await c.consume_from_partition(log, 0, 10, 100)] == [b"new"]
        with pytest.raises(pyralog.OffsetOutOfRange):
            await c.consume_from_partition(log, 0, 12, 100)


@run
async def test_scenario_7_lifecycle(server):
    async with connect(server) as c:
        log = unique("aconf-7")
        await c.create_log(log, partitions=2)
        await c.pause_log(log)
        with pytest.raises(pyralog.LogPaused):
            await c.produce(log, b"x")
        assert await c.consume(log, 0, 10) == []
        await c.resume_log(log)
        await c.produce(log, b"x")
        config = (await c.get_log_metadata(log)).config
        config.retention_bytes = 1 << 30
        await c.update_log_config(log, config)
        assert (await c.get_log_metadata(log)).config.retention_bytes == 1 << 30
        await c.delete_log(log)
        with pytest.raises(pyralog.LogNotFound):
            await c.produce(log, b"x")
        with pytest.raises(pyralog.LogNotFound):
            await c.consume(log, 0, 10)
        await c.create_log(log, partitions=2)
        assert await c.consume(log, 0, 10) == []


@run
async def test_scenario_8_hundred_thousand_sends_resolve_and_read_back_once(server):
    async with connect(server) as c:
        log = unique("aconf-8")
        await c.create_log(log, partitions=4)
        count = 100_000
        async with c.producer() as p:
            deliveries = [
                await p.send(log, f"{i:0100d}".encode(), key=f"k{i % 1000}") for i in range(count)
            ]
            await p.flush()
            metadata = [await d for d in deliveries]
        assert len({(m.partition, m.offset) for m in metadata}) == count
        pairs = {(r.key, r.value) for r in await read_all(c, log, 4)}
        assert len(pairs) == count


async def until(condition, limit_s=30.0):
    deadline = time.monotonic() + limit_s
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert condition(), "condition not reached in time"


class Member:
    """A group member polling in its own task; the callbacks track what it owns."""

    def __init__(self, client, log, group):
        self.owned, self.delivered, self.events = set(), [], []
        self.consumer = client.consumer(group_id=group, session_timeout=6.0, heartbeat_interval=0.5)
        self.consumer.subscribe([log], on_assign=self.on_assign, on_revoke=self.on_revoke)
        self.task = asyncio.create_task(self.run())

    def on_assign(self, partitions):
        self.events.append("assign")
        self.owned |= {p.partition for p in partitions}

    def on_revoke(self, partitions):
        self.events.append("revoke")
        self.owned -= {p.partition for p in partitions}

    async def run(self):
        async for record in self.consumer:
            self.delivered.append((record.partition, record.offset))
            await self.consumer.commit()

    async def close(self):
        await self.consumer.close()
        await asyncio.wait_for(self.task, 10)


@run
async def test_scenario_9_two_members_split_then_one_owns_all(server):
    async with connect(server) as c:
        log, group = unique("aconf-9"), unique("ag9")
        await c.create_log(log, partitions=4)
        for i in range(100):
            await c.produce(log, f"v{i}", key=f"k{i}")
        a, b = Member(c, log, group), Member(c, log, group)
        await until(
            lambda: len(a.owned) == len(b.owned) == 2 and len(a.delivered + b.delivered) >= 100
        )
        assert not a.owned & b.owned and a.owned | b.owned == {0, 1, 2, 3}
        await b.close()
        await until(lambda: a.owned == {0, 1, 2, 3})
        delivered = a.delivered + b.delivered
        assert len(delivered) == len(set(delivered)) == 100
        await a.close()
        for i in range(100, 110):
            await c.produce(log, f"v{i}", key=f"k{i}")
        async with c.consumer(group_id=group) as late:
            late.subscribe([log])
            got = []
            deadline = time.monotonic() + 30
            while len(got) < 10 and time.monotonic() < deadline:
                got.extend(await late.poll(0.2))
        assert sorted(r.value for r in got) == sorted(f"v{i}".encode() for i in range(100, 110))


@run
async def test_scenario_10_commit_then_committed_and_resume_there(server):
    async with connect(server) as c:
        log, group = unique("aconf-10"), unique("ag10")
        await c.create_log(log, partitions=1)
        for i in range(20):
            await c.produce(log, f"v{i}")
        async with c.consumer(group_id=group, enable_auto_commit=False) as k:
            k.subscribe([log])
            while not k.assignment():
                await k.poll(0.2)
            await k.commit({(log, 0): 12})
            assert await k.committed() == {pyralog.LogPartition(log, 0): 12}
        async with c.consumer(group_id=group) as k:
            k.subscribe([log])
            records = []
            while len(records) < 8:
                records.extend(await k.poll(0.2))
        assert [r.offset for r in records] == list(range(12, 20))


@run
async def test_scenario_11_errors_and_empty_poll_timeout(server):
    async with connect(server) as c:
        with pytest.raises(pyralog.LogNotFound):
            await c.produce(unique("amissing"), b"x")
        log = unique("aconf-11")
        await c.create_log(log, partitions=1)
        with pytest.raises(pyralog.RecordTooLarge):
            await c.produce(log, b"x" * (2 * 1024 * 1024))
        assert await c.consume(log, 0, 10) == []
        async with c.consumer() as k:
            k.assign([(log, 0)])
            t = time.monotonic()
            assert await k.poll(0.5) == []
            assert 0.4 <= time.monotonic() - t < 3.0


@run
async def test_scenario_12_close_is_idempotent_and_later_calls_fail_closed(server):
    c = await connect(server)
    p = c.producer()
    await p.close()
    await p.close()
    with pytest.raises(pyralog.Closed):
        await p.send(unique("x"), b"x")
    await c.close()
    await c.close()
    with pytest.raises(pyralog.Closed):
        await c.list_logs()


@run
async def test_scenario_13_eight_tasks_share_one_client(server):
    async with connect(server) as c:
        log = unique("aconf-13")
        await c.create_log(log, partitions=4)
        async with c.producer() as p:

            async def work(t):
                ds = [await p.send(log, f"t{t}-{i}") for i in range(500)]
                return [await d for d in ds]

            results = await asyncio.gather(*(work(t) for t in range(8)))
        assert sum(len(r) for r in results) == 4000
        values = [r.value for r in await c.consume(log, 0, 100_000)]
        assert len(values) == len(set(values)) == 4000
