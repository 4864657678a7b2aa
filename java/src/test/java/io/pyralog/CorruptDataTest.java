package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pyralog.errors.CorruptDataException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A stored batch that cannot be decoded (flipped on disk while the server runs) lets readers
 * take every record before it, then throws {@code CorruptDataException} naming the batch;
 * seeking past its last offset reads on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CorruptDataTest extends ServerTest {
    /** Records produced one at a time (one batch each); the batch of {@link #BAD} is broken on disk. */
    static final int RECORDS = 6;
    static final int BAD = 3;
    /** The fixed batch header (protocol/src/batch.rs); the records section follows it. */
    static final int BATCH_HEADER_BYTES = 80;
    /** base_offset (u64) and batch_length (u32): the bytes before batch_length's coverage. */
    static final int LENGTH_PREFIX_BYTES = 12;
    static final Duration WAIT = Duration.ofSeconds(10);

    String log;

    static byte[] value(long i) {
        return ("value-" + i).getBytes(StandardCharsets.UTF_8);
    }

    /** The partition's first segment: {@code <data>/logs/<log>.<incarnation>/<p>/<base:020>.log}. */
    static Path segmentFile(String log, int partition) throws IOException {
        List<Path> dirs;
        try (Stream<Path> all = Files.list(server.dataDir().resolve("logs"))) {
            dirs = all.filter(d -> {
                String name = d.getFileName().toString();
                int dot = name.lastIndexOf('.');
                return dot > 0 && name.substring(0, dot).equals(log);
            }).toList();
        }
        assertEquals(1, dirs.size(), "one directory of " + log + ": " + dirs);
        return dirs.get(0).resolve(Integer.toString(partition)).resolve(String.format("%020d.log", 0));
    }

    /**
     * Flips one byte inside the records section of the {@code index}-th batch of the segment (its
     * checksum no longer holds).
     *
     * @return that batch's base offset
     */
    static long flipARecordByteOfBatch(Path path, int index) throws IOException {
        try (FileChannel f = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer prefix = ByteBuffer.allocate(LENGTH_PREFIX_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long at = 0;
            for (int i = 0; ; i++) {
                prefix.clear();
                f.read(prefix, at);
                long end = at + LENGTH_PREFIX_BYTES + Integer.toUnsignedLong(prefix.getInt(8));
                if (i < index) {
                    at = end;
                    continue;
                }
                assertTrue(at + BATCH_HEADER_BYTES < end, "the batch has a records section");
                long target = (at + BATCH_HEADER_BYTES + end) / 2;
                ByteBuffer b = ByteBuffer.allocate(1);
                f.read(b, target);
                f.write(ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ 0xff)}), target);
                return prefix.getLong(0);
            }
        }
    }

    /** A 1-partition log of one-record batches whose batch at {@link #BAD} fails its checksum on disk. */
    @BeforeEach
    void corruptLog() throws IOException {
        log = unique("jcorrupt");
        client.createLog(log, 1);
        for (int i = 0; i < RECORDS; i++) {
            assertEquals(i, client.produce(log, Record.of(value(i)).withPartition(0)).offset());
        }
        assertEquals(BAD, flipARecordByteOfBatch(segmentFile(log, 0), BAD));
    }

    static List<Long> offsets(List<Record> records) {
        return records.stream().map(Record::offset).toList();
    }

    /** Fails unless {@code e} names the batch at {@link #BAD}; returns where it lies. */
    BatchLocation assertNamesTheBadBatch(CorruptDataException e) {
        BatchLocation at = e.corruptBatch().orElseThrow(() -> new AssertionError("names no batch", e));
        assertEquals(new BatchLocation(log, 0, BAD, BAD), at);
        assertEquals(CorruptDataException.CODE, e.code());
        assertTrue(e.getMessage().contains("seek the partition to " + (BAD + 1)), e.getMessage());
        return at;
    }

    @Test
    void consumeFromPartitionReturnsTheRecordsBeforeACorruptBatchAndThrowsAtIt() {
        List<Record> got = client.consumeFromPartition(log, 0, 0, 10);
        assertEquals(List.of(0L, 1L, 2L), offsets(got));
        for (Record r : got) {
            assertEquals("value-" + r.offset(), new String(r.value(), StandardCharsets.UTF_8));
        }

        CorruptDataException e = assertThrows(CorruptDataException.class, () -> client.consumeFromPartition(log, 0, BAD, 10));
        BatchLocation at = assertNamesTheBadBatch(e);
        assertEquals(List.of(4L, 5L), offsets(client.consumeFromPartition(log, at.partition(), at.lastOffset() + 1, 10)));
    }

    /** The exception a poll throws within {@link #WAIT}; no poll returns records before it. */
    static CorruptDataException pollUntilCorruptData(Consumer c) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                List<Record> records = c.poll(Duration.ofMillis(200));
                assertEquals(List.of(), offsets(records), "nothing past the corrupt batch before a seek");
            } catch (CorruptDataException e) {
                return e;
            }
        }
        return fail("no CorruptDataException within " + WAIT);
    }

    /** Polls until {@code n} records came, within {@link #WAIT}. */
    static List<Record> pollRecords(Consumer c, int n) {
        List<Record> got = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (got.size() < n) {
            assertTrue(System.nanoTime() < deadline, got.size() + " of " + n + " records within " + WAIT);
            got.addAll(c.poll(Duration.ofMillis(200)));
        }
        return got;
    }

    @Test
    void consumerDeliversTheRecordsBeforeACorruptBatchThenThrowsUntilSeek() {
        try (Consumer c = client.consumer(ConsumerConfig.builder().build())) {
            LogPartition lp = new LogPartition(log, 0);
            c.assign(List.of(lp));
            c.seek(lp, 0);
            assertEquals(List.of(0L, 1L, 2L), offsets(pollRecords(c, BAD)));

            BatchLocation at = assertNamesTheBadBatch(pollUntilCorruptData(c));
            // Thrown again on the next polls, until the partition is moved past the batch.
            assertNamesTheBadBatch(pollUntilCorruptData(c));

            c.seek(at.logPartition(), at.lastOffset() + 1);
            List<Record> after = pollRecords(c, RECORDS - BAD - 1);
            assertEquals(List.of(4L, 5L), offsets(after));
            assertEquals("value-4", new String(after.get(0).value(), StandardCharsets.UTF_8));
        }
    }
}
