package io.pyralog;

import io.pyralog.internal.Codec;
import io.pyralog.internal.Codec.Partitions;
import io.pyralog.internal.Native;
import io.pyralog.internal.NativeHandle;
import io.pyralog.internal.RebalanceBridge;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Reads assigned partitions ({@link #assign}) or a group's share of logs ({@link
 * #subscribe}). Serves one caller at a time: a call made while another runs (another
 * thread, or its own rebalance listener) throws {@code ConcurrentCallException} instead of waiting.
 * Close it to leave the group.
 */
public final class Consumer implements AutoCloseable {
    private final NativeHandle handle;
    private volatile RebalanceBridge bridge = new RebalanceBridge(null);

    Consumer(long h) {
        this.handle = new NativeHandle(this, h, Native::consumerFree);
    }

    /**
     * Joins the consumer's group for {@code logs}; the group assigns partitions inside
     * {@link #poll}, which calls {@code listener}.
     *
     * @param logs the logs
     * @param listener hears of assignment changes (may be null)
     */
    public void subscribe(Collection<String> logs, ConsumerRebalanceListener listener) {
        RebalanceBridge b = new RebalanceBridge(listener);
        handle.run(h -> Native.consumerSubscribe(h, logs.toArray(new String[0]), b));
        bridge = b;
    }

    /**
     * Reads exactly these partitions (no group).
     *
     * @param partitions the partitions
     */
    public void assign(Collection<LogPartition> partitions) {
        Partitions p = Partitions.of(partitions);
        handle.run(h -> Native.consumerAssign(h, p.logs(), p.partitions()));
    }

    /** @return the partitions read now */
    public List<LogPartition> assignment() {
        return new ArrayList<>(Codec.offsets(handle.call(Native::consumerAssignment)).keySet());
    }

    /**
     * The next records, or none after {@code timeout}.
     *
     * @param timeout how long to wait for records
     * @return the records, in order per partition
     * @throws io.pyralog.errors.CorruptDataException at a stored batch that cannot be decoded,
     *     once the records before it were returned, on every poll until {@link #seek} moves its
     *     partition to {@code corruptBatch().lastOffset() + 1}
     */
    public List<Record> poll(Duration timeout) {
        RebalanceBridge b = bridge;
        byte[] raw = handle.call(h -> Native.consumerPoll(h, timeout.toMillis()));
        b.rethrow();
        return Codec.records(raw);
    }

    private void position(Collection<LogPartition> partitions, int op, long offset) {
        Partitions p = Partitions.of(partitions);
        handle.run(h -> Native.consumerPosition(h, p.logs(), p.partitions(), op, offset));
    }

    /**
     * The next poll reads {@code partition} from {@code offset}.
     *
     * @param partition an assigned partition
     * @param offset the offset
     */
    public void seek(LogPartition partition, long offset) {
        position(List.of(partition), Native.SEEK, offset);
    }

    /** @param partitions where to read from the log start (empty: the assignment) */
    public void seekToBeginning(Collection<LogPartition> partitions) {
        position(partitions, Native.BEGINNING, 0);
    }

    /** @param partitions where to read only what comes next (empty: the assignment) */
    public void seekToEnd(Collection<LogPartition> partitions) {
        position(partitions, Native.END, 0);
    }

    /**
     * Reads from the first record at or after {@code timestampMs}.
     *
     * @param partitions the partitions (empty: the assignment)
     * @param timestampMs ms since the Unix epoch
     */
    public void seekToTimestamp(Collection<LogPartition> partitions, long timestampMs) {
        position(partitions, Native.TIMESTAMP, timestampMs);
    }

    /** @param partitions stop fetching these until {@link #resume} */
    public void pause(Collection<LogPartition> partitions) {
        position(partitions, Native.PAUSE_PARTITIONS, 0);
    }

    /** @param partitions fetch these again */
    public void resume(Collection<LogPartition> partitions) {
        position(partitions, Native.RESUME_PARTITIONS, 0);
    }

    /**
     * @param partition an assigned partition
     * @return the offset of the next record {@link #poll} returns for it
     */
    public long position(LogPartition partition) {
        return handle.call(h -> Native.consumerNextOffset(h, partition.log(), partition.partition()));
    }

    /** Commits the positions for the group and waits. */
    public void commitSync() {
        commitSync(Map.of());
    }

    /**
     * Commits these next offsets for the group and waits.
     *
     * @param offsets partition to the next offset to read
     */
    public void commitSync(Map<LogPartition, Long> offsets) {
        Partitions p = Partitions.of(offsets.keySet());
        long[] values = new long[p.logs().length];
        int i = 0;
        for (LogPartition lp : offsets.keySet()) {
            values[i++] = offsets.get(lp);
        }
        handle.run(h -> Native.consumerCommit(h, p.logs(), p.partitions(), values, true));
    }

    /**
     * Starts committing the positions without waiting; a failure shows in the next commit.
     *
     * @return completes once the commit is under way
     */
    public CompletableFuture<Void> commitAsync() {
        try {
            handle.run(h -> Native.consumerCommit(h, new String[0], new int[0], new long[0], false));
            return CompletableFuture.completedFuture(null);
        } catch (PyralogException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * @param partitions the partitions (empty: the assignment)
     * @return the group's committed offsets
     */
    public Map<LogPartition, Long> committed(Collection<LogPartition> partitions) {
        Partitions p = Partitions.of(partitions);
        return Codec.offsets(handle.call(h -> Native.consumerCommitted(h, p.logs(), p.partitions())));
    }

    /** Leaves the group (committing first with auto-commit) and frees the consumer; idempotent. */
    @Override
    public void close() {
        if (handle.isFreed()) {
            return;
        }
        try {
            handle.run(Native::consumerClose);
        } catch (io.pyralog.errors.ClosedException alreadyClosed) {
            return;
        }
        handle.close();
    }
}
