// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** Names starting with `__` belong to internal logs. (code 207) */
public final class ReservedLogNameException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 207;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public ReservedLogNameException(String message) {
        super(CODE, message);
    }
}
