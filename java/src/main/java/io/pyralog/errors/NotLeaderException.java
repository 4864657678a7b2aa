// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** This server does not lead the partition. (code 601) */
public final class NotLeaderException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 601;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public NotLeaderException(String message) {
        super(CODE, message);
    }
}
