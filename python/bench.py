"""Python SDK benchmark: Pyralog side by side with nats-py (nats-server) and redis-py
(redis-server), in one run, on this machine.

    python python/bench.py [--records 1000000] [--size 100] [--rounds 3]

Starts every server itself (fresh data directories, loopback, free ports) and prints one
table of medians over the rounds: msgs/s and MB/s for produce and consume, and p50/p99 of
one-at-a-time request latency. Needs the release server binary
(`cargo build --release -p pyralog-server`), the extension built in release
(`cd python && maturin develop --release`), `pip install nats-py redis`, and the Debian
packages `nats-server` and `redis-server`; `--only pyralog` runs without the others.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

import pyralog

REPO = pathlib.Path(__file__).resolve().parents[1]
BATCH = 1000  # records per send_batch call / redis pipeline
LATENCY_SAMPLES = 2000
PARTITIONS = 4
CONSUME_POLL_S = 1.0
SERVER_START_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {SERVER_START_S} s")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Result:
    """One measurement: messages, bytes and seconds, or latency samples."""

    def __init__(
        self,
        count: int = 0,
        size: int = 0,
        seconds: float = 0.0,
        latencies: list[float] | None = None,
    ) -> None:
        self.rate = count / seconds if seconds else 0.0
        self.mbps = count * size / seconds / 1e6 if seconds else 0.0
        self.latencies = latencies or []


# -- Pyralog -------------------------------------------------------------------------------


class PyralogBench:
    name = "pyralog"
    durability = "fsync before ack (flush=always, group commit)"

    def __init__(self, server_bin: pathlib.Path) -> None:
        self.tmp = tempfile.mkdtemp(prefix="bench-pyralog-")
        port = free_port()
        self.proc = subprocess.Popen(
            [str(server_bin), "--data-dir", f"{self.tmp}/data", "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.proc.stdout.readline()
        self.client = pyralog.Client(f"127.0.0.1:{port}", ca_file=f"{self.tmp}/data/tls/ca.pem")
        self.round = 0

    def new_log(self) -> str:
        self.round += 1
        log = f"bench-{self.round}"
        self.client.create_log(log, partitions=PARTITIONS)
        return log

    def produce_batches(self, values: list[bytes]) -> tuple[str, Result]:
        log = self.new_log()
        t = time.perf_counter()
        with self.client.producer() as p:
            deliveries = [
                p.send_batch(log, values[i : i + BATCH]) for i in range(0, len(values), BATCH)
            ]
            p.flush()
        seconds = time.perf_counter() - t
        assert sum(len(d.result()) for d in deliveries) == len(values)
        return log, Result(len(values), len(values[0]), seconds)

    def produce_each(self, values: list[bytes]) -> Result:
        log = self.new_log()
        t = time.perf_counter()
        with self.client.producer() as p:
            send = p.send
            last = None
            for v in values:
                last = send(log, v)
            p.flush()
        seconds = time.perf_counter() - t
        assert last is not None and last.result().offset >= 0
        return Result(len(values), len(values[0]), seconds)

    def consume(self, log: str, count: int, size: int) -> Result:
        with self.client.consumer(max_poll_records=50_000) as c:
            c.assign([(log, p) for p in range(PARTITIONS)])
            t = time.perf_counter()
            seen = nbytes = 0
            while seen < count:
                records = c.poll(CONSUME_POLL_S)
                if not records:
                    raise RuntimeError(f"pyralog: only {seen} of {count} records came back")
                seen += len(records)
                nbytes += sum(len(r.value) for r in records)  # a reader touches every value
            assert nbytes == seen * size
            return Result(seen, size, time.perf_counter() - t)

    def latency(self, value: bytes) -> Result:
        log = self.new_log()
        samples = []
        for _ in range(LATENCY_SAMPLES):
            t = time.perf_counter()
            self.client.produce(log, value, partition=0)
            samples.append(time.perf_counter() - t)
        return Result(latencies=samples)

    def close(self) -> None:
        self.client.close()
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- NATS ----------------------------------------------------------------------------------


class NatsBench:
    name = "nats-py"
    durability = "none (core NATS, in memory, at most once)"

    def __init__(self) -> None:
        import nats  # noqa: F401  (fail early when missing)

        self.port = free_port()
        self.proc = subprocess.Popen(
            ["nats-server", "-a", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)
        self.loop = asyncio.new_event_loop()

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    async def _connect(self):
        import nats

        return await nats.connect(f"nats://127.0.0.1:{self.port}", pending_size=64 * 1024 * 1024)

    def produce_and_consume(self, values: list[bytes]) -> tuple[Result, Result]:
        """Publishes while a subscriber on its own connection counts: core NATS keeps
        nothing, so consuming means being subscribed while the messages fly."""

        async def main():
            sub_conn, pub_conn = await self._connect(), await self._connect()
            done = asyncio.get_running_loop().create_future()
            seen = nbytes = 0
            first = None

            async def on_msg(msg):
                nonlocal seen, first, nbytes
                if first is None:
                    first = time.perf_counter()
                seen += 1
                nbytes += len(msg.data)
                if seen == len(values) and not done.done():
                    done.set_result(time.perf_counter())

            await sub_conn.subscribe("bench", cb=on_msg, pending_msgs_limit=len(values) + 1)
            await sub_conn.flush()
            t = time.perf_counter()
            for v in values:
                await pub_conn.publish("bench", v)
            await pub_conn.flush()
            produced = time.perf_counter() - t
            try:
                end = await asyncio.wait_for(done, 120)
            except asyncio.TimeoutError:
                raise RuntimeError(f"nats: only {seen} of {len(values)} messages arrived") from None
            await pub_conn.close()
            await sub_conn.close()
            size = len(values[0])
            return Result(len(values), size, produced), Result(seen, size, end - t)

        return self.run(main())

    def latency(self, value: bytes) -> Result:
        async def main():
            conn = await self._connect()
            samples = []
            for _ in range(LATENCY_SAMPLES):
                t = time.perf_counter()
                await conn.publish("lat", value)
                await conn.flush()
                samples.append(time.perf_counter() - t)
            await conn.close()
            return Result(latencies=samples)

        return self.run(main())

    def close(self) -> None:
        self.loop.close()
        self.proc.kill()
        self.proc.wait()


# -- Redis ---------------------------------------------------------------------------------


class RedisBench:
    name = "redis-py"
    durability = "none (redis-server defaults: no appendonly fsync)"

    def __init__(self) -> None:
        import redis

        self.tmp = tempfile.mkdtemp(prefix="bench-redis-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.tmp,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)
        self.r = redis.Redis(host="127.0.0.1", port=self.port)
        self.round = 0

    def produce(self, values: list[bytes]) -> tuple[str, Result]:
        self.round += 1
        stream = f"bench-{self.round}"
        t = time.perf_counter()
        for i in range(0, len(values), BATCH):
            pipe = self.r.pipeline(transaction=False)
            for v in values[i : i + BATCH]:
                pipe.xadd(stream, {"v": v})
            pipe.execute()
        return stream, Result(len(values), len(values[0]), time.perf_counter() - t)

    def consume(self, stream: str, count: int, size: int) -> Result:
        t = time.perf_counter()
        seen, nbytes, last = 0, 0, "-"
        while seen < count:
            batch = self.r.xrange(stream, min=last, count=10 * BATCH)
            if last != "-":
                batch = batch[1:]
            if not batch:
                raise RuntimeError(f"redis: only {seen} of {count} entries came back")
            seen += len(batch)
            nbytes += sum(len(fields[b"v"]) for _, fields in batch)
            last = batch[-1][0]
        return Result(seen, size, time.perf_counter() - t)

    def latency(self, value: bytes) -> Result:
        samples = []
        for _ in range(LATENCY_SAMPLES):
            t = time.perf_counter()
            self.r.xadd("lat", {"v": value})
            samples.append(time.perf_counter() - t)
        return Result(latencies=samples)

    def close(self) -> None:
        self.r.close()
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- The run -------------------------------------------------------------------------------


def median_of(rounds: list[dict[str, Result]], key: str, pick: Callable[[Result], float]) -> float:
    values = [pick(r[key]) for r in rounds if key in r]
    return statistics.median(values) if values else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=100, help="value bytes")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=["pyralog", "nats", "redis"], action="append")
    ap.add_argument(
        "--server-bin",
        type=pathlib.Path,
        default=pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
        / "release"
        / "pyralog-server",
    )
    args = ap.parse_args()
    only = set(args.only or ["pyralog", "nats", "redis"])
    values = [os.urandom(args.size) for _ in range(min(args.records, 10_000))]
    values = (values * (args.records // len(values) + 1))[: args.records]

    systems = {}
    if "pyralog" in only:
        systems["pyralog"] = PyralogBench(args.server_bin)
    if "nats" in only:
        systems["nats"] = NatsBench()
    if "redis" in only:
        systems["redis"] = RedisBench()
    rounds: dict[str, list[dict[str, Result]]] = {k: [] for k in systems}
    try:
        for n in range(args.rounds):
            for key, s in systems.items():
                r: dict[str, Result] = {}
                if key == "pyralog":
                    log, r["produce_batch"] = s.produce_batches(values)
                    r["produce_each"] = s.produce_each(values)
                    r["consume"] = s.consume(log, len(values), args.size)
                elif key == "nats":
                    r["produce_each"], r["consume"] = s.produce_and_consume(values)
                else:
                    stream, r["produce_batch"] = s.produce(values)
                    r["consume"] = s.consume(stream, len(values), args.size)
                r["latency"] = s.latency(values[0])
                rounds[key].append(r)
                print(
                    f"round {n + 1}: {key} "
                    + ", ".join(f"{k} {v.rate:,.0f}/s" for k, v in r.items() if k != "latency"),
                    flush=True,
                )
    finally:
        for s in systems.values():
            s.close()

    print(
        f"\n{args.records:,} records of {args.size} B, median of {args.rounds} rounds; "
        f"Python {sys.version.split()[0]}"
    )
    header = (
        "system",
        "batch produce msgs/s",
        "per-record produce msgs/s",
        "consume msgs/s",
        "consume MB/s",
        "1-at-a-time p50 us",
        "p99 us",
        "durability",
    )
    print(" | ".join(header))
    for key, s in systems.items():
        rs = rounds[key]
        lat = [x for r in rs for x in r["latency"].latencies]
        print(
            " | ".join(
                [
                    s.name,
                    f"{median_of(rs, 'produce_batch', lambda r: r.rate):,.0f}"
                    if "produce_batch" in rs[0]
                    else "-",
                    f"{median_of(rs, 'produce_each', lambda r: r.rate):,.0f}"
                    if "produce_each" in rs[0]
                    else "-",
                    f"{median_of(rs, 'consume', lambda r: r.rate):,.0f}",
                    f"{median_of(rs, 'consume', lambda r: r.mbps):,.1f}",
                    f"{percentile(lat, 0.50) * 1e6:,.0f}",
                    f"{percentile(lat, 0.99) * 1e6:,.0f}",
                    s.durability,
                ]
            )
        )


if __name__ == "__main__":
    main()
