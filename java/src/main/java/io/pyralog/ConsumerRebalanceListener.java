package io.pyralog;

import java.util.Collection;

/**
 * Hears of a subscribed consumer's assignment changes. Runs inside {@link Consumer#poll} on
 * the polling thread; it must not call the consumer (that throws {@code ConcurrentCallException}). An
 * exception it throws is rethrown from that poll.
 */
public interface ConsumerRebalanceListener {
    /**
     * Partitions newly assigned; their positions are already set.
     *
     * @param partitions the partitions
     */
    default void onPartitionsAssigned(Collection<LogPartition> partitions) {}

    /**
     * Partitions handed back in an orderly rebalance, after the last commit.
     *
     * @param partitions the partitions
     */
    default void onPartitionsRevoked(Collection<LogPartition> partitions) {}

    /**
     * Partitions taken away without a rebalance (session expired): another member may own
     * them already, so do not commit for them. Defaults to {@link #onPartitionsRevoked}.
     *
     * @param partitions the partitions
     */
    default void onPartitionsLost(Collection<LogPartition> partitions) {
        onPartitionsRevoked(partitions);
    }
}
