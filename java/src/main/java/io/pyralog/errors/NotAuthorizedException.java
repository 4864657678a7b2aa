// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The principal has no ACL allowing the operation on the resource (the message names both); nothing changed. (code 701) */
public final class NotAuthorizedException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 701;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public NotAuthorizedException(String message) {
        super(CODE, message);
    }
}
