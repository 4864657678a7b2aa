package io.pyralog;

import java.time.Duration;
import java.util.List;

/**
 * Consumer settings; unset ones take the core client's defaults (earliest, 10,000 records
 * per poll, session 10 s, heartbeat 3 s, auto-commit every 5 s).
 */
public final class ConsumerConfig {
    final String groupId;
    final String groupInstanceId;
    final String[] assignors;
    final long[] settings;

    private ConsumerConfig(Builder b) {
        this.groupId = b.groupId;
        this.groupInstanceId = b.groupInstanceId;
        this.assignors = b.assignors.toArray(new String[0]);
        this.settings = b.s.clone();
    }

    /** @return a builder with every setting at its default */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ConsumerConfig}. */
    public static final class Builder {
        private String groupId;
        private String groupInstanceId;
        private List<String> assignors = List.of();
        private final long[] s = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

        private Builder() {}

        /**
         * @param id the group {@code subscribe} joins
         * @return this builder
         */
        public Builder groupId(String id) {
            groupId = id;
            return this;
        }

        /**
         * @param id a static membership id
         * @return this builder
         */
        public Builder groupInstanceId(String id) {
            groupInstanceId = id;
            return this;
        }

        /**
         * @param r where a partition without a position starts
         * @return this builder
         */
        public Builder autoOffsetReset(OffsetReset r) {
            s[0] = r.ordinal();
            return this;
        }

        /**
         * @param n most records one poll returns
         * @return this builder
         */
        public Builder maxPollRecords(int n) {
            s[1] = n;
            return this;
        }

        /**
         * @param bytes most bytes one fetch asks for
         * @return this builder
         */
        public Builder fetchMaxBytes(int bytes) {
            s[2] = bytes;
            return this;
        }

        /**
         * @param bytes most bytes of one partition per fetch
         * @return this builder
         */
        public Builder maxPartitionFetchBytes(int bytes) {
            s[3] = bytes;
            return this;
        }

        /**
         * @param d how long the server holds an empty fetch
         * @return this builder
         */
        public Builder fetchMaxWait(Duration d) {
            s[4] = d.toMillis();
            return this;
        }

        /**
         * @param d a member silent this long leaves the group
         * @return this builder
         */
        public Builder sessionTimeout(Duration d) {
            s[5] = d.toMillis();
            return this;
        }

        /**
         * @param d heartbeat every
         * @return this builder
         */
        public Builder heartbeatInterval(Duration d) {
            s[6] = d.toMillis();
            return this;
        }

        /**
         * @param d how long a rebalance may take
         * @return this builder
         */
        public Builder rebalanceTimeout(Duration d) {
            s[7] = d.toMillis();
            return this;
        }

        /**
         * @param d a member that does not poll this long leaves
         * @return this builder
         */
        public Builder maxPollInterval(Duration d) {
            s[8] = d.toMillis();
            return this;
        }

        /**
         * @param on commit on an interval, before revocation and on close
         * @return this builder
         */
        public Builder enableAutoCommit(boolean on) {
            s[9] = on ? 1 : 0;
            return this;
        }

        /**
         * @param d the auto-commit interval
         * @return this builder
         */
        public Builder autoCommitInterval(Duration d) {
            s[10] = d.toMillis();
            return this;
        }

        /**
         * @param names assignors in preference order
         * @return this builder
         */
        public Builder assignors(List<String> names) {
            assignors = List.copyOf(names);
            return this;
        }

        /** @return the settings */
        public ConsumerConfig build() {
            return new ConsumerConfig(this);
        }
    }
}
