// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A batch exceeds `MAX_BATCH_BYTES` or `MAX_BATCH_RECORDS`. (code 301) */
public final class BatchTooLargeException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 301;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public BatchTooLargeException(String message) {
        super(CODE, message);
    }
}
