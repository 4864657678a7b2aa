// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** TLS setup or certificate verification failed. (code 901) */
public final class TlsErrorException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 901;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public TlsErrorException(String message) {
        super(CODE, message);
    }
}
