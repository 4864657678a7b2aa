// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The client, producer or consumer was closed. (code 902) */
public final class ClosedException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 902;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public ClosedException(String message) {
        super(CODE, message);
    }
}
