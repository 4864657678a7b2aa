package io.pyralog;

import io.pyralog.errors.ErrorCodes;

/**
 * Base of every exception the SDK throws: a stable error code and a message that says what
 * to do. Each code has its subclass in {@code io.pyralog.errors} ({@code
 * LogNotFoundException}, {@code InvalidLogIdException}, ...).
 */
public class PyralogException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;

    /**
     * Creates an exception.
     *
     * @param code the stable error code
     * @param message what happened and what to do
     */
    protected PyralogException(int code, String message) {
        super(message);
        this.code = code;
    }

    /**
     * The typed exception of a code; called by the native library.
     *
     * @param code the stable error code
     * @param message what happened
     * @return the exception to throw
     */
    public static PyralogException create(int code, String message) {
        return ErrorCodes.create(code, message);
    }

    /** @return the stable error code (the numbers of the wire protocol) */
    public int code() {
        return code;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + code + "): " + getMessage();
    }
}
