// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The server is shutting down. (code 105) */
public final class ShuttingDownException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 105;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public ShuttingDownException(String message) {
        super(CODE, message);
    }
}
