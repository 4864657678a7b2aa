package pyralog_test

import (
	"context"
	bin "encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

// A stored batch that cannot be decoded (flipped on disk while the server
// runs) lets readers take every record before it, then fails with
// ErrCorruptData naming the batch; seeking past its last offset reads on.

const (
	// corruptRecords are produced one at a time (one batch each); the batch
	// of corruptBad is broken on disk.
	corruptRecords = 6
	corruptBad     = 3
	// batchHeaderBytes is the fixed batch header (protocol/src/batch.rs);
	// the records section follows it.
	batchHeaderBytes = 80
	// lengthPrefixBytes are base_offset (u64) and batch_length (u32): the
	// bytes before batch_length's coverage.
	lengthPrefixBytes = 12
	corruptWait       = 10 * time.Second
)

// segmentFile is the partition's first segment:
// <data>/logs/<log>.<incarnation>/<partition>/<base:020>.log.
func segmentFile(t *testing.T, log string, partition int32) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(shared.data, "logs"))
	check(t, err)
	var dirs []string
	for _, e := range entries {
		if i := strings.LastIndexByte(e.Name(), '.'); i > 0 && e.Name()[:i] == log {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) != 1 {
		t.Fatalf("one directory of %s: %v", log, dirs)
	}
	return filepath.Join(shared.data, "logs", dirs[0], fmt.Sprint(partition), fmt.Sprintf("%020d.log", 0))
}

// flipARecordByteOfBatch flips one byte inside the records section of the
// index-th batch of the segment (its checksum no longer holds) and returns
// that batch's base offset.
func flipARecordByteOfBatch(t *testing.T, path string, index int) uint64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	check(t, err)
	defer f.Close()
	prefix := make([]byte, lengthPrefixBytes)
	var at int64
	for i := 0; ; i++ {
		_, err := f.ReadAt(prefix, at)
		check(t, err)
		end := at + lengthPrefixBytes + int64(bin.LittleEndian.Uint32(prefix[8:12]))
		if i < index {
			at = end
			continue
		}
		if at+batchHeaderBytes >= end {
			t.Fatalf("batch %d has no records section", index)
		}
		target := (at + batchHeaderBytes + end) / 2
		b := make([]byte, 1)
		_, err = f.ReadAt(b, target)
		check(t, err)
		_, err = f.WriteAt([]byte{b[0] ^ 0xff}, target)
		check(t, err)
		return bin.LittleEndian.Uint64(prefix[0:8])
	}
}

// corruptLog is a 1-partition log of corruptRecords one-record batches
// whose batch at corruptBad fails its checksum on disk.
func corruptLog(t *testing.T, ctx context.Context, c *pyralog.Client) string {
	t.Helper()
	log := unique("gcorrupt")
	must(c.CreateLog(ctx, log, 1))
	for i := 0; i < corruptRecords; i++ {
		md := must(c.Produce(ctx, log, pyralog.Record{Value: []byte(fmt.Sprintf("value-%d", i)), Partition: 0}))
		if md.Offset != uint64(i) {
			t.Fatalf("record %d written at offset %d", i, md.Offset)
		}
	}
	if base := flipARecordByteOfBatch(t, segmentFile(t, log, 0), corruptBad); base != corruptBad {
		t.Fatalf("flipped the batch at %d, not %d", base, corruptBad)
	}
	return log
}

// checkNamesTheBadBatch fails unless err is ErrCorruptData naming the batch at corruptBad.
func checkNamesTheBadBatch(t *testing.T, err error, log string) *pyralog.BatchLocation {
	t.Helper()
	var e *pyralog.Error
	if !errors.Is(err, pyralog.ErrCorruptData) || !errors.As(err, &e) {
		t.Fatalf("want ErrCorruptData, got %v", err)
	}
	want := pyralog.BatchLocation{Log: log, Partition: 0, FirstOffset: corruptBad, LastOffset: corruptBad}
	if e.CorruptBatch == nil || *e.CorruptBatch != want {
		t.Fatalf("CorruptBatch %+v, want %+v (%v)", e.CorruptBatch, want, err)
	}
	if !strings.Contains(e.Message, fmt.Sprintf("seek the partition to %d", corruptBad+1)) {
		t.Fatalf("the message says how to skip: %v", err)
	}
	return e.CorruptBatch
}

