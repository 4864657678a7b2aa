// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** No group of that name exists. (code 509) */
public final class GroupNotFoundException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 509;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public GroupNotFoundException(String message) {
        super(CODE, message);
    }
}
