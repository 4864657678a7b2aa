package pyralog_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

const (
	benchRecords    = 1_000_000
	benchValueBytes = 100
	benchBatch      = 1000
	benchPartitions = 4
)

// BenchmarkProduceConsume1M produces 1,000,000 records of 100 B with
// SendBatch (durable: the server's default flush=always), then consumes them
// back; it reports msgs/s and MB/s of each half. Run it with -benchtime 1x
// against a release server (scripts/bench-go.sh).
func BenchmarkProduceConsume1M(b *testing.B) {
	c := connect(b)
	ctx := ctxFor(b, 10*time.Minute)
	records := make([]pyralog.Record, benchBatch)
	for i := range records {
		records[i] = pyralog.Record{Value: []byte(fmt.Sprintf("%0*d", benchValueBytes, i)), Partition: pyralog.NoPartition}
	}
	var produceRate, consumeRate float64
	for n := 0; n < b.N; n++ {
		log := unique("gbench")
		must(c.CreateLog(ctx, log, benchPartitions))
		p := must(c.Producer(pyralog.ProducerConfig{}))
		var failed atomic.Int64
		start := time.Now()
		for sent := 0; sent < benchRecords; sent += benchBatch {
			check(b, p.SendBatch(ctx, log, records, pyralog.NoPartition, func(_ []pyralog.RecordMetadata, err error) {
				if err != nil {
					failed.Add(1)
				}
			}))
		}
		check(b, p.Flush(ctx))
		produceRate = benchRecords / time.Since(start).Seconds()
		check(b, p.Close(ctx))
		if failed.Load() != 0 {
			b.Fatalf("%d batches failed", failed.Load())
		}
		consumeRate = consumeAll(b, c, log)
	}
	b.ReportMetric(produceRate, "produce-msgs/s")
	b.ReportMetric(produceRate*benchValueBytes/1e6, "produce-MB/s")
	b.ReportMetric(consumeRate, "consume-msgs/s")
	b.ReportMetric(consumeRate*benchValueBytes/1e6, "consume-MB/s")
}

func consumeAll(b *testing.B, c *pyralog.Client, log string) float64 {
	k := must(c.Consumer(pyralog.ConsumerConfig{MaxPollRecords: 50_000}))
	defer k.Close(context.Background())
	parts := make([]pyralog.LogPartition, benchPartitions)
	for i := range parts {
		parts[i] = pyralog.LogPartition{Log: log, Partition: int32(i)}
	}
	check(b, k.Assign(parts))
	start, seen, bytes := time.Now(), 0, 0
	for seen < benchRecords {
		recs := must(k.Poll(context.Background(), time.Second))
		if len(recs) == 0 {
			b.Fatalf("only %d of %d records came back", seen, benchRecords)
		}
		for i := range recs {
			bytes += len(recs[i].Value)
		}
		seen += len(recs)
	}
	if bytes != seen*benchValueBytes {
		b.Fatalf("read %d bytes for %d records", bytes, seen)
	}
	return float64(seen) / time.Since(start).Seconds()
}
