// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The server has no state for this producer id. (code 402) */
public final class UnknownProducerException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 402;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public UnknownProducerException(String message) {
        super(CODE, message);
    }
}
