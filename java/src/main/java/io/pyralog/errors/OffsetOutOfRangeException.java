// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The offset is below the log start or past the end. (code 304) */
public final class OffsetOutOfRangeException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 304;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public OffsetOutOfRangeException(String message) {
        super(CODE, message);
    }
}
