package io.pyralog;

/** A log's lifecycle state. */
public enum LogState {
    /** Accepts reads and writes. */
    ACTIVE,
    /** Rejects writes with {@code LogPausedException}; reads go on. */
    PAUSED,
    /** Being deleted. */
    DELETING
}
