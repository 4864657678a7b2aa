package io.pyralog;

import java.util.List;

/**
 * A log's statistics.
 *
 * @param recordCount records stored
 * @param sizeBytes bytes on disk
 * @param writeRate records appended per second, averaged over the last minute
 * @param partitions each partition's statistics
 */
public record LogStats(long recordCount, long sizeBytes, double writeRate, List<PartitionStats> partitions) {}
