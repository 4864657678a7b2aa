// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A log of that name already exists. (code 201) */
public final class LogAlreadyExistsException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 201;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public LogAlreadyExistsException(String message) {
        super(CODE, message);
    }
}
