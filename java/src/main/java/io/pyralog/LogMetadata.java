package io.pyralog;

import java.util.List;

/**
 * A log's partitions, settings and state.
 *
 * @param name the log name
 * @param partitionCount how many partitions
 * @param replicationFactor copies of each partition
 * @param createdAtMs when it was created, ms since the Unix epoch
 * @param state its lifecycle state
 * @param config its settings
 * @param partitions each partition's bounds
 */
public record LogMetadata(String name, int partitionCount, int replicationFactor, long createdAtMs, LogState state,
        LogConfig config, List<PartitionMetadata> partitions) {}
