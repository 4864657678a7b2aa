package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Keyed records land on the partition Kafka's own Java client would choose: the partition the
 * server acknowledges for each key equals {@code Utils.toPositive(Utils.murmur2(key)) % n} of
 * {@code org.apache.kafka:kafka-clients}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class KafkaPlacementTest extends ServerTest {
    private static final int KEYS = 10_000;
    private static final int MAX_KEY_BYTES = 64;
    private static final int[] PARTITION_COUNTS = {1, 3, 4, 10, 12, 64};
    private static final long SEED = 0x5eed_2026_1203L;

    static int kafkaPartition(byte[] key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key)) % partitions;
    }

    /** Half random bytes, half printable ASCII, lengths 0 to 64. */
    static List<byte[]> randomKeys() {
        Random random = new Random(SEED);
        List<byte[]> keys = new ArrayList<>(KEYS);
        for (int i = 0; i < KEYS; i++) {
            byte[] key = new byte[random.nextInt(MAX_KEY_BYTES + 1)];
            if (i % 2 == 0) {
                random.nextBytes(key);
            } else {
                for (int j = 0; j < key.length; j++) {
                    key[j] = (byte) (' ' + random.nextInt('~' - ' ' + 1));
                }
            }
            keys.add(key);
        }
        return keys;
    }

    @Test
    void everyRandomKeyLandsWhereKafkasClientPutsIt() {
        List<byte[]> keys = randomKeys();
        try (Producer producer = client.producer()) {
            for (int partitions : PARTITION_COUNTS) {
                String log = unique("jkafka-" + partitions);
                client.createLog(log, partitions);
                List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>(KEYS);
                for (byte[] key : keys) {
                    sent.add(producer.send(log, Record.of("v").withKey(key)));
                }
                producer.flush();
                int mismatches = 0;
                String first = null;
                for (int i = 0; i < KEYS; i++) {
                    int ours = sent.get(i).join().partition();
                    int kafkas = kafkaPartition(keys.get(i), partitions);
                    if (ours != kafkas) {
                        mismatches++;
                        first = first != null ? first
                            : HexFormat.of().formatHex(keys.get(i)) + ": ours " + ours + ", Kafka's " + kafkas;
                    }
                }
                assertEquals(0, mismatches, partitions + " partitions; first mismatch " + first);
            }
        }
    }

    @Test
    void theSharedVectorsAreKafkasValues() throws Exception {
        String json = Files.readString(Path.of(System.getProperty("pyralog.vectors")));
        Matcher m = Pattern.compile(
            "\"key_hex\"\\s*:\\s*\"([0-9a-f]*)\"[^{]*?\"murmur2_signed\"\\s*:\\s*(-?\\d+)[^{]*?\"partitions\"\\s*:\\s*\\{([^}]*)\\}")
            .matcher(json);
        int vectors = 0;
        while (m.find()) {
            byte[] key = HexFormat.of().parseHex(m.group(1));
            assertEquals(Integer.parseInt(m.group(2)), Utils.murmur2(key), m.group(1));
            Matcher p = Pattern.compile("\"(\\d+)\"\\s*:\\s*(\\d+)").matcher(m.group(3));
            while (p.find()) {
                int count = Integer.parseInt(p.group(1));
                assertEquals(Integer.parseInt(p.group(2)), kafkaPartition(key, count), m.group(1) + " % " + count);
            }
            vectors++;
        }
        assertTrue(vectors >= 23, "read " + vectors + " vectors");
    }
}
