// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A session or rebalance timeout is outside the server's bounds. (code 506) */
public final class InvalidSessionTimeoutException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 506;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidSessionTimeoutException(String message) {
        super(CODE, message);
    }
}
