// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** Stored data failed its checksum inside a sealed segment. (code 305) */
public final class CorruptDataException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 305;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public CorruptDataException(String message) {
        super(CODE, message);
    }
}
