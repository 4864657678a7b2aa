// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A wait ran out of time (durability, long-poll, connect). (code 103) */
public final class TimeoutException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 103;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public TimeoutException(String message) {
        super(CODE, message);
    }
}
