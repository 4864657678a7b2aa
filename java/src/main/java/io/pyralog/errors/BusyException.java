// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A connection or waiting-room limit of the server was reached; retry later. (code 104) */
public final class BusyException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 104;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public BusyException(String message) {
        super(CODE, message);
    }
}
