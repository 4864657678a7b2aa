// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The principal is over a quota (connections or requests per second); retry after the error's `retry_after_ms`. (code 702) */
public final class ThrottledException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 702;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public ThrottledException(String message) {
        super(CODE, message);
    }
}
