package io.pyralog;

import java.time.Duration;

/**
 * Producer settings; unset ones take the core client's defaults (batch 256 KiB, linger 5 ms,
 * buffer 64 MiB, max block 60 s, delivery timeout 120 s, 5 batches in flight per partition,
 * idempotence on, acks all, no compression).
 */
public final class ProducerConfig {
    final long[] settings;

    private ProducerConfig(long[] settings) {
        this.settings = settings;
    }

    /** @return a builder with every setting at its default */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the defaults */
    public static ProducerConfig defaults() {
        return builder().build();
    }

    /** Builds a {@link ProducerConfig}. */
    public static final class Builder {
        /** The level slot's "unset": any {@code int} is a level the core may refuse. */
        private static final long DEFAULT_LEVEL = Long.MIN_VALUE;

        private final long[] s = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, DEFAULT_LEVEL};

        private Builder() {}

        /**
         * @param bytes a partition's batch is sent at this size
         * @return this builder
         */
        public Builder batchSize(int bytes) {
            s[0] = bytes;
            return this;
        }

        /**
         * @param d ...or when its oldest record waited this long
         * @return this builder
         */
        public Builder linger(Duration d) {
            s[1] = d.toMillis();
            return this;
        }

        /**
         * @param bytes records waiting to be sent hold at most this
         * @return this builder
         */
        public Builder bufferMemory(long bytes) {
            s[2] = bytes;
            return this;
        }

        /**
         * @param d how long {@code send} waits for buffer room
         * @return this builder
         */
        public Builder maxBlock(Duration d) {
            s[3] = d.toMillis();
            return this;
        }

        /**
         * @param d a record not acknowledged in this time fails
         * @return this builder
         */
        public Builder deliveryTimeout(Duration d) {
            s[4] = d.toMillis();
            return this;
        }

        /**
         * @param d wait between retries of a failed batch
         * @return this builder
         */
        public Builder retryBackoff(Duration d) {
            s[5] = d.toMillis();
            return this;
        }

        /**
         * @param n batches in flight per partition
         * @return this builder
         */
        public Builder maxInFlight(int n) {
            s[6] = n;
            return this;
        }

        /**
         * @param on exactly-once, in-order writes across retries (default on)
         * @return this builder
         */
        public Builder idempotence(boolean on) {
            s[7] = on ? 1 : 0;
            return this;
        }

        /**
         * @param acks when a batch counts as written (default {@link Acks#ALL})
         * @return this builder
         */
        public Builder acks(Acks acks) {
            s[8] = acks.ordinal();
            return this;
        }

        /**
         * @param compression how batches are compressed (default {@link Compression#NONE})
         * @return this builder
         */
        public Builder compression(Compression compression) {
            s[9] = compression.ordinal();
            return this;
        }

        /**
         * The compression level, for {@link Compression#ZSTD} only: 1 to 22 (default 3).
         * {@link PyralogClient#producer(ProducerConfig)} throws {@code InvalidArgumentException}
         * for a level out of range or with another codec.
         *
         * @param level the zstd level
         * @return this builder
         */
        public Builder compressionLevel(int level) {
            s[10] = level;
            return this;
        }

        /** @return the settings */
        public ProducerConfig build() {
            return new ProducerConfig(s.clone());
        }
    }
}
