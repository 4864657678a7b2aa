// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** An I/O error in the server's storage; nothing was acknowledged. (code 106) */
public final class StorageErrorException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 106;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public StorageErrorException(String message) {
        super(CODE, message);
    }
}
