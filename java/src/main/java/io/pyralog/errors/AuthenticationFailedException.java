// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The connection has no accepted identity: no credentials, a wrong or revoked token, or a client certificate the server does not accept. (code 700) */
public final class AuthenticationFailedException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 700;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public AuthenticationFailedException(String message) {
        super(CODE, message);
    }
}
