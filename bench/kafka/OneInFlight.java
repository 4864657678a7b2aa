// One-in-flight produce latency against Kafka, the loop of `pyralog bench produce
// --one-in-flight`: send one record, wait for its acknowledgement, time it, repeat.
// Kafka's own tools report latency percentiles in whole milliseconds
// (ProducerPerformance, EndToEndLatency), too coarse for acknowledgements of
// 0.1-1 ms, so bench/peers.sh runs this single-file program on the same
// kafka-clients jar: `java -cp "libs/*" OneInFlight.java BOOTSTRAP TOPIC COUNT SIZE [k=v...]`.
// Prints one JSON line (microseconds). The first WARMUP records (JIT, metadata,
// connection) are sent the same way and not counted.
import java.util.Arrays;
import java.util.Properties;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class OneInFlight {
    static final int WARMUP = 1000;

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1];
        int count = Integer.parseInt(args[2]), size = Integer.parseInt(args[3]);
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("acks", "all");
        props.put("linger.ms", "0");
        props.put("max.in.flight.requests.per.connection", "1");
        for (int i = 4; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        byte[] value = new byte[size];
        Arrays.fill(value, (byte) 'x');
        long[] us = new long[count];
        try (KafkaProducer<byte[], byte[]> producer =
                 new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < WARMUP; i++) producer.send(new ProducerRecord<>(topic, value)).get();
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                long t0 = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, value)).get();
                us[i] = (System.nanoTime() - t0) / 1000;
            }
            double secs = (System.nanoTime() - start) / 1e9;
            Arrays.sort(us);
            double rate = count / secs;
            System.out.printf("{\"records\":%d,\"record_size\":%d,\"partitions\":1,\"msgs_per_s\":%.0f,"
                    + "\"mb_per_s\":%.1f,\"p50_us\":%d,\"p99_us\":%d,\"p999_us\":%d}%n",
                count, size, rate, rate * size / 1e6, us[count / 2], us[(int) (count * 0.99)],
                us[(int) (count * 0.999)]);
        }
    }
}
