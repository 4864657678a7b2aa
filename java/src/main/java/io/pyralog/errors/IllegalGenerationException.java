// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The request carried another generation than the group's; rejoin. (code 501) */
public final class IllegalGenerationException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 501;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public IllegalGenerationException(String message) {
        super(CODE, message);
    }
}
