// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** No assignor is supported by every member. (code 503) */
public final class InconsistentGroupProtocolException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 503;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InconsistentGroupProtocolException(String message) {
        super(CODE, message);
    }
}
