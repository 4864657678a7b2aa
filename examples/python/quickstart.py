"""The complete log setup: create a log with 10 partitions, write 1,000 keyed
events, read 100 back, print the log's metadata and stats.

Run: python examples/python/quickstart.py [HOST:PORT] [CA_FILE]
"""

import sys

from pyralog import Client

addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092"
ca_file = sys.argv[2] if len(sys.argv) > 2 else "pyralog-data/tls/ca.pem"

# readme:start
with Client(addr, ca_file=ca_file) as client:
    if client.log_exists("user_events"):
        client.delete_log("user_events")  # a re-run starts empty
    client.create_log("user_events", partitions=10)
    with client.producer() as producer:  # batching, idempotent
        deliveries = [
            producer.send("user_events", f"event-{i}", key=f"user-{i % 100}") for i in range(1000)
        ]
        for delivery in deliveries:
            delivery.result(timeout=30)  # acknowledged: written and durable
    records = client.consume("user_events", offset=0, max_records=100)
    # readme:end

    for r in records[:5]:
        print(f"partition {r.partition} offset {r.offset}: {r.key.decode()} = {r.value.decode()}")
    print(f"read {len(records)} records back")
    md = client.get_log_metadata("user_events")
    print(f"log {md.name}: {md.partition_count} partitions, state {md.state}")
    stats = client.get_log_stats("user_events")
    print(f"stats: {stats.record_count} records, {stats.size_bytes} bytes")
