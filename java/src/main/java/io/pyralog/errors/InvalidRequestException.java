// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The request was not a well-formed message of this protocol. (code 101) */
public final class InvalidRequestException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 101;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidRequestException(String message) {
        super(CODE, message);
    }
}
