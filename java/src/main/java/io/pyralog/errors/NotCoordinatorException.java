// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** This server does not coordinate the group (it moved); find the coordinator again and retry. (code 510) */
public final class NotCoordinatorException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 510;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public NotCoordinatorException(String message) {
        super(CODE, message);
    }
}
