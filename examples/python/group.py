"""A consumer group: two members split a 4-partition log and commit what they
read; the group's committed offsets are printed at the end.

Run: python examples/python/group.py [HOST:PORT] [CA_FILE]
"""

import sys
import threading
import time

from pyralog import Client, PyralogError

LOG = "orders"
PARTITIONS = 4
RECORDS = 200
PHASE_TIMEOUT_S = 30  # longest each phase (splitting, reading everything) may take
POLL_S = 0.2


class Member(threading.Thread):
    """A consumer polling on its own thread (a rebalance waits for every member to
    rejoin, so the members poll at the same time), committing after each poll."""

    def __init__(self, client: Client, group: str, name: str) -> None:
        super().__init__(name=f"member-{name}")
        self.consumer = client.consumer(group_id=group)
        self.member = name
        self.partitions: set[int] = set()
        self.records: list[tuple[int, int]] = []
        self.stopping = threading.Event()
        self.error: PyralogError | None = None
        self.consumer.subscribe([LOG], on_assign=self.assigned, on_revoke=self.revoked)

    def assigned(self, partitions) -> None:
        print(f"member {self.member} assigned {sorted(p.partition for p in partitions)}")
        self.partitions |= {p.partition for p in partitions}

    def revoked(self, partitions) -> None:
        print(f"member {self.member} revoked {sorted(p.partition for p in partitions)}")
        self.partitions -= {p.partition for p in partitions}

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                batch = self.consumer.poll(POLL_S)
                if batch:
                    self.records += [(r.partition, r.offset) for r in batch]
                    self.consumer.commit()
        except PyralogError as e:  # reported by wait_for
            self.error = e


def wait_for(what: str, done, members) -> None:
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while not done():
        for m in members:
            if m.error is not None:
                raise RuntimeError(f"member {m.member} failed") from m.error
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {PHASE_TIMEOUT_S} s waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092"
    ca_file = sys.argv[2] if len(sys.argv) > 2 else "pyralog-data/tls/ca.pem"
    with Client(addr, ca_file=ca_file) as client:
        if client.log_exists(LOG):
            client.delete_log(LOG)
        client.create_log(LOG, partitions=PARTITIONS)
        group = f"billing-{int(time.time() * 1000)}"  # a re-run starts with nothing committed
        members = [Member(client, group, "a"), Member(client, group, "b")]
        for m in members:
            m.start()
        try:
            wait_for(
                "each member to own 2 partitions",
                lambda: all(len(m.partitions) == 2 for m in members),
                members,
            )
            with client.producer() as producer:
                producer.send_batch(
                    LOG, [(f"customer-{i % 20}", f"order-{i}") for i in range(RECORDS)]
                ).result(timeout=30)
            wait_for(
                "every record to arrive",
                lambda: sum(len(m.records) for m in members) >= RECORDS,
                members,
            )
        finally:
            for m in members:
                m.stopping.set()
                m.join(timeout=PHASE_TIMEOUT_S)

        for m in members:
            print(
                f"member {m.member} read {len(m.records)} records from partitions {sorted(m.partitions)}"
            )
        a, b = members
        delivered = a.records + b.records
        if a.partitions & b.partitions or len(a.partitions | b.partitions) != PARTITIONS:
            sys.exit(f"the members did not split the partitions: {a.partitions} {b.partitions}")
        if len(delivered) != RECORDS or len(set(delivered)) != RECORDS:
            sys.exit(
                f"{len(delivered)} deliveries of {len(set(delivered))} records, want {RECORDS}"
            )
        for lp, offset in sorted(
            a.consumer.committed([(LOG, p) for p in range(PARTITIONS)]).items()
        ):
            print(f"committed {lp.log}/{lp.partition}: {offset}")
        for m in members:
            m.consumer.close()


if __name__ == "__main__":
    main()
