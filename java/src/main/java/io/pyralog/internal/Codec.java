package io.pyralog.internal;

import io.pyralog.CleanupPolicy;
import io.pyralog.FlushPolicy;
import io.pyralog.Header;
import io.pyralog.LogConfig;
import io.pyralog.LogMetadata;
import io.pyralog.LogPartition;
import io.pyralog.LogState;
import io.pyralog.LogStats;
import io.pyralog.PartitionMetadata;
import io.pyralog.PartitionStats;
import io.pyralog.Record;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Decodes the native results; the layouts are documented in {@code bindings/java/src/codec.rs}. */
public final class Codec {
    private Codec() {}

    private static ByteBuffer wrap(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String str(ByteBuffer b) {
        int n = b.getInt();
        String s = new String(b.array(), b.position(), n, StandardCharsets.UTF_8);
        b.position(b.position() + n);
        return s;
    }

    private static byte[] bytes(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0) {
            return null;
        }
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    /**
     * @param raw a records result
     * @return the records
     */
    public static List<Record> records(byte[] raw) {
        ByteBuffer b = wrap(raw);
        String[] logs = new String[b.getInt()];
        for (int i = 0; i < logs.length; i++) {
            logs[i] = str(b);
        }
        int count = b.getInt();
        List<Record> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String log = logs[b.getInt()];
            int partition = b.getInt();
            long offset = b.getLong();
            long epoch = b.getLong();
            long timestamp = b.getLong();
            byte[] key = bytes(b);
            byte[] value = bytes(b);
            int headerCount = b.getInt();
            List<Header> headers = headerCount == 0 ? List.of() : new ArrayList<>(headerCount);
            for (int h = 0; h < headerCount; h++) {
                headers.add(new Header(str(b), bytes(b)));
            }
            out.add(new Record(log, partition, offset, epoch, timestamp, key, value, headers));
        }
        return out;
    }

    private static List<Integer> ints(ByteBuffer b) {
        int n = b.getInt();
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(b.getInt());
        }
        return List.copyOf(out);
    }

    private static LogMetadata metadata(ByteBuffer b) {
        String name = str(b);
        int count = b.getInt();
        int rf = b.getInt();
        long created = b.getLong();
        LogState state = LogState.values()[b.getInt()];
        LogConfig config = new LogConfig(b.getLong(), b.getLong(), b.getInt(), FlushPolicy.values()[b.getInt()],
            b.getInt(), b.getLong(), b.getLong(), b.getInt() == 1, b.getInt() == 1, CleanupPolicy.values()[b.getInt()],
            b.getLong());
        int n = b.getInt();
        List<PartitionMetadata> parts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int partition = b.getInt();
            int leader = b.getInt();
            List<Integer> replicas = ints(b);
            List<Integer> isr = ints(b);
            parts.add(new PartitionMetadata(partition, leader, replicas, isr, b.getLong(), b.getLong(), b.getLong()));
        }
        return new LogMetadata(name, count, rf, created, state, config, List.copyOf(parts));
    }

    /**
     * @param raw a metadata result
     * @return the log's metadata
     */
    public static LogMetadata metadata(byte[] raw) {
        return metadata(wrap(raw));
    }

    /**
     * @param raw a metadata list result
     * @return every log's metadata
     */
    public static List<LogMetadata> metadataList(byte[] raw) {
        ByteBuffer b = wrap(raw);
        int n = b.getInt();
        List<LogMetadata> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(metadata(b));
        }
        return out;
    }

    /**
     * @param raw a stats result
     * @return the log's statistics
     */
    public static LogStats stats(byte[] raw) {
        ByteBuffer b = wrap(raw);
        long count = b.getLong();
        long size = b.getLong();
        double rate = b.getDouble();
        int n = b.getInt();
        List<PartitionStats> parts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            parts.add(new PartitionStats(b.getInt(), b.getLong(), b.getLong(), b.getLong(), b.getInt()));
        }
        return new LogStats(count, size, rate, List.copyOf(parts));
    }

    /**
     * @param raw an offsets result
     * @return partition to offset, in the library's order
     */
    public static Map<LogPartition, Long> offsets(byte[] raw) {
        ByteBuffer b = wrap(raw);
        int n = b.getInt();
        Map<LogPartition, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            out.put(new LogPartition(str(b), b.getInt()), b.getLong());
        }
        return out;
    }

    /**
     * @param headers headers to send
     * @return them packed for the library, or null for none
     */
    public static byte[] headers(List<Header> headers) {
        if (headers.isEmpty()) {
            return null;
        }
        int size = 4;
        List<byte[]> names = new ArrayList<>(headers.size());
        for (Header h : headers) {
            byte[] n = h.name().getBytes(StandardCharsets.UTF_8);
            names.add(n);
            size += 8 + n.length + h.value().length;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(headers.size());
        for (int i = 0; i < headers.size(); i++) {
            b.putInt(names.get(i).length).put(names.get(i));
            b.putInt(headers.get(i).value().length).put(headers.get(i).value());
        }
        return b.array();
    }

    /** Parallel arrays of log names and partition numbers. */
    public record Partitions(String[] logs, int[] partitions) {
        /**
         * @param lps the partitions
         * @return them as parallel arrays
         */
        public static Partitions of(Collection<LogPartition> lps) {
            String[] logs = new String[lps.size()];
            int[] parts = new int[lps.size()];
            int i = 0;
            for (LogPartition lp : lps) {
                logs[i] = lp.log();
                parts[i++] = lp.partition();
            }
            return new Partitions(logs, parts);
        }
    }
}
