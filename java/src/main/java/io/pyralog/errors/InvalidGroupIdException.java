// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The group name breaks the naming rules of log names. (code 505) */
public final class InvalidGroupIdException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 505;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidGroupIdException(String message) {
        super(CODE, message);
    }
}
