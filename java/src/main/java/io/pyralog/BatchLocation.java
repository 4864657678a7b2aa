package io.pyralog;

import java.io.Serializable;

/**
 * A stored batch that cannot be decoded, as {@code CorruptDataException.corruptBatch()} names
 * it: records {@code firstOffset} to {@code lastOffset} of {@code log}/{@code partition}. Every
 * record before them was delivered; seek the partition to {@code lastOffset + 1} to skip them
 * (after deciding they are lost: a replica may still hold them intact).
 *
 * @param log the log
 * @param partition the partition number
 * @param firstOffset the batch's first offset (the first record not delivered)
 * @param lastOffset the batch's last offset
 */
public record BatchLocation(String log, int partition, long firstOffset, long lastOffset) implements Serializable {
    /** @return the batch's partition, to {@link Consumer#seek} it past the batch */
    public LogPartition logPartition() {
        return new LogPartition(log, partition);
    }
}
