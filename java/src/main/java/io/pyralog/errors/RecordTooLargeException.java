// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A record exceeds `MAX_RECORD_BYTES`. (code 300) */
public final class RecordTooLargeException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 300;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public RecordTooLargeException(String message) {
        super(CODE, message);
    }
}
