// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The metadata quorum is unreachable from this node; admin changes are refused until a majority of the voters can be reached. (code 603) */
public final class QuorumUnavailableException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 603;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public QuorumUnavailableException(String message) {
        super(CODE, message);
    }
}
