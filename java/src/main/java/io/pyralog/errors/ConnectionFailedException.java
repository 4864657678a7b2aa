// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** Could not connect, or the connection was lost. (code 900) */
public final class ConnectionFailedException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 900;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public ConnectionFailedException(String message) {
        super(CODE, message);
    }
}
