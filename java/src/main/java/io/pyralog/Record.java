package io.pyralog;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An immutable record: one to produce ({@code Record.of(value).withKey(key)...}) or one
 * read back, which also carries its log, partition, offset, epoch and timestamp.
 * Byte arrays are not copied: do not change them after handing them over.
 */
public final class Record {
    /** In {@link #partition()} of a record to produce: let the partitioner choose. */
    public static final int ANY_PARTITION = -1;

    private final String log;
    private final int partition;
    private final long offset;
    private final long epoch;
    private final long timestamp;
    private final byte[] key;
    private final byte[] value;
    private final List<Header> headers;

    /**
     * A record as read back; the SDK makes these.
     *
     * @param log the log
     * @param partition the partition
     * @param offset the offset in the partition
     * @param epoch the leader epoch that wrote it
     * @param timestamp ms since the Unix epoch
     * @param key the key or null
     * @param value the value
     * @param headers the headers, in order
     */
    public Record(String log, int partition, long offset, long epoch, long timestamp, byte[] key, byte[] value,
            List<Header> headers) {
        this.log = log;
        this.partition = partition;
        this.offset = offset;
        this.epoch = epoch;
        this.timestamp = timestamp;
        this.key = key;
        this.value = value;
        this.headers = List.copyOf(headers);
    }

    /**
     * A record to produce with this value and nothing else.
     *
     * @param value the value
     * @return the record
     */
    public static Record of(byte[] value) {
        return new Record(null, ANY_PARTITION, -1, 0, 0, null, value, List.of());
    }

    /**
     * A record to produce with this UTF-8 value.
     *
     * @param value the value
     * @return the record
     */
    public static Record of(String value) {
        return of(value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @param key the key (null: no key)
     * @return a copy with this key
     */
    public Record withKey(byte[] key) {
        return new Record(log, partition, offset, epoch, timestamp, key, value, headers);
    }

    /**
     * @param key the UTF-8 key
     * @return a copy with this key
     */
    public Record withKey(String key) {
        return withKey(key.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @param name the header name
     * @param value the header value
     * @return a copy with this header added after the others
     */
    public Record withHeader(String name, byte[] value) {
        List<Header> more = new ArrayList<>(headers);
        more.add(new Header(name, value));
        return new Record(log, partition, offset, epoch, timestamp, key, this.value, more);
    }

    /**
     * @param partition the partition to write to ({@link #ANY_PARTITION}: the partitioner's choice)
     * @return a copy for this partition
     */
    public Record withPartition(int partition) {
        return new Record(log, partition, offset, epoch, timestamp, key, value, headers);
    }

    /**
     * @param timestampMs the producer timestamp, ms since the Unix epoch (0: now)
     * @return a copy with this timestamp
     */
    public Record withTimestamp(long timestampMs) {
        return new Record(log, partition, offset, epoch, timestampMs, key, value, headers);
    }

    /** @return the log (null on a record to produce) */
    public String log() {
        return log;
    }

    /** @return the partition ({@link #ANY_PARTITION} when unset) */
    public int partition() {
        return partition;
    }

    /** @return the offset (-1 on a record to produce) */
    public long offset() {
        return offset;
    }

    /** @return the leader epoch that wrote it */
    public long epoch() {
        return epoch;
    }

    /** @return ms since the Unix epoch (0 on a record to produce: now) */
    public long timestamp() {
        return timestamp;
    }

    /** @return the key, or null */
    public byte[] key() {
        return key;
    }

    /** @return the value */
    public byte[] value() {
        return value;
    }

    /** @return the headers, in order, duplicates kept */
    public List<Header> headers() {
        return headers;
    }

    @Override
    public String toString() {
        return "Record(" + log + "/" + partition + "@" + offset + ")";
    }
}
