package io.pyralog.examples;

import io.pyralog.ClientConfig;
import io.pyralog.LogMetadata;
import io.pyralog.LogStats;
import io.pyralog.Producer;
import io.pyralog.PyralogClient;
import io.pyralog.Record;
import io.pyralog.RecordMetadata;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.IntStream;

/**
 * The complete log setup: create a log with 10 partitions, write 1,000 keyed events, read
 * 100 back, print the log's metadata and stats.
 *
 * <p>Run: {@code Quickstart [HOST:PORT] [CA_FILE]} against a running server.
 */
public final class Quickstart {
    private Quickstart() {}

    /**
     * @param args optional {@code HOST:PORT} (default 127.0.0.1:9092) and {@code CA_FILE}
     *     (default pyralog-data/tls/ca.pem)
     */
    public static void main(String[] args) {
        String addr = args.length > 0 ? args[0] : "127.0.0.1:9092";
        String caFile = args.length > 1 ? args[1] : "pyralog-data/tls/ca.pem";
        try {
            run(addr, caFile);
        } catch (CompletionException e) {
            fail(e.getCause() != null ? e.getCause() : e);
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private static void fail(Throwable e) {
        System.err.println("quickstart: " + e);
        System.exit(1);
    }

    private static void run(String addr, String caFile) {
        // readme:start
        PyralogClient client = PyralogClient.connect(addr, ClientConfig.builder().caFile(caFile).build());
        if (client.logExists("user_events")) {
            client.deleteLog("user_events");
        }
        client.createLog("user_events", 10);
        Producer producer = client.producer();
        List<CompletableFuture<RecordMetadata>> sent = IntStream.range(0, 1000)
            .mapToObj(i -> producer.send("user_events", Record.of("event-" + i).withKey("user-" + i % 100)))
            .toList();
        producer.flush();
        sent.forEach(CompletableFuture::join);
        List<Record> records = client.consume("user_events", 0, 100);
        // readme:end

        try (client; producer) {
            for (Record r : records.subList(0, Math.min(5, records.size()))) {
                System.out.printf("partition %d offset %d: %s = %s%n", r.partition(), r.offset(), utf8(r.key()),
                    utf8(r.value()));
            }
            System.out.println("read " + records.size() + " records back");

            LogMetadata md = client.getLogMetadata("user_events");
            System.out.println("log " + md.name() + ": " + md.partitionCount() + " partitions, state " + md.state());
            LogStats stats = client.getLogStats("user_events");
            System.out.println("stats: " + stats.recordCount() + " records, " + stats.sizeBytes() + " bytes");
        }
    }

    private static String utf8(byte[] bytes) {
        return bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
    }
}