func offsets(records []pyralog.Record) []uint64 {
	out := make([]uint64, len(records))
	for i, r := range records {
		out[i] = r.Offset
	}
	return out
}

func TestConsumeFromPartitionReturnsTheRecordsBeforeACorruptBatchAndFailsAtIt(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 60*time.Second)
	log := corruptLog(t, ctx, c)

	got := must(c.ConsumeFromPartition(ctx, log, 0, 0, 10))
	if fmt.Sprint(offsets(got)) != "[0 1 2]" {
		t.Fatalf("before the corrupt batch: offsets %v", offsets(got))
	}
	for i, r := range got {
		if string(r.Value) != fmt.Sprintf("value-%d", i) {
			t.Fatalf("record %d: %q", i, r.Value)
		}
	}

	_, err := c.ConsumeFromPartition(ctx, log, 0, corruptBad, 10)
	at := checkNamesTheBadBatch(t, err, log)
	after := must(c.ConsumeFromPartition(ctx, log, at.Partition, at.LastOffset+1, 10))
	if fmt.Sprint(offsets(after)) != "[4 5]" {
		t.Fatalf("after the corrupt batch: offsets %v", offsets(after))
	}
}

// pollUntilCorruptData is the error a poll returns within corruptWait; no
// poll returns records before it.
func pollUntilCorruptData(t *testing.T, ctx context.Context, k *pyralog.Consumer) error {
	t.Helper()
	deadline := time.Now().Add(corruptWait)
	for time.Now().Before(deadline) {
		records, err := k.Poll(ctx, 200*time.Millisecond)
		if err != nil {
			return err
		}
		if len(records) > 0 {
			t.Fatalf("records past the corrupt batch before a seek: %v", offsets(records))
		}
	}
	t.Fatalf("no error within %v", corruptWait)
	return nil
}

// pollRecords polls until n records came, within corruptWait.
func pollRecords(t *testing.T, ctx context.Context, k *pyralog.Consumer, n int) []pyralog.Record {
	t.Helper()
	var got []pyralog.Record
	deadline := time.Now().Add(corruptWait)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d records within %v", len(got), n, corruptWait)
		}
		got = append(got, must(k.Poll(ctx, 200*time.Millisecond))...)
	}
	return got
}

func TestConsumerDeliversTheRecordsBeforeACorruptBatchThenFailsUntilSeek(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 60*time.Second)
	log := corruptLog(t, ctx, c)
	k := must(c.Consumer(pyralog.ConsumerConfig{}))
	defer k.Close(ctx)
	lp := pyralog.LogPartition{Log: log, Partition: 0}
	check(t, k.Assign([]pyralog.LogPartition{lp}))
	check(t, k.Seek(lp, 0))

	if got := offsets(pollRecords(t, ctx, k, corruptBad)); fmt.Sprint(got) != "[0 1 2]" {
		t.Fatalf("before the corrupt batch: offsets %v", got)
	}
	at := checkNamesTheBadBatch(t, pollUntilCorruptData(t, ctx, k), log)
	// Reported again on the next polls, until the partition is moved past it.
	checkNamesTheBadBatch(t, pollUntilCorruptData(t, ctx, k), log)

	check(t, k.Seek(pyralog.LogPartition{Log: at.Log, Partition: at.Partition}, at.LastOffset+1))
	after := pollRecords(t, ctx, k, corruptRecords-corruptBad-1)
	if fmt.Sprint(offsets(after)) != "[4 5]" || string(after[0].Value) != "value-4" {
		t.Fatalf("after the seek: offsets %v", offsets(after))
	}
}
