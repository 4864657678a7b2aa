package io.pyralog;

/** When the server counts a produced batch as written. */
public enum Acks {
    /**
     * Once every in-sync replica holds it (durable per the log's flush policy): survives the
     * loss of any node but the last in-sync one. The default.
     */
    ALL,
    /** Once the partition leader holds it: lost if the leader dies before the followers copy it. */
    LEADER,
    /** Once the leader wrote it, durable or not. */
    NONE
}
