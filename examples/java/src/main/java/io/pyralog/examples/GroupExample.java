package io.pyralog.examples;

import io.pyralog.ClientConfig;
import io.pyralog.Consumer;
import io.pyralog.ConsumerConfig;
import io.pyralog.ConsumerRebalanceListener;
import io.pyralog.LogPartition;
import io.pyralog.Producer;
import io.pyralog.PyralogClient;
import io.pyralog.Record;
import io.pyralog.RecordMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A consumer group: two members split a 4-partition log and commit what they read; the
 * group's committed offsets are printed at the end.
 *
 * <p>Run: {@code GroupExample [HOST:PORT] [CA_FILE]} against a running server.
 */
public final class GroupExample {
    private static final String LOG = "orders";
    private static final int PARTITIONS = 4;
    private static final int RECORDS = 200;
    /** Longest each phase (splitting the partitions, reading every record) may take. */
    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(200);
    /** How long a member's thread may take to finish its last poll and commit. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private GroupExample() {}

    /**
     * One member of the group, polling (and committing after every non-empty poll) on its own
     * thread: a rebalance waits for every member to rejoin, so the members must poll at the
     * same time. Its listener prints the rebalances and keeps the member's partitions.
     */
    private static final class Member implements ConsumerRebalanceListener, AutoCloseable {
        private final String name;
        private final Consumer consumer;
        private final SortedSet<Integer> owned = new TreeSet<>();
        private final List<Record> received = new ArrayList<>();
        private Thread thread;
        private volatile boolean stop;
        private volatile RuntimeException failure;

        private Member(String name, Consumer consumer) {
            this.name = name;
            this.consumer = consumer;
        }

        /** Joins {@code group} for {@link #LOG} and starts polling. */
        static Member start(String name, PyralogClient client, String group) {
            Member m = new Member(name, client.consumer(ConsumerConfig.builder().groupId(group).build()));
            try {
                m.consumer.subscribe(List.of(LOG), m);
            } catch (RuntimeException e) {
                m.consumer.close();
                throw e;
            }
            m.thread = new Thread(m::pollUntilStopped, "member-" + name);
            m.thread.start();
            return m;
        }

        private void pollUntilStopped() {
            try {
                while (!stop) {
                    List<Record> records = consumer.poll(POLL);
                    if (!records.isEmpty()) {
                        synchronized (this) {
                            received.addAll(records);
                        }
                        consumer.commitSync();
                    }
                }
            } catch (RuntimeException e) {
                failure = e;
            }
        }

        @Override
        public synchronized void onPartitionsAssigned(Collection<LogPartition> partitions) {
            List<Integer> ids = partitions.stream().map(LogPartition::partition).sorted().toList();
            System.out.println("member " + name + " assigned " + ids);
            owned.addAll(ids);
        }

        @Override
        public synchronized void onPartitionsRevoked(Collection<LogPartition> partitions) {
            List<Integer> ids = partitions.stream().map(LogPartition::partition).sorted().toList();
            System.out.println("member " + name + " revoked " + ids);
            owned.removeAll(ids);
        }

        synchronized SortedSet<Integer> owned() {
            return new TreeSet<>(owned);
        }

        synchronized List<Record> received() {
            return List.copyOf(received);
        }

        /** Rethrows what stopped the member's thread, if anything did. */
        void check() {
            RuntimeException e = failure;
            if (e != null) {
                throw new IllegalStateException("member " + name + " failed: " + e, e);
            }
        }

        /**
         * Ends the polling thread after its current poll; the consumer stays in the group
         * until {@link #close}.
         */
        void stop() throws InterruptedException {
            stop = true;
            thread.join(STOP_TIMEOUT.toMillis());
            if (thread.isAlive()) {
                throw new IllegalStateException("member " + name + " did not stop within " + STOP_TIMEOUT);
            }
            check();
        }

        /** Stops polling and closes the consumer, which leaves the group. */
        @Override
        public void close() {
            stop = true;
            try {
                thread.join(STOP_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                consumer.close();
            }
        }
    }

    /**
     * @param args optional {@code HOST:PORT} (default 127.0.0.1:9092) and {@code CA_FILE}
     *     (default pyralog-data/tls/ca.pem)
     */
    public static void main(String[] args) {
        String addr = args.length > 0 ? args[0] : "127.0.0.1:9092";
        String caFile = args.length > 1 ? args[1] : "pyralog-data/tls/ca.pem";
        try {
            run(addr, caFile);
        } catch (CompletionException e) {
            fail(e.getCause() != null ? e.getCause() : e);
        } catch (RuntimeException e) {
            fail(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
        }
    }

    private static void fail(Throwable e) {
        System.err.println("group: " + e);
        System.exit(1);
    }

    private static void run(String addr, String caFile) throws InterruptedException {
        try (PyralogClient client = PyralogClient.connect(addr, ClientConfig.builder().caFile(caFile).build())) {
            if (client.logExists(LOG)) {
                client.deleteLog(LOG);
            }
            client.createLog(LOG, PARTITIONS);

            // A group id of its own per run, so a re-run starts with nothing committed.
            String group = "billing-" + System.currentTimeMillis();
            try (Member a = Member.start("a", client, group); Member b = Member.start("b", client, group)) {
                waitFor("each member to own 2 partitions", a, b,
                    () -> a.owned().size() == PARTITIONS / 2 && b.owned().size() == PARTITIONS / 2);

                try (Producer producer = client.producer()) {
                    List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>(RECORDS);
                    for (int i = 0; i < RECORDS; i++) {
                        sent.add(producer.send(LOG, Record.of("order-" + i).withKey("customer-" + i % 20)));
                    }
                    producer.flush();
                    sent.forEach(CompletableFuture::join);
                }
                waitFor("every record to arrive", a, b,
                    () -> a.received().size() + b.received().size() >= RECORDS);
                a.stop();
                b.stop();

                for (Member m : List.of(a, b)) {
                    System.out.println("member " + m.name + " read " + m.received().size()
                        + " records from partitions " + m.owned());
                }
                check(a, b);

                List<LogPartition> partitions = new ArrayList<>();
                for (int p = 0; p < PARTITIONS; p++) {
                    partitions.add(new LogPartition(LOG, p));
                }
                for (Map.Entry<LogPartition, Long> e : a.consumer.committed(partitions).entrySet()) {
                    System.out.println("committed " + e.getKey().log() + "/" + e.getKey().partition() + ": " + e.getValue());
                }
            }
        }
    }

    /** Fails unless the members' partitions split the log and every record arrived exactly once. */
    private static void check(Member a, Member b) {
        Set<Integer> shared = new TreeSet<>(a.owned());
        shared.retainAll(b.owned());
        Set<Integer> all = new TreeSet<>(a.owned());
        all.addAll(b.owned());
        List<Record> records = new ArrayList<>(a.received());
        records.addAll(b.received());
        Set<String> distinct = new HashSet<>();
        records.forEach(r -> distinct.add(r.partition() + "/" + r.offset()));
        if (!shared.isEmpty() || all.size() != PARTITIONS || records.size() != RECORDS
                || distinct.size() != RECORDS) {
            throw new IllegalStateException("the members did not split the log: partitions " + a.owned() + " and "
                + b.owned() + ", " + records.size() + " deliveries, " + distinct.size() + " distinct");
        }
    }

    private static void waitFor(String what, Member a, Member b, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
        while (!done.getAsBoolean()) {
            a.check();
            b.check();
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + PHASE_TIMEOUT.toSeconds() + " s waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }
}
