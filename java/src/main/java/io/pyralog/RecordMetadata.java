package io.pyralog;

/**
 * Where a produced record was written.
 *
 * @param log the log
 * @param partition the partition
 * @param offset the offset in the partition
 * @param epoch the leader epoch that wrote it
 * @param timestamp ms since the Unix epoch
 */
public record RecordMetadata(String log, int partition, long offset, long epoch, long timestamp) {}
