package io.pyralog;

import io.pyralog.errors.CorruptDataException;
import io.pyralog.errors.ErrorCodes;
import java.time.Duration;
import java.util.Optional;

/**
 * Base of every exception the SDK throws: a stable error code and a message that says what
 * to do. Each code has its subclass in {@code io.pyralog.errors} ({@code
 * LogNotFoundException}, {@code InvalidLogIdException}, ...). When the server asked to wait
 * before a retry ({@code ThrottledException}: the principal is over a quota), {@link
 * #retryAfter()} says how long. A {@link CorruptDataException} raised for fetched data names
 * the batch that cannot be decoded ({@link CorruptDataException#corruptBatch()}).
 */
public class PyralogException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    /** The server's advised wait in milliseconds, 0 for none; set once, by {@link #create}. */
    private long retryAfterMs;

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
     * The typed exception of a code.
     *
     * @param code the stable error code
     * @param message what happened
     * @return the exception to throw
     */
    public static PyralogException create(int code, String message) {
        return ErrorCodes.create(code, message);
    }

    /**
     * The typed exception of a code, with the server's advice on when to retry; called by the
     * native library.
     *
     * @param code the stable error code
     * @param message what happened
     * @param retryAfterMs how long the server asked to wait before a retry, in milliseconds;
     *     0 (or less) for no advice
     * @return the exception to throw
     */
    public static PyralogException create(int code, String message, long retryAfterMs) {
        return create(code, message, retryAfterMs, null);
    }

    /**
     * The typed exception of a code, with the server's advice on when to retry and, for a
     * {@link CorruptDataException} raised for fetched data, where the batch that cannot be
     * decoded lies; called by the native library.
     *
     * @param code the stable error code
     * @param message what happened
     * @param retryAfterMs how long the server asked to wait before a retry, in milliseconds;
     *     0 (or less) for no advice
     * @param corruptBatch where the batch of a {@code CorruptDataException} lies; null for none
     * @return the exception to throw
     */
    public static PyralogException create(int code, String message, long retryAfterMs, BatchLocation corruptBatch) {
        PyralogException e = corruptBatch != null && code == CorruptDataException.CODE
            ? new CorruptDataException(message, corruptBatch)
            : ErrorCodes.create(code, message);
        e.retryAfterMs = Math.max(0, retryAfterMs);
        return e;
    }

    /** @return the stable error code (the numbers of the wire protocol) */
    public int code() {
        return code;
    }

    /**
     * How long the server asked to wait before retrying: set on {@code ThrottledException} (the
     * principal is over its connection or request-rate quota), empty when the server gave no
     * advice. Producers already wait this long between their own retries.
     *
     * @return the advised wait, or empty
     */
    public Optional<Duration> retryAfter() {
        return retryAfterMs > 0 ? Optional.of(Duration.ofMillis(retryAfterMs)) : Optional.empty();
    }

    @Override
    public String toString() {
        String s = getClass().getSimpleName() + "(" + code + "): " + getMessage();
        return retryAfterMs > 0 ? s + " (retry after " + retryAfterMs + " ms)" : s;
    }
}
