// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The consumer is running another call (an unawaited poll, or a rebalance callback calling its own consumer): it serves one caller at a time. (code 906) */
public final class ConcurrentCallException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 906;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public ConcurrentCallException(String message) {
        super(CODE, message);
    }
}
