package pyralog_test

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

const compressionRecords = 500

// levelOverInt32 would pass for zstd level 9 if truncated to int32.
var levelOverInt32 int64 = 1<<32 + 9

func compressionSample(i int) pyralog.Record {
	return pyralog.Record{
		Key:       []byte(fmt.Sprintf("user-%d", i%17)),
		Value:     []byte(fmt.Sprintf(`{"id":%d,"kind":"click","page":"/items/%d"}`, i, i%40)),
		Partition: pyralog.NoPartition,
	}
}

// produceSample sends the sample records to a fresh 1-partition log and
// returns the log.
func produceSample(t *testing.T, c *pyralog.Client, cfg pyralog.ProducerConfig) string {
	t.Helper()
	ctx := ctxFor(t, 30*time.Second)
	log := unique("gcompression")
	must(c.CreateLog(ctx, log, 1))
	cfg.Linger = 10 * time.Millisecond
	p := must(c.Producer(cfg))
	offsets := make([]uint64, compressionRecords)
	errs := make(chan error, compressionRecords)
	for i := 0; i < compressionRecords; i++ {
		check(t, p.Send(ctx, log, compressionSample(i), func(md pyralog.RecordMetadata, err error) {
			offsets[i] = md.Offset
			errs <- err
		}))
	}
	check(t, p.Flush(ctx))
	check(t, p.Close(ctx))
	for i := 0; i < compressionRecords; i++ {
		check(t, <-errs)
		if offsets[i] != uint64(i) {
			t.Fatalf("record %d written at offset %d", i, offsets[i])
		}
	}
	return log
}

func TestCompressedRecordsReadBackIdenticalAndInOrder(t *testing.T) {
	c := connect(t)
	for _, tc := range []struct {
		name string
		cfg  pyralog.ProducerConfig
	}{
		{"snappy", pyralog.ProducerConfig{Compression: pyralog.CompressionSnappy}},
		{"lz4", pyralog.ProducerConfig{Compression: pyralog.CompressionLZ4}},
		{"zstd", pyralog.ProducerConfig{Compression: pyralog.CompressionZstd}},
		{"zstd level 9", pyralog.ProducerConfig{Compression: pyralog.CompressionZstd, CompressionLevel: 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxFor(t, 30*time.Second)
			log := produceSample(t, c, tc.cfg)
			var got []pyralog.Record
			for len(got) < compressionRecords {
				more := must(c.ConsumeFromPartition(ctx, log, 0, uint64(len(got)), compressionRecords))
				if len(more) == 0 {
					t.Fatalf("read %d of %d records", len(got), compressionRecords)
				}
				got = append(got, more...)
			}
			for i, r := range got {
				want := compressionSample(i)
				if r.Offset != uint64(i) || !bytes.Equal(r.Key, want.Key) || !bytes.Equal(r.Value, want.Value) {
					t.Fatalf("record %d: offset %d key %q value %q", i, r.Offset, r.Key, r.Value)
				}
			}
			stored := must(c.GetLogStats(ctx, log)).SizeBytes
			plain := must(c.GetLogStats(ctx, produceSample(t, c, pyralog.ProducerConfig{}))).SizeBytes
			if stored*2 >= plain {
				t.Fatalf("%d bytes stored, %d uncompressed", stored, plain)
			}
		})
	}
}

func TestUnknownCompressionOrLevelIsInvalidArgument(t *testing.T) {
	c := connect(t)
	for _, tc := range []struct {
		name string
		cfg  pyralog.ProducerConfig
	}{
		{"unknown codec", pyralog.ProducerConfig{Compression: 9}},
		{"lz4 level 1", pyralog.ProducerConfig{Compression: pyralog.CompressionLZ4, CompressionLevel: 1}},
		{"zstd level 23", pyralog.ProducerConfig{Compression: pyralog.CompressionZstd, CompressionLevel: 23}},
		{"zstd level -1", pyralog.ProducerConfig{Compression: pyralog.CompressionZstd, CompressionLevel: -1}},
		{"zstd level over int32", pyralog.ProducerConfig{Compression: pyralog.CompressionZstd, CompressionLevel: int(levelOverInt32)}},
		{"level without codec", pyralog.ProducerConfig{CompressionLevel: 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.CompressionLevel == int(levelOverInt32) && strconv.IntSize < 64 {
				t.Skip("int is int32 here")
			}
			p, err := c.Producer(tc.cfg)
			var perr *pyralog.Error
			if !errors.Is(err, pyralog.ErrInvalidArgument) || !errors.As(err, &perr) || perr.Message == "" {
				if p != nil {
					_ = p.Close(ctxFor(t, 10*time.Second))
				}
				t.Fatalf("want InvalidArgument, got %v", err)
			}
		})
	}
}
