package io.pyralog;

/**
 * A log's settings; zero means "not set" (unlimited retention, server defaults).
 * {@code LogConfig.builder().retentionMs(3_600_000).build()}; {@link #toBuilder()} to change one.
 *
 * @param retentionMs delete segments older than this (0: keep)
 * @param retentionBytes delete the oldest segments beyond this size per partition (0: keep)
 * @param minInSyncReplicas replicas that must acknowledge (0: server default)
 * @param flushPolicy when data is fsynced relative to the acknowledgement
 * @param flushIntervalMs the interval for {@link FlushPolicy#INTERVAL}
 * @param segmentBytes roll a segment at this size (0: server default)
 * @param segmentMs roll a segment at this age (0: server default)
 * @param logAppendTime stamp records with the server's clock instead of the producer's
 * @param dynamicPartitions add partitions on demand
 * @param cleanupPolicy delete old segments by retention, compact to the newest record per key, or both
 * @param deleteRetentionMs how long a compacted log keeps tombstones (0: server default)
 */
public record LogConfig(long retentionMs, long retentionBytes, int minInSyncReplicas, FlushPolicy flushPolicy,
        int flushIntervalMs, long segmentBytes, long segmentMs, boolean logAppendTime, boolean dynamicPartitions,
        CleanupPolicy cleanupPolicy, long deleteRetentionMs) {

    /** @return a builder with every setting unset */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder starting from these settings */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.retentionMs = retentionMs;
        b.retentionBytes = retentionBytes;
        b.minInSyncReplicas = minInSyncReplicas;
        b.flushPolicy = flushPolicy;
        b.flushIntervalMs = flushIntervalMs;
        b.segmentBytes = segmentBytes;
        b.segmentMs = segmentMs;
        b.logAppendTime = logAppendTime;
        b.dynamicPartitions = dynamicPartitions;
        b.cleanupPolicy = cleanupPolicy;
        b.deleteRetentionMs = deleteRetentionMs;
        return b;
    }

    long[] toNative() {
        return new long[] {retentionMs, retentionBytes, minInSyncReplicas, flushPolicy.ordinal(), flushIntervalMs,
            segmentBytes, segmentMs, logAppendTime ? 1 : 0, dynamicPartitions ? 1 : 0, cleanupPolicy.ordinal(),
            deleteRetentionMs};
    }

    /** Builds a {@link LogConfig}. */
    public static final class Builder {
        private long retentionMs;
        private long retentionBytes;
        private int minInSyncReplicas;
        private FlushPolicy flushPolicy = FlushPolicy.SERVER_DEFAULT;
        private int flushIntervalMs;
        private long segmentBytes;
        private long segmentMs;
        private boolean logAppendTime;
        private boolean dynamicPartitions;
        private CleanupPolicy cleanupPolicy = CleanupPolicy.DELETE;
        private long deleteRetentionMs;

        private Builder() {}

        /**
         * @param v see {@link LogConfig#retentionMs()}
         * @return this builder
         */
        public Builder retentionMs(long v) {
            retentionMs = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#retentionBytes()}
         * @return this builder
         */
        public Builder retentionBytes(long v) {
            retentionBytes = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#minInSyncReplicas()}
         * @return this builder
         */
        public Builder minInSyncReplicas(int v) {
            minInSyncReplicas = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#flushPolicy()}
         * @return this builder
         */
        public Builder flushPolicy(FlushPolicy v) {
            flushPolicy = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#flushIntervalMs()}
         * @return this builder
         */
        public Builder flushIntervalMs(int v) {
            flushIntervalMs = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#segmentBytes()}
         * @return this builder
         */
        public Builder segmentBytes(long v) {
            segmentBytes = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#segmentMs()}
         * @return this builder
         */
        public Builder segmentMs(long v) {
            segmentMs = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#logAppendTime()}
         * @return this builder
         */
        public Builder logAppendTime(boolean v) {
            logAppendTime = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#dynamicPartitions()}
         * @return this builder
         */
        public Builder dynamicPartitions(boolean v) {
            dynamicPartitions = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#cleanupPolicy()}
         * @return this builder
         */
        public Builder cleanupPolicy(CleanupPolicy v) {
            cleanupPolicy = v;
            return this;
        }

        /**
         * @param v see {@link LogConfig#deleteRetentionMs()}
         * @return this builder
         */
        public Builder deleteRetentionMs(long v) {
            deleteRetentionMs = v;
            return this;
        }

        /** @return the settings */
        public LogConfig build() {
            return new LogConfig(retentionMs, retentionBytes, minInSyncReplicas, flushPolicy, flushIntervalMs,
                segmentBytes, segmentMs, logAppendTime, dynamicPartitions, cleanupPolicy, deleteRetentionMs);
        }
    }
}
