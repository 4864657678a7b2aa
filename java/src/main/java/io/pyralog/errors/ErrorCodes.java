// Generated from pyralog::ErrorCode; ErrorCodesTest keeps it in step with the native library.
package io.pyralog.errors;

import io.pyralog.PyralogException;

/** The typed exception of each error code. */
public final class ErrorCodes {
    private ErrorCodes() {}

    /** Every code this version knows, in numeric order. */
    public static final int[] ALL = {100, 101, 102, 103, 104, 105, 106, 107, 108, 200, 201, 202, 203, 204, 205, 206, 207, 208, 300, 301, 302, 303, 304, 305, 400, 401, 402, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 510, 600, 601, 602, 603, 700, 701, 702, 900, 901, 902, 903, 904, 905, 906};

    /**
     * The exception for {@code code}.
     *
     * @param code a stable error code
     * @param message what happened and what to do
     * @return its typed exception ({@link UnknownException} for an unknown code)
     */
    public static PyralogException create(int code, String message) {
        return switch (code) {
            case 100 -> new UnknownException(message);
            case 101 -> new InvalidRequestException(message);
            case 102 -> new RequestTooLargeException(message);
            case 103 -> new TimeoutException(message);
            case 104 -> new BusyException(message);
            case 105 -> new ShuttingDownException(message);
            case 106 -> new StorageErrorException(message);
            case 107 -> new StorageFullException(message);
            case 108 -> new NodeStartingException(message);
            case 200 -> new LogNotFoundException(message);
            case 201 -> new LogAlreadyExistsException(message);
            case 202 -> new InvalidLogIdException(message);
            case 203 -> new LogPausedException(message);
            case 204 -> new InvalidConfigException(message);
            case 205 -> new InvalidPartitionsException(message);
            case 206 -> new PartitionNotFoundException(message);
            case 207 -> new ReservedLogNameException(message);
            case 208 -> new LogDeletingException(message);
            case 300 -> new RecordTooLargeException(message);
            case 301 -> new BatchTooLargeException(message);
            case 302 -> new CorruptBatchException(message);
            case 303 -> new InvalidBatchException(message);
            case 304 -> new OffsetOutOfRangeException(message);
            case 305 -> new CorruptDataException(message);
            case 400 -> new OutOfOrderSequenceException(message);
            case 401 -> new ProducerFencedException(message);
            case 402 -> new UnknownProducerException(message);
            case 500 -> new UnknownMemberIdException(message);
            case 501 -> new IllegalGenerationException(message);
            case 502 -> new RebalanceInProgressException(message);
            case 503 -> new InconsistentGroupProtocolException(message);
            case 504 -> new GroupMaxSizeReachedException(message);
            case 505 -> new InvalidGroupIdException(message);
            case 506 -> new InvalidSessionTimeoutException(message);
            case 507 -> new GroupNotEmptyException(message);
            case 508 -> new FencedInstanceIdException(message);
            case 509 -> new GroupNotFoundException(message);
            case 510 -> new NotCoordinatorException(message);
            case 600 -> new FencedEpochException(message);
            case 601 -> new NotLeaderException(message);
            case 602 -> new NotEnoughReplicasException(message);
            case 603 -> new QuorumUnavailableException(message);
            case 700 -> new AuthenticationFailedException(message);
            case 701 -> new NotAuthorizedException(message);
            case 702 -> new ThrottledException(message);
            case 900 -> new ConnectionFailedException(message);
            case 901 -> new TlsErrorException(message);
            case 902 -> new ClosedException(message);
            case 903 -> new InvalidArgumentException(message);
            case 904 -> new BufferFullException(message);
            case 905 -> new CancelledException(message);
            case 906 -> new ConcurrentCallException(message);
            default -> new UnknownException("code " + code + ": " + message);
        };
    }
}
