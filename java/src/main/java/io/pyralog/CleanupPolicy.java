package io.pyralog;

/** What happens to a log's old records. */
public enum CleanupPolicy {
    /** Whole segments past retention are deleted (the default). */
    DELETE,
    /**
     * The newest record of each key is kept; a record with an empty value is a tombstone, dropped
     * after {@code deleteRetentionMs}. Retention does not delete.
     */
    COMPACT,
    /** Compacted, and deleted by retention too. */
    COMPACT_DELETE
}
