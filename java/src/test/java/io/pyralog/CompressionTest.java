package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyralog.errors.InvalidArgumentException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Producer compression: every codec round-trips; an unknown level is refused. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CompressionTest extends ServerTest {
    static final int RECORDS = 500;

    static byte[] key(int i) {
        return ("user-" + i % 17).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] value(int i) {
        return ("{\"id\":" + i + ",\"kind\":\"click\",\"page\":\"/items/" + i % 40 + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    }

    /** Sends the sample records to a fresh 1-partition log; returns the log. */
    static String produce(ProducerConfig config) {
        String log = unique("jcompression");
        client.createLog(log, 1);
        try (Producer p = client.producer(config)) {
            List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
            for (int i = 0; i < RECORDS; i++) {
                sent.add(p.send(log, Record.of(value(i)).withKey(key(i))));
            }
            p.flush();
            for (int i = 0; i < RECORDS; i++) {
                assertEquals(i, sent.get(i).join().offset());
            }
        }
        return log;
    }

    static Stream<Arguments> codecs() {
        return Stream.of(
            Arguments.of("snappy", ProducerConfig.builder().compression(Compression.SNAPPY)),
            Arguments.of("lz4", ProducerConfig.builder().compression(Compression.LZ4)),
            Arguments.of("zstd", ProducerConfig.builder().compression(Compression.ZSTD)),
            Arguments.of("zstd level 9", ProducerConfig.builder().compression(Compression.ZSTD).compressionLevel(9)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("codecs")
    void compressedRecordsReadBackIdenticalAndInOrder(String name, ProducerConfig.Builder config) {
        String log = produce(config.linger(Duration.ofMillis(10)).build());
        List<Record> got = new ArrayList<>();
        while (got.size() < RECORDS) {
            List<Record> more = client.consumeFromPartition(log, 0, got.size(), RECORDS);
            assertFalse(more.isEmpty(), "read " + got.size() + " of " + RECORDS);
            got.addAll(more);
        }
        for (int i = 0; i < RECORDS; i++) {
            Record r = got.get(i);
            assertEquals(i, r.offset(), name);
            assertArrayEquals(key(i), r.key(), name);
            assertArrayEquals(value(i), r.value(), name);
        }
        long stored = client.getLogStats(log).sizeBytes();
        long plain = client.getLogStats(produce(ProducerConfig.builder().linger(Duration.ofMillis(10)).build()))
            .sizeBytes();
        assertTrue(stored * 2 < plain, name + ": " + stored + " bytes stored, " + plain + " uncompressed");
    }

    static Stream<Arguments> refused() {
        return Stream.of(
            Arguments.of("lz4 level 1", ProducerConfig.builder().compression(Compression.LZ4).compressionLevel(1)),
            Arguments.of("zstd level 23", ProducerConfig.builder().compression(Compression.ZSTD).compressionLevel(23)),
            Arguments.of("zstd level -1", ProducerConfig.builder().compression(Compression.ZSTD).compressionLevel(-1)),
            Arguments.of("level without codec", ProducerConfig.builder().compressionLevel(9)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void aLevelTheCodecDoesNotTakeIsInvalidArgument(String name, ProducerConfig.Builder config) {
        InvalidArgumentException e =
            assertThrows(InvalidArgumentException.class, () -> client.producer(config.build()).close(), name);
        assertTrue(e.getMessage().contains("level"), e.getMessage());
    }
}
