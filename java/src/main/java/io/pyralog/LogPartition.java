package io.pyralog;

/**
 * One partition of a log.
 *
 * @param log the log
 * @param partition the partition number
 */
public record LogPartition(String log, int partition) {}
