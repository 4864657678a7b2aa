// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The member id is not (or no longer) a member of the group; rejoin. (code 500) */
public final class UnknownMemberIdException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 500;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public UnknownMemberIdException(String message) {
        super(CODE, message);
    }
}
