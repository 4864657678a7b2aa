package io.pyralog;

import io.pyralog.internal.Codec;
import io.pyralog.internal.Native;
import io.pyralog.internal.NativeHandle;
import java.time.Duration;
import java.util.List;

/**
 * A connection to a Pyralog server. Thread-safe; close it (try-with-resources). Every
 * method blocks the calling thread until the server answers (bounded by the request
 * timeout) and throws a typed {@link PyralogException} on failure.
 *
 * <pre>{@code
 * try (PyralogClient client = PyralogClient.connect("127.0.0.1:9092",
 *         ClientConfig.builder().caFile("pyralog-data/tls/ca.pem").build())) {
 *     client.createLog("user_events", 4);
 *     RecordMetadata md = client.produce("user_events", Record.of("event-1").withKey("user-1"));
 *     List<Record> records = client.consumeFromPartition("user_events", md.partition(), 0, 10);
 * }
 * }</pre>
 */
public final class PyralogClient implements AutoCloseable {
    /**
     * This SDK's version, the repository's one version; its native library must report the
     * same, or loading it fails naming both.
     */
    public static final String VERSION = "0.1.0";

    /** An offset meaning "the end of the partition at the time of the read". */
    public static final long OFFSET_END = -1;

    private final NativeHandle handle;

    private PyralogClient(long h) {
        this.handle = new NativeHandle(this, h, Native::clientFree);
    }

    /**
     * Connects to {@code addr} ("host:port", or several separated by commas).
     *
     * @param addr the server address
     * @param config connection settings
     * @return the client
     * @throws io.pyralog.errors.ConnectionFailedException if the server cannot be reached
     * @throws io.pyralog.errors.TlsErrorException if its certificate is not trusted, or the
     *     client certificate or key cannot be read
     * @throws io.pyralog.errors.AuthenticationFailedException if the server refuses the token
     *     or the client certificate
     * @throws io.pyralog.errors.ThrottledException if the principal holds as many connections
     *     as its quota allows ({@link PyralogException#retryAfter()} says when to try again)
     */
    public static PyralogClient connect(String addr, ClientConfig config) {
        return new PyralogClient(Native.clientConnect(addr, config.caFile, config.serverName, config.certFile,
            config.keyFile, config.token, millis(config.connectTimeout), millis(config.requestTimeout)));
    }

    /**
     * Connects to the cluster through the servers of {@link ClientConfig.Builder#bootstrapServers}:
     * any one that answers is enough.
     *
     * @param config connection settings, with at least one bootstrap server
     * @return the client
     * @throws io.pyralog.errors.InvalidArgumentException without bootstrap servers
     * @throws io.pyralog.errors.ConnectionFailedException if no server can be reached
     * @throws io.pyralog.errors.TlsErrorException if a certificate is not trusted
     */
    public static PyralogClient connect(ClientConfig config) {
        return connect(String.join(",", config.bootstrapServers), config);
    }

    private static long millis(Duration d) {
        return d == null ? 0 : d.toMillis();
    }

    long handle() {
        return handle.call(h -> h);
    }

    NativeHandle nativeHandle() {
        return handle;
    }

    /**
     * Creates a log with default settings.
     *
     * @param name the log name
     * @param partitions how many partitions
     * @return its metadata
     * @throws io.pyralog.errors.LogAlreadyExistsException if it exists
     * @throws io.pyralog.errors.InvalidLogIdException for a bad name
     */
    public LogMetadata createLog(String name, int partitions) {
        return Codec.metadata(handle.call(h -> Native.createLog(h, name, partitions, 0, null)));
    }

    /**
     * Creates a log with these settings.
     *
     * @param name the log name
     * @param partitions how many partitions
     * @param config its settings
     * @return its metadata
     */
    public LogMetadata createLogWithConfig(String name, int partitions, LogConfig config) {
        return createLog(name, partitions, 0, config);
    }

    /**
     * Creates a log with {@code replicationFactor} copies of each partition, on as many nodes.
     *
     * @param name the log name
     * @param partitions how many partitions
     * @param replicationFactor copies of each partition; 0 for the server's
     *     {@code default_replication_factor}
     * @param config its settings
     * @return its metadata
     * @throws io.pyralog.errors.InvalidConfigException if there are fewer nodes than copies
     */
    public LogMetadata createLog(String name, int partitions, int replicationFactor, LogConfig config) {
        return Codec.metadata(handle.call(
            h -> Native.createLog(h, name, partitions, replicationFactor, config.toNative())));
    }

    /** @return every log (internal logs hidden) */
    public List<LogMetadata> listLogs() {
        return Codec.metadataList(handle.call(Native::listLogs));
    }

