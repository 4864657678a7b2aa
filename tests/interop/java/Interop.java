import io.pyralog.Acks;
import io.pyralog.ClientConfig;
import io.pyralog.Consumer;
import io.pyralog.ConsumerConfig;
import io.pyralog.ConsumerRebalanceListener;
import io.pyralog.Header;
import io.pyralog.LogPartition;
import io.pyralog.Producer;
import io.pyralog.ProducerConfig;
import io.pyralog.PyralogClient;
import io.pyralog.Record;
import io.pyralog.RecordMetadata;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;

/**
 * The Java program of the interop test: {@code produce}, {@code dump} and {@code member} as
 * {@code tests/interop/README.md} defines them. It only moves records between the text format
 * and the SDK; the driver makes every check.
 *
 * <p>Run: {@code java -cp pyralog-0.1.0.jar Interop.java produce|dump|member ...}
 */
public final class Interop {
    /** Records one {@code dump} read asks for. */
    private static final int DUMP_READ_MAX = 1_000;
    /** How long a member's poll waits. */
    private static final Duration MEMBER_POLL = Duration.ofMillis(200);
    /** A member gives up (exit 2) after this long. */
    private static final Duration MEMBER_GIVE_UP = Duration.ofSeconds(180);
    private static final HexFormat HEX = HexFormat.of();
    private static final String USAGE = "usage: Interop produce SERVER CA_FILE LOG IN_TSV OUT_TSV"
        + " | dump SERVER CA_FILE LOG OUT_TSV | member SERVER CA_FILE LOG GROUP STOP_FILE OUT_TSV";

    private Interop() {}

