// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The request carried a stale leader epoch. (code 600) */
public final class FencedEpochException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 600;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public FencedEpochException(String message) {
        super(CODE, message);
    }
}
