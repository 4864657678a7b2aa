package io.pyralog;

/**
 * One partition's size and bounds.
 *
 * @param partition the partition number
 * @param logStartOffset the first offset still stored
 * @param highWatermark the offset the next record gets
 * @param sizeBytes bytes on disk
 * @param segmentCount segment files
 */
public record PartitionStats(int partition, long logStartOffset, long highWatermark, long sizeBytes, int segmentCount) {}
