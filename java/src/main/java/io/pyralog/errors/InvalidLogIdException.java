// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The log name breaks the naming rules (the message names the bad character). (code 202) */
public final class InvalidLogIdException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 202;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidLogIdException(String message) {
        super(CODE, message);
    }
}
