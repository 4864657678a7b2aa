"""The Python program of the interop test: `produce`, `dump` and `member` as
tests/interop/README.md defines them. It only moves records between the text
format and the SDK; the driver makes every check."""

from __future__ import annotations

import os
import sys
import time

from pyralog import Client, PyralogError, RebalanceInProgress

DUMP_READ_MAX = 1000  # records one dump read asks for
MEMBER_POLL_S = 0.2
MEMBER_GIVE_UP_S = 180
DELIVERY_TIMEOUT_S = 60


def unhex_field(field: str) -> bytes | None:
    return None if field == "-" else bytes.fromhex(field)


def parse_headers(field: str) -> list[tuple[str, bytes]]:
    if field == "-":
        return []
    pairs = (pair.split("=", 1) for pair in field.split(","))
    return [(bytes.fromhex(name).decode(), bytes.fromhex(value)) for name, value in pairs]


def format_headers(headers: list[tuple[str, bytes]]) -> str:
    if not headers:
        return "-"
    return ",".join(f"{name.encode().hex()}={value.hex()}" for name, value in headers)


def produce(server: str, ca: str, log: str, input_path: str, output_path: str) -> int:
    with open(input_path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    with Client(server.split(","), ca_file=ca) as client, client.producer(acks="all") as producer:
        deliveries = [
            producer.send(
                log,
                bytes.fromhex(value),
                key=unhex_field(key),
                headers=parse_headers(headers),
                partition=None if partition == "-" else int(partition),
            )
            for partition, key, value, headers in rows
        ]
        producer.flush()
        with open(output_path, "w", encoding="utf-8") as out:
            for delivery in deliveries:
                md = delivery.result(timeout=DELIVERY_TIMEOUT_S)
                out.write(f"{md.partition}\t{md.offset}\n")
    return 0


def dump(server: str, ca: str, log: str, output_path: str) -> int:
    with Client(server.split(","), ca_file=ca) as client, open(
        output_path, "w", encoding="utf-8"
    ) as out:
        for p in range(client.get_log_metadata(log).partition_count):
            offset = 0
            while records := client.consume_from_partition(log, p, offset, DUMP_READ_MAX):
                for r in records:
                    key = "-" if r.key is None else r.key.hex()
                    fields = (r.partition, r.offset, r.epoch, r.timestamp, key, r.value.hex())
                    out.write("\t".join(map(str, fields)) + f"\t{format_headers(r.headers)}\n")
                offset = records[-1].offset + 1
    return 0


def member(server: str, ca: str, log: str, group: str, stop: str, output_path: str) -> int:
    assignment: set[int] = set()

    def changed(partitions, add: bool) -> None:
        for lp in partitions:
            (assignment.add if add else assignment.discard)(lp.partition)
        shown = ",".join(map(str, sorted(assignment))) or "-"
        print(f"assignment {shown}", flush=True)

    started = time.monotonic()
    with Client(server.split(","), ca_file=ca) as client, open(
        output_path, "w", encoding="utf-8"
    ) as out:
        consumer = client.consumer(group_id=group)
        consumer.subscribe(
            [log],
            on_assign=lambda ps: changed(ps, True),
            on_revoke=lambda ps: changed(ps, False),
            on_lost=lambda ps: changed(ps, False),
        )
        while not os.path.exists(stop):
            if time.monotonic() - started > MEMBER_GIVE_UP_S:
                print(f"no stop file after {MEMBER_GIVE_UP_S} s", file=sys.stderr)
                return 2
            records = consumer.poll(MEMBER_POLL_S)
            out.writelines(f"{r.partition}\t{r.offset}\t{r.value.hex()}\n" for r in records)
            out.flush()
            if records:
                commit(consumer)
        commit(consumer)
        consumer.close()
    print("closed", flush=True)
    return 0


def commit(consumer) -> None:
    """Commits the positions; `RebalanceInProgress` is no failure: the member rejoins
    on its next poll and commits again then."""
    try:
        consumer.commit()
    except RebalanceInProgress:
        pass


COMMANDS = {"produce": (produce, 5), "dump": (dump, 4), "member": (member, 6)}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS or len(argv) - 1 != COMMANDS[argv[0]][1]:
        print(
            "usage: interop.py produce|dump|member ... (tests/interop/README.md)", file=sys.stderr
        )
        return 1
    command, _ = COMMANDS[argv[0]]
    try:
        return command(*argv[1:])
    except (PyralogError, OSError, ValueError) as e:  # one line on stderr, exit 1
        print(f"interop.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
