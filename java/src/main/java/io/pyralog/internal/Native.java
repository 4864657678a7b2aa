package io.pyralog.internal;

/**
 * The native methods of {@code libpyralog_jni}. Internal: use {@link io.pyralog.PyralogClient}.
 * Handles are {@code long}s owned by {@link NativeHandle}; every method throws a typed
 * {@link io.pyralog.PyralogException} on failure.
 */
public final class Native {
    static {
        NativeLibrary.load();
    }

    private Native() {}

    /** Admin operation numbers of {@link #admin}. */
    public static final int EXISTS = 0, METADATA = 1, STATS = 2, PAUSE = 3, RESUME = 4, DELETE = 5;

    /** Position operation numbers of {@link #consumerPosition}. */
    public static final int SEEK = 0, BEGINNING = 1, END = 2, TIMESTAMP = 3, PAUSE_PARTITIONS = 4, RESUME_PARTITIONS = 5;

    public static native long clientConnect(String addr, String caFile, String serverName, String certFile,
            String keyFile, String token, long connectTimeoutMs, long requestTimeoutMs);

    public static native void clientClose(long h);

    public static native void clientFree(long h);

    public static native long liveClients();

    public static native byte[] admin(long h, int op, String name);

    public static native byte[] createLog(long h, String name, int partitions, int replicationFactor, long[] config);

    public static native byte[] updateLogConfig(long h, String name, long[] config);

    public static native byte[] addPartitions(long h, String name, int partitions);

    public static native byte[] listLogs(long h);

    public static native long[] produce(long h, String log, byte[] key, byte[] value, byte[] headers, int partition,
            long timestamp, boolean hasTimestamp);

    public static native byte[] consume(long h, String log, int partition, long offset, int max);

    public static native long producerNew(long client, long[] settings);

    public static native void producerSend(long h, byte[] log, byte[] key, byte[] value, byte[] headers, int partition,
            long timestamp, boolean hasTimestamp, long token);

    public static native int producerTakeReports(long h, long[] tokens, int[] partitions, long[] offsets, long[] epochs,
            long[] timestamps, int[] codes, String[] messages, long[] retryAfterMs, long timeoutMs);

    public static native void producerFlush(long h);

    public static native void producerClose(long h);

    public static native void producerFree(long h);

    public static native long consumerNew(long client, String groupId, String groupInstanceId, String[] assignors,
            long[] settings);

    public static native void consumerSubscribe(long h, String[] logs, RebalanceBridge bridge);

    public static native void consumerAssign(long h, String[] logs, int[] partitions);

    public static native byte[] consumerAssignment(long h);

    public static native void consumerPosition(long h, String[] logs, int[] partitions, int op, long offset);

    public static native byte[] consumerPoll(long h, long timeoutMs);

    public static native long consumerNextOffset(long h, String log, int partition);

    public static native void consumerCommit(long h, String[] logs, int[] partitions, long[] offsets, boolean waitForIt);

    public static native byte[] consumerCommitted(long h, String[] logs, int[] partitions);

    public static native void consumerClose(long h);

    public static native void consumerFree(long h);

    public static native int[] errorCodes();
}
