// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** A batch's checksum does not match its bytes. (code 302) */
public final class CorruptBatchException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 302;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public CorruptBatchException(String message) {
        super(CODE, message);
    }
}