    /** @param args the command and its arguments */
    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (CompletionException e) {
            code = fail(e.getCause() != null ? e.getCause() : e);
        } catch (IOException | RuntimeException e) {
            code = fail(e);
        }
        System.exit(code);
    }

    private static int fail(Throwable e) {
        System.err.println("interop: " + e);
        return 1;
    }

    private static int run(String[] args) throws IOException {
        String command = args.length == 0 ? "" : args[0];
        if (command.equals("produce") && args.length == 6) {
            return produce(args[1], args[2], args[3], Path.of(args[4]), Path.of(args[5]));
        } else if (command.equals("dump") && args.length == 5) {
            return dump(args[1], args[2], args[3], Path.of(args[4]));
        } else if (command.equals("member") && args.length == 7) {
            return member(args[1], args[2], args[3], args[4], Path.of(args[5]), Path.of(args[6]));
        }
        throw new IllegalArgumentException(USAGE);
    }

    private static PyralogClient connect(String server, String caFile) {
        return PyralogClient.connect(
            ClientConfig.builder().bootstrapServers(server.split(",")).caFile(caFile).build());
    }

    /** Sends every record without waiting on each, flushes, then writes where each landed, in input order. */
    private static int produce(String server, String caFile, String log, Path input, Path output) throws IOException {
        List<Record> records = Tsv.readRecords(Files.readAllLines(input, StandardCharsets.UTF_8));
        try (PyralogClient client = connect(server, caFile); Producer producer = client.producer(ProducerConfig.builder().acks(Acks.ALL).build())) {
            List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>(records.size());
            for (Record r : records) {
                sent.add(producer.send(log, r));
            }
            producer.flush();
            try (BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
                for (CompletableFuture<RecordMetadata> delivery : sent) {
                    RecordMetadata md = delivery.join();
                    out.write(md.partition() + "\t" + md.offset() + "\n");
                }
            }
        }
        return 0;
    }

    /** Reads every partition from its start until a read returns nothing. */
    private static int dump(String server, String caFile, String log, Path output) throws IOException {
        try (PyralogClient client = connect(server, caFile);
                BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
            int partitions = client.getLogMetadata(log).partitionCount();
            for (int p = 0; p < partitions; p++) {
                long next = 0;
                while (true) {
                    List<Record> records = client.consumeFromPartition(log, p, next, DUMP_READ_MAX);
                    if (records.isEmpty()) {
                        break;
                    }
                    for (Record r : records) {
                        out.write(Tsv.dumpLine(r));
                        out.write('\n');
                    }
                    next = records.get(records.size() - 1).offset() + 1;
                }
            }
        }
        return 0;
    }

    /** The member's assignment as its listener saw it; prints it after each change. */
    private static final class Assignment implements ConsumerRebalanceListener {
        private final SortedSet<Integer> partitions = new TreeSet<>();

        private void change(Collection<LogPartition> changed, boolean add) {
            for (LogPartition lp : changed) {
                if (add) {
                    partitions.add(lp.partition());
                } else {
                    partitions.remove(lp.partition());
                }
            }
            String shown = partitions.isEmpty() ? "-"
                : partitions.stream().map(String::valueOf).collect(Collectors.joining(","));
            System.out.println("assignment " + shown);
            System.out.flush();
        }

        @Override
        public void onPartitionsAssigned(Collection<LogPartition> changed) {
            change(changed, true);
        }

        @Override
        public void onPartitionsRevoked(Collection<LogPartition> changed) {
            change(changed, false);
        }

        @Override
        public void onPartitionsLost(Collection<LogPartition> changed) {
            change(changed, false);
        }
    }

    /** Polls as a group member, recording and committing, until the stop file appears. */
    private static int member(String server, String caFile, String log, String group, Path stop, Path output)
            throws IOException {
        try (PyralogClient client = connect(server, caFile)) {
            Consumer consumer = client.consumer(ConsumerConfig.builder().groupId(group).build());
            boolean stopped;
            try (BufferedWriter out = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
                consumer.subscribe(List.of(log), new Assignment());
                stopped = pollUntilStopped(consumer, stop, out);
                if (stopped) {
                    consumer.commitSync();
                }
            } finally {
                consumer.close();
            }
            if (!stopped) {
                System.err.println("interop: no stop file after " + MEMBER_GIVE_UP.toSeconds() + " s");
                return 2;
            }
            System.out.println("closed");
            System.out.flush();
        }
        return 0;
    }

    /** @return true once {@code stop} exists, false after {@link #MEMBER_GIVE_UP} */
    private static boolean pollUntilStopped(Consumer consumer, Path stop, BufferedWriter out) throws IOException {
        long deadline = System.nanoTime() + MEMBER_GIVE_UP.toNanos();
        while (!Files.exists(stop)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            List<Record> records = consumer.poll(MEMBER_POLL);
            for (Record r : records) {
                out.write(r.partition() + "\t" + r.offset() + "\t" + HEX.formatHex(r.value()) + "\n");
            }
            out.flush();
            if (!records.isEmpty()) {
                consumer.commitSync();
            }
        }
        return true;
    }

    /** The text format of {@code tests/interop/README.md}: hex fields, {@code -} for absent. */
    private static final class Tsv {
        private Tsv() {}

        static List<Record> readRecords(List<String> lines) {
            List<Record> records = new ArrayList<>(lines.size());
            for (int i = 0; i < lines.size(); i++) {
                try {
                    records.add(parseRecord(lines.get(i)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("line " + (i + 1) + ": " + e.getMessage(), e);
                }
            }
            return records;
        }

        /** {@code partition<TAB>key<TAB>value<TAB>headers}. */
        private static Record parseRecord(String line) {
            String[] fields = line.split("\t", -1);
            if (fields.length != 4) {
                throw new IllegalArgumentException("want 4 tab-separated fields: " + line);
            }
            Record record = Record.of(unhex(fields[2]));
            if (!fields[1].equals("-")) {
                record = record.withKey(unhex(fields[1]));
            }
            if (!fields[0].equals("-")) {
                record = record.withPartition(Integer.parseInt(fields[0]));
            }
            if (!fields[3].equals("-")) {
                for (String pair : fields[3].split(",", -1)) {
                    int eq = pair.indexOf('=');
                    if (eq < 0) {
                        throw new IllegalArgumentException("header without '=': " + pair);
                    }
                    record = record.withHeader(utf8(unhex(pair.substring(0, eq))), unhex(pair.substring(eq + 1)));
                }
            }
            return record;
        }

        private static byte[] unhex(String text) {
            return HEX.parseHex(text);
        }

        private static String utf8(byte[] bytes) {
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("header name not UTF-8: " + HEX.formatHex(bytes), e);
            }
        }

        /** {@code partition<TAB>offset<TAB>epoch<TAB>timestamp<TAB>key<TAB>value<TAB>headers}. */
        static String dumpLine(Record r) {
            String key = r.key() == null ? "-" : HEX.formatHex(r.key());
            return r.partition() + "\t" + r.offset() + "\t" + r.epoch() + "\t" + r.timestamp() + "\t" + key + "\t"
                + HEX.formatHex(r.value()) + "\t" + headers(r.headers());
        }

        private static String headers(List<Header> headers) {
            if (headers.isEmpty()) {
                return "-";
            }
            return headers.stream()
                .map(h -> HEX.formatHex(h.name().getBytes(StandardCharsets.UTF_8)) + "=" + HEX.formatHex(h.value()))
                .collect(Collectors.joining(","));
        }
    }
}
