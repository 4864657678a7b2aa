// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A partition count is out of range or would shrink the log. (code 205) */
public final class InvalidPartitionsException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 205;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidPartitionsException(String message) {
        super(CODE, message);
    }
}
