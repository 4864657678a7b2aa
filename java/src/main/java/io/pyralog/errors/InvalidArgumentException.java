// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** An argument was invalid before anything was sent. (code 903) */
public final class InvalidArgumentException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 903;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidArgumentException(String message) {
        super(CODE, message);
    }
}
