// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The operation needs a group without members (offset reset). (code 507) */
public final class GroupNotEmptyException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 507;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public GroupNotEmptyException(String message) {
        super(CODE, message);
    }
}
