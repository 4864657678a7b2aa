// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The node is starting (recovering its replicas, joining the cluster): it serves requests within seconds; retry shortly. (code 108) */
public final class NodeStartingException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 108;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public NodeStartingException(String message) {
        super(CODE, message);
    }
}
