package io.pyralog.internal;

import io.pyralog.ConsumerRebalanceListener;
import io.pyralog.LogPartition;
import java.util.ArrayList;
import java.util.List;

/**
 * Called by the native consumer inside {@code poll}; hands the partitions to the user's
 * listener and keeps what it throws, for {@code poll} to rethrow. Never throws itself.
 */
public final class RebalanceBridge {
    private final ConsumerRebalanceListener listener;
    private RuntimeException failure;

    /** @param listener the user's listener (may be null) */
    public RebalanceBridge(ConsumerRebalanceListener listener) {
        this.listener = listener;
    }

    /**
     * @param kind 0 assigned, 1 revoked, 2 lost
     * @param logs log names
     * @param partitions partition numbers, parallel to {@code logs}
     */
    public void onRebalance(int kind, String[] logs, int[] partitions) {
        if (listener == null) {
            return;
        }
        List<LogPartition> parts = new ArrayList<>(logs.length);
        for (int i = 0; i < logs.length; i++) {
            parts.add(new LogPartition(logs[i], partitions[i]));
        }
        try {
            switch (kind) {
                case 0 -> listener.onPartitionsAssigned(parts);
                case 1 -> listener.onPartitionsRevoked(parts);
                default -> listener.onPartitionsLost(parts);
            }
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            }
        }
    }

    /** Rethrows, once, what the listener threw. */
    public void rethrow() {
        RuntimeException e = failure;
        failure = null;
        if (e != null) {
            throw e;
        }
    }
}
