// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The log has no partition with that number. (code 206) */
public final class PartitionNotFoundException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 206;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public PartitionNotFoundException(String message) {
        super(CODE, message);
    }
}
