// Quickstart is the complete log setup: it creates a log with 10
// partitions, writes 1,000 keyed events through the asynchronous producer,
// reads 100 back, and prints the log's metadata and stats.
//
// Run it from examples/go against a running server:
//
//	go run ./quickstart [HOST:PORT] [CA_FILE]
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("quickstart: ")
	addr, caFile := arg(1, "127.0.0.1:9092"), arg(2, "pyralog-data/tls/ca.pem")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// readme:start
	client := must(pyralog.Connect(ctx, addr, pyralog.Config{CAFile: caFile}))
	if must(client.LogExists(ctx, "user_events")) {
		check(client.DeleteLog(ctx, "user_events"))
	}
	must(client.CreateLog(ctx, "user_events", 10))
	producer := must(client.Producer(pyralog.ProducerConfig{}))
	for i := range 1000 {
		record := pyralog.Record{Key: fmt.Appendf(nil, "user-%d", i%100), Value: fmt.Appendf(nil, "event-%d", i), Partition: pyralog.NoPartition}
		check(producer.Send(ctx, "user_events", record, func(_ pyralog.RecordMetadata, err error) { check(err) }))
	}
	check(producer.Flush(ctx)) // every record is acknowledged and its callback has run
	records := must(client.Consume(ctx, "user_events", 0, 100))
	// readme:end

	for _, r := range records[:min(5, len(records))] {
		fmt.Printf("partition %d offset %d: %s = %s\n", r.Partition, r.Offset, r.Key, r.Value)
	}
	fmt.Printf("read %d records back\n", len(records))

	md := must(client.GetLogMetadata(ctx, "user_events"))
	fmt.Printf("log %s: %d partitions, state %s\n", md.Name, md.PartitionCount, md.State)
	stats := must(client.GetLogStats(ctx, "user_events"))
	fmt.Printf("stats: %d records, %d bytes\n", stats.RecordCount, stats.SizeBytes)
	check(producer.Close(ctx))
	check(client.Close())
}

// arg returns the i-th command-line argument, or def when it is absent.
func arg(i int, def string) string {
	if len(os.Args) > i {
		return os.Args[i]
	}
	return def
}

// must returns v, or prints err and exits 1.
func must[T any](v T, err error) T {
	check(err)
	return v
}

// check prints err and exits 1 unless err is nil.
func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
