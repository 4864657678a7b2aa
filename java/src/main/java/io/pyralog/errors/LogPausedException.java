// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The log is paused: writes are rejected, reads are served. (code 203) */
public final class LogPausedException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 203;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public LogPausedException(String message) {
        super(CODE, message);
    }
}