    /**
     * @param name the log name
     * @return true if it exists
     */
    public boolean logExists(String name) {
        return handle.call(h -> Native.admin(h, Native.EXISTS, name))[0] == 1;
    }

    /**
     * @param name the log name
     * @return its partitions, settings and state
     * @throws io.pyralog.errors.LogNotFoundException if it does not exist
     */
    public LogMetadata getLogMetadata(String name) {
        return Codec.metadata(handle.call(h -> Native.admin(h, Native.METADATA, name)));
    }

    /**
     * @param name the log name
     * @return its record count, size and write rate
     */
    public LogStats getLogStats(String name) {
        return Codec.stats(handle.call(h -> Native.admin(h, Native.STATS, name)));
    }

    /**
     * Replaces the log's settings.
     *
     * @param name the log name
     * @param config the new settings
     * @return its metadata
     */
    public LogMetadata updateLogConfig(String name, LogConfig config) {
        return Codec.metadata(handle.call(h -> Native.updateLogConfig(h, name, config.toNative())));
    }

    /**
     * Rejects writes with {@code LogPausedException} until resumed; reads go on.
     *
     * @param name the log name
     * @return its metadata
     */
    public LogMetadata pauseLog(String name) {
        return Codec.metadata(handle.call(h -> Native.admin(h, Native.PAUSE, name)));
    }

    /**
     * Accepts writes again.
     *
     * @param name the log name
     * @return its metadata
     */
    public LogMetadata resumeLog(String name) {
        return Codec.metadata(handle.call(h -> Native.admin(h, Native.RESUME, name)));
    }

    /**
     * Deletes the log and its data.
     *
     * @param name the log name
     */
    public void deleteLog(String name) {
        handle.call(h -> Native.admin(h, Native.DELETE, name));
    }

    /**
     * Grows the log.
     *
     * @param name the log name
     * @param partitions the new partition count
     * @return its metadata
     */
    public LogMetadata addPartitions(String name, int partitions) {
        return Codec.metadata(handle.call(h -> Native.addPartitions(h, name, partitions)));
    }

    /**
     * Writes one record and waits for its acknowledgement (use a {@link Producer} for throughput).
     *
     * @param log the log
     * @param record the record
     * @return where it was written
     * @throws io.pyralog.errors.LogNotFoundException if the log does not exist
     * @throws io.pyralog.errors.RecordTooLargeException if the record is over the limit
     */
    public RecordMetadata produce(String log, Record record) {
        long[] md = handle.call(h -> Native.produce(h, log, record.key(), record.value(), Codec.headers(record.headers()),
            record.partition(), record.timestamp(), record.timestamp() != 0));
        return new RecordMetadata(log, (int) md[0], md[1], md[2], md[3]);
    }

    /**
     * Up to {@code max} records of every partition from {@code offset}, without waiting.
     *
     * @param log the log
     * @param offset the first offset of each partition
     * @param max most records
     * @return the records
     */
    public List<Record> consume(String log, long offset, int max) {
        return Codec.records(handle.call(h -> Native.consume(h, log, -1, offset, max)));
    }

    /**
     * Up to {@code max} records of one partition from {@code offset} ({@link #OFFSET_END}:
     * only what is newer). The records before a stored batch that cannot be decoded are
     * returned; a read from it fails.
     *
     * @param log the log
     * @param partition the partition
     * @param offset the first offset
     * @param max most records
     * @return the records
     * @throws io.pyralog.errors.OffsetOutOfRangeException past the end
     * @throws io.pyralog.errors.CorruptDataException at a batch that cannot be decoded; its
     *     {@code corruptBatch()} names it (read on from its {@code lastOffset() + 1} to skip it)
     */
    public List<Record> consumeFromPartition(String log, int partition, long offset, int max) {
        return Codec.records(handle.call(h -> Native.consume(h, log, partition, offset, max)));
    }

    /**
     * @param config its settings
     * @return a batching, idempotent producer on this client
     */
    public Producer producer(ProducerConfig config) {
        return new Producer(handle.call(h -> Native.producerNew(h, config.settings)));
    }

    /** @return a producer with the default settings */
    public Producer producer() {
        return producer(ProducerConfig.defaults());
    }

    /**
     * @param config its settings (a group id to {@link Consumer#subscribe})
     * @return a consumer on this client
     */
    public Consumer consumer(ConsumerConfig config) {
        return new Consumer(handle.call(
            h -> Native.consumerNew(h, config.groupId, config.groupInstanceId, config.assignors, config.settings)));
    }

    /** Closes the connection; idempotent. Later calls throw {@code ClosedException}. */
    @Override
    public void close() {
        if (!handle.isFreed()) {
            try {
                handle.run(Native::clientClose);
            } catch (io.pyralog.errors.ClosedException alreadyClosed) {
                // closed concurrently
            }
        }
        handle.close();
    }
}
