// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A batch is malformed (bad lengths, counts or fields). (code 303) */
public final class InvalidBatchException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 303;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidBatchException(String message) {
        super(CODE, message);
    }
}
