package io.pyralog;

import io.pyralog.internal.Codec;
import io.pyralog.internal.Native;
import io.pyralog.internal.NativeHandle;
import io.pyralog.errors.ErrorCodes;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Batches records per partition and sends them with retries that never duplicate or
 * reorder (idempotence). {@link #send} returns at once with a future; it blocks only while
 * the buffer is full (up to {@code maxBlock}). Futures complete on the producer's delivery
 * thread (one per producer), never on a native thread: keep their callbacks short or use
 * the async variants of {@link CompletableFuture}. Thread-safe; close it.
 */
public final class Producer implements AutoCloseable {
    /** Reports taken per native call. */
    private static final int REPORTS_PER_CALL = 4096;
    /** How long one native call waits for the first report. */
    private static final long REPORT_WAIT_MS = 100;
    /** How often {@link #flush} looks whether the last futures completed. */
    private static final long FLUSH_POLL_NANOS = 50_000;

    private final NativeHandle handle;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final Thread delivery;

    private record Pending(String log, CompletableFuture<RecordMetadata> future) {}

    /** A log name with its UTF-8 bytes, converted once per log rather than per record. */
    private record LogName(String name, byte[] utf8) {}

    /** The log sent to last (immutable, so a racing sender sees a consistent pair). */
    private volatile LogName lastLog = new LogName("", new byte[0]);

    Producer(long h) {
        this.handle = new NativeHandle(this, h, Native::producerFree);
        this.delivery = new Thread(deliver(handle, pending), "pyralog-producer-delivery");
        delivery.setDaemon(true);
        delivery.start();
    }

    /**
     * Queues a record for {@code log}.
     *
     * @param log the log
     * @param record the record
     * @return completes with where it was written, or with its {@link PyralogException}
     * @throws io.pyralog.errors.ClosedException after {@link #close()}
     * @throws io.pyralog.errors.BufferFullException if no room came within {@code maxBlock}
     */
    public CompletableFuture<RecordMetadata> send(String log, Record record) {
        byte[] name = utf8(log);
        CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
        long token = tokens.getAndIncrement();
        pending.put(token, new Pending(log, future));
        try {
            handle.run(h -> Native.producerSend(h, name, record.key(), record.value(), Codec.headers(record.headers()),
                record.partition(), record.timestamp(), record.timestamp() != 0, token));
        } catch (RuntimeException e) {
            pending.remove(token);
            throw e;
        }
        return future;
    }

    private byte[] utf8(String log) {
        Objects.requireNonNull(log, "log");
        LogName last = lastLog;
        if (!last.name().equals(log)) {
            last = new LogName(log, log.getBytes(StandardCharsets.UTF_8));
            lastLog = last;
        }
        return last.utf8();
    }

    /** Waits until every record sent before it is acknowledged or failed and its future completed. */
    public void flush() {
        handle.run(Native::producerFlush);
        while (!pending.isEmpty() && delivery.isAlive()) {
            LockSupport.parkNanos(FLUSH_POLL_NANOS);
        }
    }

    private static Runnable deliver(NativeHandle handle, Map<Long, Pending> pending) {
        return () -> {
            long[] tokens = new long[REPORTS_PER_CALL];
            long[] offsets = new long[REPORTS_PER_CALL];
            long[] epochs = new long[REPORTS_PER_CALL];
            long[] timestamps = new long[REPORTS_PER_CALL];
            int[] partitions = new int[REPORTS_PER_CALL];
            int[] codes = new int[REPORTS_PER_CALL];
            String[] messages = new String[REPORTS_PER_CALL];
            long[] retryAfterMs = new long[REPORTS_PER_CALL];
            while (true) {
                int n;
                try {
                    n = handle.call(h -> Native.producerTakeReports(h, tokens, partitions, offsets, epochs, timestamps,
                        codes, messages, retryAfterMs, REPORT_WAIT_MS));
                } catch (io.pyralog.errors.ClosedException freed) {
                    n = -1;
                }
                if (n < 0) {
                    pending.values().forEach(p -> p.future.completeExceptionally(
                        ErrorCodes.create(902, "the producer was closed before this record was acknowledged")));
                    pending.clear();
                    return;
                }
                for (int i = 0; i < n; i++) {
                    Pending p = pending.get(tokens[i]);
                    if (p == null) {
                        continue;
                    }
                    if (codes[i] != 0) {
                        p.future.completeExceptionally(PyralogException.create(codes[i], messages[i], retryAfterMs[i]));
                        messages[i] = null;
                        codes[i] = 0;
                    } else {
                        p.future.complete(new RecordMetadata(p.log, partitions[i], offsets[i], epochs[i], timestamps[i]));
                    }
                    // Only now: flush returns once pending is empty, so every future
                    // (and what runs on its completion here) is done by then.
                    pending.remove(tokens[i]);
                }
            }
        };
    }

    /**
     * Flushes, completes the last futures and frees the producer. Idempotent; {@link #send}
     * afterwards throws {@code ClosedException}.
     */
    @Override
    public void close() {
        if (handle.isFreed()) {
            return;
        }
        try {
            handle.run(Native::producerClose);
        } catch (io.pyralog.errors.ClosedException alreadyClosed) {
            return;
        }
        try {
            delivery.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        handle.close();
    }
}
