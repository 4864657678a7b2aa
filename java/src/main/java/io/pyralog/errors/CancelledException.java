// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The caller cancelled the wait (a Go context, a cancel token, a consumer's `wakeup`); the operation itself may still complete. (code 905) */
public final class CancelledException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 905;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public CancelledException(String message) {
        super(CODE, message);
    }
}
