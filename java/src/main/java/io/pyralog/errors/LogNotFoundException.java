// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** No log of that name exists. (code 200) */
public final class LogNotFoundException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 200;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public LogNotFoundException(String message) {
        super(CODE, message);
    }
}
