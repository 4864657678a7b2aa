package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyralog.errors.ClosedException;
import io.pyralog.errors.ConnectionFailedException;
import io.pyralog.errors.InvalidLogIdException;
import io.pyralog.errors.LogAlreadyExistsException;
import io.pyralog.errors.LogNotFoundException;
import io.pyralog.errors.LogPausedException;
import io.pyralog.errors.OffsetOutOfRangeException;
import io.pyralog.errors.RecordTooLargeException;
import io.pyralog.errors.TlsErrorException;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The conformance scenarios of spec/conformance.md against the real server. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConformanceTest extends ServerTest {
    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void scenario1ConnectAndTypedConnectionErrorsWithin10s() throws Exception {
        long start = System.nanoTime();
        try (TestServer other = new TestServer()) {
            assertThrows(TlsErrorException.class,
                () -> PyralogClient.connect(server.addr, ClientConfig.builder().caFile(other.caFile).build()));
        }
        String dead;
        try (DatagramSocket s = new DatagramSocket(0)) {
            dead = "127.0.0.1:" + s.getLocalPort();
        }
        ConnectionFailedException e = assertThrows(ConnectionFailedException.class, () -> PyralogClient.connect(dead,
            ClientConfig.builder().caFile(server.caFile).connectTimeout(Duration.ofSeconds(2)).build()));
        assertEquals(900, e.code());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
    }

    @Test
    void scenario2LogAdminAndInvalidNames() {
        String name = unique("jconf-2");
        assertEquals(4, client.createLog(name, 4).partitionCount());
        assertTrue(client.logExists(name));
        assertTrue(client.listLogs().stream().anyMatch(m -> m.name().equals(name) && m.partitionCount() == 4));
        assertEquals(List.of(0, 1, 2, 3),
            client.getLogMetadata(name).partitions().stream().map(PartitionMetadata::partition).toList());
        for (PartitionMetadata p : client.getLogMetadata(name).partitions()) {
            assertEquals(List.of(p.leader()), p.replicas(), "one node holds each partition");
            assertEquals(List.of(p.leader()), p.isr(), "and is its ISR");
        }
        assertThrows(LogAlreadyExistsException.class, () -> client.createLog(name, 4));
        for (String bad : List.of("user/events", "events@prod", "a b", "", "a".repeat(250))) {
            assertEquals(202, assertThrows(InvalidLogIdException.class, () -> client.createLog(bad, 1)).code());
        }
    }

    @Test
    void scenario3KeysLandOnTheVectorPartitions() throws Exception {
        String json = Files.readString(Path.of(System.getProperty("pyralog.vectors")));
        Matcher m = Pattern.compile("\"key_hex\"\\s*:\\s*\"([0-9a-f]*)\"[^{]*?\"partitions\"\\s*:\\s*\\{([^}]*)\\}")
            .matcher(json);
        List<String[]> vectors = new ArrayList<>();
        while (m.find()) {
            vectors.add(new String[] {m.group(1), m.group(2)});
        }
        assertFalse(vectors.isEmpty());
        for (int count : new int[] {1, 4, 7, 16}) {
            String log = unique("jconf-3-" + count);
            client.createLog(log, count);
            for (String[] v : vectors) {
                byte[] key = java.util.HexFormat.of().parseHex(v[0]);
                Matcher p = Pattern.compile("\"" + count + "\"\\s*:\\s*(\\d+)").matcher(v[1]);
                assertTrue(p.find());
                RecordMetadata md = client.produce(log, Record.of("x").withKey(key));
                assertEquals(Integer.parseInt(p.group(1)), md.partition(), v[0]);
                assertArrayEquals(key, client.consumeFromPartition(log, md.partition(), md.offset(), 1).get(0).key());
            }
        }
    }

    @Test
    void scenario4And6RoundTripKeepsEveryFieldAndStats() {
        String log = unique("jconf-4");
        client.createLog(log, 4);
        long start = System.currentTimeMillis() - 1;
        Map<String, Integer> sent = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            Record r = Record.of("event-" + i).withKey("user-" + (i % 100)).withHeader("source", utf8("web-app"))
                .withHeader("source", utf8("dup")).withHeader("empty", new byte[0]);
            RecordMetadata md = client.produce(log, r);
            sent.put(md.partition() + "/" + md.offset(), i);
        }
        client.produce(log, Record.of(new byte[] {(byte) 0xff, 0, (byte) 0xfe}).withKey(new byte[] {(byte) 0x80, (byte) 0x81}));
        client.produce(log, Record.of(new byte[0]).withKey("empty-value"));
        client.produce(log, Record.of("no key"));
        List<Record> all = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            List<Record> part = client.consumeFromPartition(log, p, 0, 10_000);
            for (int i = 0; i < part.size(); i++) {
                assertEquals(i, part.get(i).offset());
            }
            all.addAll(part);
        }
        assertEquals(1003, all.size());
        List<Header> headers = List.of(new Header("source", utf8("web-app")), new Header("source", utf8("dup")),
            new Header("empty", new byte[0]));
        for (Record r : all) {
            assertTrue(r.epoch() >= 1 && r.timestamp() >= start && r.timestamp() <= System.currentTimeMillis() + 1);
            Integer i = sent.get(r.partition() + "/" + r.offset());
            if (i != null) {
                assertArrayEquals(utf8("user-" + (i % 100)), r.key());
                assertArrayEquals(utf8("event-" + i), r.value());
                assertEquals(headers, r.headers());
            }
        }
        assertTrue(all.stream().anyMatch(r -> r.value().length == 3 && r.value()[0] == (byte) 0xff));
        assertTrue(all.stream().anyMatch(r -> r.value().length == 0));
        assertTrue(all.stream().anyMatch(r -> r.key() == null));
        LogStats stats = client.getLogStats(log);
        assertEquals(1003, stats.recordCount());
        assertTrue(stats.sizeBytes() > 0);
    }

    @Test
    void scenario5OffsetsStartExactlyWhereAsked() {
        String log = unique("jconf-5");
        client.createLog(log, 1);
        for (int i = 0; i < 10; i++) {
            client.produce(log, Record.of("v" + i).withPartition(0));
        }
        assertEquals(List.of(7L, 8L, 9L), client.consumeFromPartition(log, 0, 7, 100).stream().map(Record::offset).toList());
        assertTrue(client.consumeFromPartition(log, 0, PyralogClient.OFFSET_END, 100).isEmpty());
        RecordMetadata md = client.produce(log, Record.of("new").withPartition(0));
        List<Record> fresh = client.consumeFromPartition(log, 0, md.offset(), 100);
        assertEquals(1, fresh.size());
        assertArrayEquals(utf8("new"), fresh.get(0).value());
        assertThrows(OffsetOutOfRangeException.class, () -> client.consumeFromPartition(log, 0, 12, 100));
    }

    @Test
    void scenario7LifecyclePauseResumeRetentionDeleteRecreate() {
        String log = unique("jconf-7");
        client.createLog(log, 2);
        assertEquals(LogState.PAUSED, client.pauseLog(log).state());
        assertThrows(LogPausedException.class, () -> client.produce(log, Record.of("x")));
        client.consume(log, 0, 10);
        client.resumeLog(log);
        client.produce(log, Record.of("x"));
        LogConfig cfg = client.getLogMetadata(log).config().toBuilder().retentionMs(3_600_000).build();
        client.updateLogConfig(log, cfg);
        assertEquals(3_600_000, client.getLogMetadata(log).config().retentionMs());
        client.deleteLog(log);
        assertThrows(LogNotFoundException.class, () -> client.produce(log, Record.of("x")));
        assertThrows(LogNotFoundException.class, () -> client.consume(log, 0, 10));
        client.createLog(log, 2);
        assertTrue(client.consume(log, 0, 10).isEmpty());
    }

    @Test
    void scenario8HundredThousandSendsResolveAndReadBackOnce() {
        String log = unique("jconf-8");
        client.createLog(log, 4);
        int count = 100_000;
        List<CompletableFuture<RecordMetadata>> futures = new ArrayList<>(count);
        try (Producer p = client.producer()) {
            for (int i = 0; i < count; i++) {
                futures.add(p.send(log, Record.of(String.format("%0100d", i)).withKey("k" + (i % 1000))));
            }
            p.flush();
        }
        Set<String> positions = new HashSet<>();
        for (CompletableFuture<RecordMetadata> f : futures) {
            RecordMetadata md = f.join();
            positions.add(md.partition() + "/" + md.offset());
        }
        assertEquals(count, positions.size());
        Set<String> pairs = new HashSet<>();
        for (int p = 0; p < 4; p++) {
            long offset = 0;
            List<Record> batch;
            while (!(batch = client.consumeFromPartition(log, p, offset, 20_000)).isEmpty()) {
                for (Record r : batch) {
                    pairs.add(new String(r.key(), StandardCharsets.UTF_8) + "/" + new String(r.value(), StandardCharsets.UTF_8));
                }
                offset = batch.get(batch.size() - 1).offset() + 1;
            }
        }
        assertEquals(count, pairs.size());
    }

    @Test
    void scenario11ErrorsAndEmptyPollTimeout() {
        assertThrows(LogNotFoundException.class, () -> client.produce(unique("jmissing"), Record.of("x")));
        String log = unique("jconf-11");
        client.createLog(log, 1);
        assertThrows(RecordTooLargeException.class, () -> client.produce(log, Record.of(new byte[2 << 20])));
        assertTrue(client.consume(log, 0, 10).isEmpty());
        try (Consumer c = client.consumer(ConsumerConfig.builder().build())) {
            c.assign(List.of(new LogPartition(log, 0)));
            long t = System.nanoTime();
            assertTrue(c.poll(Duration.ofMillis(500)).isEmpty());
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
            assertTrue(ms >= 400 && ms < 3000, "empty poll took " + ms + " ms");
        }
    }

    @Test
    void scenario12CloseIsIdempotentAndLaterCallsFailClearly() {
        PyralogClient c = server.client();
        Producer p = c.producer();
        Consumer k = c.consumer(ConsumerConfig.builder().build());
        p.close();
        p.close();
        assertThrows(ClosedException.class, () -> p.send("x", Record.of("x")));
        k.close();
        k.close();
        assertThrows(ClosedException.class, () -> k.poll(Duration.ofMillis(1)));
        c.close();
        c.close();
        assertInstanceOf(PyralogException.class, assertThrows(ClosedException.class, c::listLogs));
    }

    @Test
    void scenario13EightThreadsShareOneClient() throws Exception {
        String log = unique("jconf-13");
        client.createLog(log, 4);
        List<CompletableFuture<RecordMetadata>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Producer p = client.producer()) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    for (int i = 0; i < 500; i++) {
                        futures.add(p.send(log, Record.of("t" + id + "-" + i)));
                    }
                });
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
        }
        futures.forEach(CompletableFuture::join);
        List<Record> back = client.consume(log, 0, 100_000);
        assertEquals(4000, back.size());
        assertEquals(4000, back.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).distinct().count());
    }
}
