package io.pyralog;

/** Where a partition without a known position starts. */
public enum OffsetReset {
    /** At the log start. */
    EARLIEST,
    /** At the end. */
    LATEST,
    /** Fail the poll with {@code OffsetOutOfRangeException}. */
    ERROR
}
