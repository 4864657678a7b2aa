// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The group is rebalancing; rejoin to get the new assignment. (code 502) */
public final class RebalanceInProgressException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 502;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public RebalanceInProgressException(String message) {
        super(CODE, message);
    }
}
