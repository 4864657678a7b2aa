// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A batch's sequence leaves a gap after the last one written. (code 400) */
public final class OutOfOrderSequenceException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 400;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public OutOfOrderSequenceException(String message) {
        super(CODE, message);
    }
}
