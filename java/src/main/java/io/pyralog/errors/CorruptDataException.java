// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.BatchLocation;
import io.pyralog.PyralogException;
import java.util.Optional;

/**
 * Stored data failed its checksum inside a sealed segment. (code 305)
 *
 * <p>Raised for fetched data, it names the batch that cannot be decoded in
 * {@link #corruptBatch()} (its log, partition, first and last offset), empty when it names
 * none. Every record before that batch was delivered; to skip the batch (after deciding its
 * records are lost: a replica may still hold them intact), seek the partition to
 * {@code lastOffset + 1}.
 */
public final class CorruptDataException extends PyralogException {
    private static final long serialVersionUID = 1L;

    /** The error code of this exception. */
    public static final int CODE = 305;

    /** Where the batch that cannot be decoded lies; null when the error names none. */
    private final BatchLocation corruptBatch;

    /**
     * Creates the exception.
     *
     * @param message what happened and what to do
     */
    public CorruptDataException(String message) {
        this(message, null);
    }

    /**
     * Creates the exception naming the batch that cannot be decoded.
     *
     * @param message what happened and what to do
     * @param corruptBatch where the batch lies, or null
     */
    public CorruptDataException(String message, BatchLocation corruptBatch) {
        super(CODE, message);
        this.corruptBatch = corruptBatch;
    }

    /**
     * Where the batch that cannot be decoded lies: every record before it was delivered; seek
     * its partition to {@code lastOffset() + 1} to skip it.
     *
     * @return its log, partition and offsets, or empty when the error names no batch
     */
    public Optional<BatchLocation> corruptBatch() {
        return Optional.ofNullable(corruptBatch);
    }
}
