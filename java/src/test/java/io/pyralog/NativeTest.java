package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyralog.errors.ConcurrentCallException;
import io.pyralog.errors.ErrorCodes;
import io.pyralog.internal.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Native memory, handle reclamation, error codes and the one-caller rule. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class NativeTest extends ServerTest {
    /** Send/poll cycles of the memory test. */
    static final int CYCLES = 100_000;
    /** RSS may grow at most this much between the warm-up and the end. */
    static final long RSS_GROWTH_LIMIT_KB = 64 * 1024;

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }

    @Test
    void rssStaysBoundedOver100000SendPollCycles() throws Exception {
        String log = unique("jmem");
        client.createLog(log, 1);
        long warm = 0;
        try (Producer p = client.producer(ProducerConfig.builder().linger(Duration.ZERO).build());
                Consumer c = client.consumer(ConsumerConfig.builder().build())) {
            c.assign(List.of(new LogPartition(log, 0)));
            int read = 0;
            for (int i = 0; i < CYCLES; i++) {
                p.send(log, Record.of(new byte[100]).withKey("k"));
                if (i % 100 == 99) {
                    p.flush();
                    while (read < i + 1) {
                        read += c.poll(Duration.ofSeconds(5)).size();
                    }
                }
                if (i == CYCLES / 10) {
                    System.gc();
                    warm = rssKb();
                }
            }
            assertEquals(CYCLES, read);
        }
        System.gc();
        long end = rssKb();
        assertTrue(end - warm < RSS_GROWTH_LIMIT_KB, "RSS grew from " + warm + " kB to " + end + " kB");
    }

    @Test
    void anUnclosedClientIsReclaimedByItsCleaner() throws Exception {
        long before = Native.liveClients();
        makeAndDrop();
        assertEquals(before + 1, Native.liveClients());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Native.liveClients() > before && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertEquals(before, Native.liveClients());
    }

    private static void makeAndDrop() {
        PyralogClient c = server.client();
        c.listLogs();
    }

    @Test
    void errorCodesMatchTheLibrary() {
        assertArrayEquals(Native.errorCodes(), ErrorCodes.ALL);
        for (int code : ErrorCodes.ALL) {
            PyralogException e = PyralogException.create(code, "m");
            assertEquals(code, e.code());
            assertTrue(e.getClass().getSimpleName().endsWith("Exception"));
        }
    }

    @Test
    void aListenerCallingItsConsumerGetsConcurrentCallNotADeadlock() throws Exception {
        String log = unique("jbusy");
        client.createLog(log, 1);
        AtomicReference<RuntimeException> inner = new AtomicReference<>();
        try (Consumer c = client.consumer(ConsumerConfig.builder().groupId(unique("jbusy")).build())) {
            c.subscribe(List.of(log), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(java.util.Collection<LogPartition> partitions) {
                    try {
                        c.poll(Duration.ofMillis(1));
                    } catch (RuntimeException e) {
                        inner.set(e);
                    }
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (inner.get() == null && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200));
            }
        }
        assertTrue(inner.get() instanceof ConcurrentCallException, String.valueOf(inner.get()));
    }

    @Test
    void anExceptionInAListenerIsRethrownFromPoll() {
        String log = unique("jthrow");
        client.createLog(log, 1);
        try (Consumer c = client.consumer(ConsumerConfig.builder().groupId(unique("jthrow")).build())) {
            c.subscribe(List.of(log), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsAssigned(java.util.Collection<LogPartition> partitions) {
                    throw new IllegalStateException("from the listener");
                }
            });
            assertThrows(IllegalStateException.class, () -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < deadline) {
                    c.poll(Duration.ofMillis(200));
                }
            });
        }
    }
}
