package io.pyralog;

import java.util.List;

/**
 * One partition's placement, leader epoch and bounds.
 *
 * @param partition the partition number
 * @param leader the node leading it ({@code -1} while none does)
 * @param replicas the nodes holding a copy
 * @param isr the replicas in sync with the leader
 * @param leaderEpoch the epoch of its current leadership
 * @param logStartOffset the first offset still stored
 * @param highWatermark the offset the next record gets
 */
public record PartitionMetadata(
    int partition, int leader, List<Integer> replicas, List<Integer> isr, long leaderEpoch, long logStartOffset,
    long highWatermark) {}
