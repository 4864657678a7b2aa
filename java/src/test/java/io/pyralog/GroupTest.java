package io.pyralog;

import static io.pyralog.TestServer.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Conformance scenarios 9 and 10: consumer groups and commits. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GroupTest extends ServerTest {
    static void waitFor(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** A member polling on its own thread; its listener tracks what it owns. */
    static final class Member implements ConsumerRebalanceListener {
        final Consumer consumer;
        final Set<Integer> owned = Collections.synchronizedSet(new HashSet<>());
        final List<String> delivered = Collections.synchronizedList(new ArrayList<>());
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        volatile boolean stop;
        final Thread thread;

        Member(String log, String group) {
            consumer = client.consumer(ConsumerConfig.builder().groupId(group).sessionTimeout(Duration.ofSeconds(6))
                .heartbeatInterval(Duration.ofMillis(500)).build());
            consumer.subscribe(List.of(log), this);
            thread = new Thread(() -> {
                while (!stop) {
                    List<Record> recs = consumer.poll(Duration.ofMillis(200));
                    recs.forEach(r -> delivered.add(r.partition() + "/" + r.offset()));
                    if (!recs.isEmpty()) {
                        consumer.commitSync();
                    }
                }
            });
            thread.start();
        }

        @Override
        public void onPartitionsAssigned(Collection<LogPartition> partitions) {
            events.add("assign");
            partitions.forEach(p -> owned.add(p.partition()));
        }

        @Override
        public void onPartitionsRevoked(Collection<LogPartition> partitions) {
            events.add("revoke");
            partitions.forEach(p -> owned.remove(p.partition()));
        }

        void close() throws InterruptedException {
            stop = true;
            thread.join(10_000);
            consumer.close();
        }
    }

    @Test
    void scenario9TwoMembersSplitThenOneOwnsAll() throws Exception {
        String log = unique("jconf-9");
        String group = unique("jg9");
        client.createLog(log, 4);
        for (int i = 0; i < 200; i++) {
            client.produce(log, Record.of("v" + i).withKey("k" + i));
        }
        Member a = new Member(log, group);
        Member b = new Member(log, group);
        waitFor("a 2/2 split and every record", () -> a.owned.size() == 2 && b.owned.size() == 2
            && a.delivered.size() + b.delivered.size() >= 200);
        Set<Integer> union = new HashSet<>(a.owned);
        union.addAll(b.owned);
        assertEquals(Set.of(0, 1, 2, 3), union);
        b.close();
        waitFor("a owns all 4", () -> a.owned.size() == 4);
        List<String> all = new ArrayList<>(a.delivered);
        all.addAll(b.delivered);
        assertEquals(200, all.size());
        assertEquals(200, new HashSet<>(all).size());
        assertTrue(a.events.contains("revoke") || b.events.contains("revoke"));
        a.close();
        for (int i = 200; i < 210; i++) {
            client.produce(log, Record.of("v" + i).withKey("k" + i));
        }
        List<String> late = new ArrayList<>();
        try (Consumer c = client.consumer(ConsumerConfig.builder().groupId(group).build())) {
            c.subscribe(List.of(log), null);
            waitFor("the late member's records", () -> {
                c.poll(Duration.ofMillis(200)).forEach(r -> late.add(new String(r.value(), StandardCharsets.UTF_8)));
                return late.size() >= 10;
            });
        }
        Collections.sort(late);
        assertEquals(10, late.size());
        assertEquals("v200", late.get(0));
    }

    @Test
    void scenario10CommitThenCommittedAndResumeThere() throws Exception {
        String log = unique("jconf-10");
        String group = unique("jg10");
        client.createLog(log, 1);
        for (int i = 0; i < 20; i++) {
            client.produce(log, Record.of("v" + i));
        }
        LogPartition lp = new LogPartition(log, 0);
        try (Consumer c = client.consumer(ConsumerConfig.builder().groupId(group).enableAutoCommit(false).build())) {
            c.subscribe(List.of(log), null);
            waitFor("the assignment", () -> {
                c.poll(Duration.ofMillis(200));
                return !c.assignment().isEmpty();
            });
            c.seek(lp, 12);
            c.commitSync();
            assertEquals(Map.of(lp, 12L), c.committed(List.of()));
        }
        List<Long> offsets = new ArrayList<>();
        try (Consumer c = client.consumer(ConsumerConfig.builder().groupId(group).build())) {
            c.subscribe(List.of(log), null);
            waitFor("records from the commit", () -> {
                c.poll(Duration.ofMillis(200)).forEach(r -> offsets.add(r.offset()));
                return offsets.size() >= 8;
            });
        }
        assertEquals(12L, offsets.get(0));
        assertEquals(8, offsets.size());
    }
}
