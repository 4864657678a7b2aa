// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The group has `MAX_GROUP_MEMBERS` members already. (code 504) */
public final class GroupMaxSizeReachedException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 504;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public GroupMaxSizeReachedException(String message) {
        super(CODE, message);
    }
}
