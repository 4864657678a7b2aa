// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A log setting is out of range. (code 204) */
public final class InvalidConfigException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 204;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public InvalidConfigException(String message) {
        super(CODE, message);
    }
}
