// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** Fewer in-sync replicas than the log's `min_in_sync_replicas`, or fewer live nodes than the replication factor; nothing was acknowledged. (code 602) */
public final class NotEnoughReplicasException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 602;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public NotEnoughReplicasException(String message) {
        super(CODE, message);
    }
}
