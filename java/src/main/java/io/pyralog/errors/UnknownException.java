// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** An error the server could not classify; the message says more. (code 100) */
public final class UnknownException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 100;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public UnknownException(String message) {
        super(CODE, message);
    }
}
