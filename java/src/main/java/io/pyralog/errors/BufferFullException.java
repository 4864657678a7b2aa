// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A local buffer limit was reached. (code 904) */
public final class BufferFullException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 904;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public BufferFullException(String message) {
        super(CODE, message);
    }
}
