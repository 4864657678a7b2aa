package io.pyralog;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The Java SDK benchmark: 1,000,000 records of 100 B produced through the asynchronous
 * {@code send} (durable: the server's default flush=always), then consumed back; three
 * rounds after an unmeasured warm-up round of {@code WARMUP_RECORDS}, medians printed. Run it
 * with {@code scripts/bench-java.sh} (release builds).
 */
public final class Bench {
    static final int RECORDS = 1_000_000;
    static final int VALUE_BYTES = 100;
    static final int PARTITIONS = 4;
    static final int ROUNDS = 3;
    /** Records of the unmeasured first round that lets the JIT compile the paths. */
    static final int WARMUP_RECORDS = 200_000;

    private Bench() {}

    public static void main(String[] args) throws Exception {
        try (TestServer server = new TestServer(); PyralogClient client = server.client()) {
            double[] produce = new double[ROUNDS];
            double[] consume = new double[ROUNDS];
            String warmup = TestServer.unique("jbench-warmup");
            client.createLog(warmup, PARTITIONS);
            produce(client, warmup, WARMUP_RECORDS);
            consume(client, warmup, WARMUP_RECORDS);
            for (int round = 0; round < ROUNDS; round++) {
                String log = TestServer.unique("jbench");
                client.createLog(log, PARTITIONS);
                produce[round] = produce(client, log, RECORDS);
                consume[round] = consume(client, log, RECORDS);
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

    /** Sends {@code records} values of {@code VALUE_BYTES} without waiting on each; msgs/s until flushed. */
    static double produce(PyralogClient client, String log, int records) {
        byte[] value = new byte[VALUE_BYTES];
        long start = System.nanoTime();
        CompletableFuture<RecordMetadata> last = null;
        try (Producer p = client.producer()) {
            Record r = Record.of(value);
            for (int i = 0; i < records; i++) {
                last = p.send(log, r);
            }
            p.flush();
        }
        double rate = records / ((System.nanoTime() - start) / 1e9);
        last.join();
        return rate;
    }

    static double consume(PyralogClient client, String log, int records) {
        try (Consumer c = client.consumer(ConsumerConfig.builder().maxPollRecords(50_000).build())) {
            List<LogPartition> parts = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                parts.add(new LogPartition(log, p));
            }
            c.assign(parts);
            long start = System.nanoTime();
            long seen = 0;
            long bytes = 0;
            while (seen < records) {
                List<Record> recs = c.poll(Duration.ofSeconds(1));
                if (recs.isEmpty()) {
                    throw new IllegalStateException("only " + seen + " of " + records + " records came back");
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
