// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** Another process joined with the same static instance id. (code 508) */
public final class FencedInstanceIdException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 508;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public FencedInstanceIdException(String message) {
        super(CODE, message);
    }
}
