package io.pyralog;

/** When appended data is fsynced relative to the acknowledgement. */
public enum FlushPolicy {
    /** The server's default. */
    SERVER_DEFAULT,
    /** fsync before acknowledging, with group commit. */
    ALWAYS,
    /** fsync every {@code flushIntervalMs}; acknowledge after the write. */
    INTERVAL,
    /** Never fsync explicitly. */
    NEVER
}
