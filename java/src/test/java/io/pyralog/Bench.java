package io.pyralog;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Java SDK benchmark: 1,000,000 records of 100 B produced through the asynchronous
 * {@code send} (durable: the server's default flush=always), then consumed back; three
 * rounds, medians printed. Run it with {@code scripts/bench-java.sh} (release builds).
 */
public final class Bench {
    static final int RECORDS = 1_000_000;
    static final int VALUE_BYTES = 100;
    static final int PARTITIONS = 4;
    static final int ROUNDS = 3;

    private Bench() {}

    public static void main(String[] args) throws Exception {
        try (TestServer server = new TestServer(); PyralogClient client = server.client()) {
            double[] produce = new double[ROUNDS];
            double[] consume = new double[ROUNDS];
            byte[] value = new byte[VALUE_BYTES];
            for (int round = 0; round < ROUNDS; round++) {
                String log = TestServer.unique("jbench");
                client.createLog(log, PARTITIONS);
                long start = System.nanoTime();
                CompletableFuture<RecordMetadata> last = null;
                try (Producer p = client.producer()) {
                    Record r = Record.of(value);
                    for (int i = 0; i < RECORDS; i++) {
                        last = p.send(log, r);
                    }
                    p.flush();
                }
                produce[round] = RECORDS / ((System.nanoTime() - start) / 1e9);
                last.join();
                consume[round] = consume(client, log);
                System.out.printf("round %d: produce %,.0f msgs/s, consume %,.0f msgs/s%n", round + 1, produce[round],
                    consume[round]);
            }
            System.out.printf("%n%,d records of %d B, %d partitions, median of %d rounds (Java %s)%n", RECORDS,
                VALUE_BYTES, PARTITIONS, ROUNDS, System.getProperty("java.version"));
            System.out.printf("produce (async send, durable): %,.0f msgs/s, %.1f MB/s%n", median(produce),
                median(produce) * VALUE_BYTES / 1e6);
            System.out.printf("consume (poll, every value touched): %,.0f msgs/s, %.1f MB/s%n", median(consume),
                median(consume) * VALUE_BYTES / 1e6);
        }
    }

    static double consume(PyralogClient client, String log) {
        try (Consumer c = client.consumer(ConsumerConfig.builder().maxPollRecords(50_000).build())) {
            List<LogPartition> parts = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                parts.add(new LogPartition(log, p));
            }
            c.assign(parts);
            long start = System.nanoTime();
            long seen = 0;
            long bytes = 0;
            while (seen < RECORDS) {
                List<Record> recs = c.poll(Duration.ofSeconds(1));
                if (recs.isEmpty()) {
                    throw new IllegalStateException("only " + seen + " of " + RECORDS + " records came back");
                }
                for (Record r : recs) {
                    bytes += r.value().length;
                }
                seen += recs.size();
            }
            if (bytes != seen * VALUE_BYTES) {
                throw new IllegalStateException("read " + bytes + " bytes for " + seen + " records");
            }
            return seen / ((System.nanoTime() - start) / 1e9);
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
