// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The log is being deleted. (code 208) */
public final class LogDeletingException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 208;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public LogDeletingException(String message) {
        super(CODE, message);
    }
}
