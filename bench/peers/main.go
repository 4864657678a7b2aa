// Command peers drives NATS JetStream with the workloads of `pyralog bench`,
// so bench/peers.sh can compare them in one run on one machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// asyncWindow bounds the publishes awaiting an ack (JetStream's own default is 4000).
const asyncWindow = 4000

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS server URL")
	mode := flag.String("mode", "produce", "produce | consume | latency")
	size := flag.Int("size", 100, "message size in bytes")
	count := flag.Int("count", 1_000_000, "messages")
	parts := flag.Int("partitions", 4, "streams (one subject each)")
	storage := flag.String("storage", "file", "file | memory")
	prefix := flag.String("prefix", "bench", "stream name prefix")
	flag.Parse()

	nc, err := nats.Connect(*url)
	check(err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	check(err)
	ctx := context.Background()

	st := jetstream.FileStorage
	if *storage == "memory" {
		st = jetstream.MemoryStorage
	}
	for i := 0; i < *parts; i++ {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: fmt.Sprintf("%s_%d", *prefix, i), Subjects: []string{fmt.Sprintf("%s.%d", *prefix, i)}, Storage: st,
		})
		check(err)
	}
	payload := make([]byte, *size)
	start := time.Now()
	var lat []time.Duration
	switch *mode {
	case "produce":
		for i := 0; i < *count; i++ {
			if _, err := js.PublishAsync(fmt.Sprintf("%s.%d", *prefix, i%*parts), payload, jetstream.WithStallWait(time.Minute)); err != nil {
				log.Fatal(err)
			}
			if i%asyncWindow == asyncWindow-1 {
				<-js.PublishAsyncComplete()
			}
		}
		<-js.PublishAsyncComplete()
	case "latency":
		for i := 0; i < *count; i++ {
			t0 := time.Now()
			_, err := js.Publish(ctx, fmt.Sprintf("%s.%d", *prefix, i%*parts), payload)
			check(err)
			lat = append(lat, time.Since(t0))
		}
	case "consume":
		got := 0
		for i := 0; i < *parts; i++ {
			c, err := js.OrderedConsumer(ctx, fmt.Sprintf("%s_%d", *prefix, i), jetstream.OrderedConsumerConfig{})
			check(err)
			want := *count / *parts
			for n := 0; n < want; {
				batch, err := c.FetchNoWait(10_000)
				check(err)
				for range batch.Messages() {
					n++
				}
				if batch.Error() != nil {
					log.Fatal(batch.Error())
				}
			}
			got += want
		}
		*count = got
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
	elapsed := time.Since(start).Seconds()
	rate := float64(*count) / elapsed
	p := func(q float64) int64 {
		if len(lat) == 0 {
			return 0
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat[int(q*float64(len(lat)-1))].Microseconds()
	}
	fmt.Printf("{\"system\":\"nats\",\"mode\":\"%s\",\"storage\":\"%s\",\"records\":%d,\"record_size\":%d,\"partitions\":%d,\"msgs_per_s\":%.0f,\"mb_per_s\":%.1f,\"p50_us\":%d,\"p99_us\":%d,\"p999_us\":%d}\n",
		*mode, *storage, *count, *size, *parts, rate, rate*float64(*size)/1e6, p(0.5), p(0.99), p(0.999))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
		os.Exit(1)
	}
}
