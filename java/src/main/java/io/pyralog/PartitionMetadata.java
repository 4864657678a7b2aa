package io.pyralog;

/**
 * One partition's leader epoch and bounds.
 *
 * @param partition the partition number
 * @param leaderEpoch the epoch of its current leadership
 * @param logStartOffset the first offset still stored
 * @param highWatermark the offset the next record gets
 */
public record PartitionMetadata(int partition, long leaderEpoch, long logStartOffset, long highWatermark) {}
