package io.pyralog.internal;

import java.lang.ref.Cleaner;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * A native handle freed exactly once: by {@link #close()} or, if its owner is dropped
 * unclosed, by the shared {@link Cleaner} (no finalizers). Calls hold it shared while they
 * use the handle ({@link #call}), so it is never freed during one.
 */
public final class NativeHandle implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    /** The state the cleaner frees; it must not refer to the owner. */
    private static final class State implements Runnable {
        private long handle;
        private final LongConsumer free;

        State(long handle, LongConsumer free) {
            this.handle = handle;
            this.free = free;
        }

        @Override
        public synchronized void run() {
            if (handle != 0) {
                long h = handle;
                handle = 0;
                free.accept(h);
            }
        }

        synchronized long get() {
            return handle;
        }
    }

    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    /**
     * Registers {@code handle} to be freed with {@code free} when {@code owner} is closed or
     * becomes unreachable.
     *
     * @param owner the object whose lifetime bounds the handle
     * @param handle the native handle
     * @param free frees it
     */
    public NativeHandle(Object owner, long handle, LongConsumer free) {
        this.state = new State(handle, free);
        this.cleanable = CLEANER.register(owner, state);
    }

    /**
     * Runs {@code f} with the live handle; it is not freed meanwhile.
     *
     * @param f the call
     * @param <T> its result
     * @return its result
     * @throws io.pyralog.errors.ClosedException once freed
     */
    public <T> T call(LongFunction<T> f) {
        lock.readLock().lock();
        try {
            long h = state.get();
            if (h == 0) {
                throw new io.pyralog.errors.ClosedException("already closed");
            }
            return f.apply(h);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Runs {@code f} with the live handle; it is not freed meanwhile.
     *
     * @param f the call
     * @throws io.pyralog.errors.ClosedException once freed
     */
    public void run(LongConsumer f) {
        call(h -> {
            f.accept(h);
            return null;
        });
    }

    /** @return true once freed */
    public boolean isFreed() {
        return state.get() == 0;
    }

    /** Frees the handle now, after the calls using it end; idempotent. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            cleanable.clean();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
