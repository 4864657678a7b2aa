// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The server's disk is full: nothing was written. Writes resume once space is freed; reads go on. (code 107) */
public final class StorageFullException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 107;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public StorageFullException(String message) {
        super(CODE, message);
    }
}
