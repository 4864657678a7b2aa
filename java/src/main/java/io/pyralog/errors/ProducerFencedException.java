// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A newer producer with the same id exists. (code 401) */
public final class ProducerFencedException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 401;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public ProducerFencedException(String message) {
        super(CODE, message);
    }
}
