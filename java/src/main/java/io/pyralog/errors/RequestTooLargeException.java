// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The request exceeded `MAX_REQUEST_BYTES` or a nesting/traversal limit. (code 102) */
public final class RequestTooLargeException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 102;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public RequestTooLargeException(String message) {
        super(CODE, message);
    }
}
