//go:build cgo

package pyralog

/*
#include <stdlib.h>
#include "pyralog.h"
*/
import "C"

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// ProducerConfig holds producer settings; zero values take the defaults
// (batch 256 KiB, linger 5 ms, buffer 64 MiB, max block 60 s, delivery
// timeout 120 s, 5 batches in flight per partition, idempotence on, no
// compression).
type ProducerConfig struct {
	BatchSize       int
	Linger          time.Duration
	BufferMemory    int
	MaxBlock        time.Duration
	DeliveryTimeout time.Duration
	RetryBackoff    time.Duration
	MaxInFlight     int
	// DisableIdempotence lets retries write duplicates (and reorder with
	// MaxInFlight > 1); leave it false unless measuring its cost.
	DisableIdempotence bool
	// Acks says when a batch counts as written (zero: AcksAll).
	Acks Acks
	// Compression says how batches are compressed (zero: CompressionNone).
	// Consumers decompress transparently.
	Compression Compression
	// CompressionLevel is zstd's level, 1 to 22 (zero: the codec's default,
	// 3). Producer returns ErrInvalidArgument for a level out of range or
	// with another codec.
	CompressionLevel int
}

// Compression is how a producer compresses its batches.
type Compression int32

const (
	// CompressionNone sends batches as they are. The default.
	CompressionNone Compression = 1
	// CompressionSnappy compresses with Snappy: fast, moderate ratio.
	CompressionSnappy Compression = 2
	// CompressionLZ4 compresses with LZ4: fast, moderate ratio.
	CompressionLZ4 Compression = 3
	// CompressionZstd compresses with zstd, the best ratio, at
	// ProducerConfig.CompressionLevel.
	CompressionZstd Compression = 4
)

// Acks says when the server counts a produced batch as written.
type Acks int32

const (
	// AcksAll waits until every in-sync replica holds the batch (durable per
	// the log's flush policy): it survives the loss of any node but the last
	// in-sync one. The default.
	AcksAll Acks = 1
	// AcksLeader waits for the partition leader only: the batch is lost if the
	// leader dies before its followers copy it.
	AcksLeader Acks = 2
	// AcksNone waits until the leader wrote the batch, durable or not.
	AcksNone Acks = 3
)

// reportsPerPoll is how many delivery reports one native call hands over.
const reportsPerPoll = 4096

// reportWait is how long one native report poll waits for the first report.
const reportWait = 100 * time.Millisecond

// pending is one Send or SendBatch awaiting its reports.
type pending struct {
	log     string
	single  func(RecordMetadata, error)
	batch   func([]RecordMetadata, error)
	results []RecordMetadata
	err     error
	left    int
}

// Producer batches records per partition and sends them with retries that
// never duplicate or reorder (idempotence). Send and SendBatch return once
// the records are queued; their callbacks run later on the producer's
// delivery goroutine (keep them short). Safe for concurrent use.
type Producer struct {
	p       *C.pyralog_producer_t
	mu      sync.Mutex
	next    uint64
	pending map[uint64]*pending
	// running counts sends taken out of pending whose callbacks have not
	// returned yet: Flush waits for them too.
	running int
	idle    []chan struct{}
	closed  bool
	done    chan struct{} // closed when the delivery goroutine ends
	// life keeps p alive: calls hold it shared, Close takes it to free.
	life sync.RWMutex
}

// Producer creates a producer on this client.
func (cl *Client) Producer(cfg ProducerConfig) (*Producer, error) {
	idem := C.int32_t(1)
	if cfg.DisableIdempotence {
		idem = 2
	}
	level := C.int32_t(cfg.CompressionLevel)
	if int(level) != cfg.CompressionLevel {
		return nil, &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("compression level %d is not an int32", cfg.CompressionLevel)}
	}
	config := C.pyralog_producer_config_t{
		batch_size: C.size_t(cfg.BatchSize), linger_ms: C.uint64_t(cfg.Linger.Milliseconds()),
		buffer_memory: C.size_t(cfg.BufferMemory), max_block_ms: C.uint64_t(cfg.MaxBlock.Milliseconds()),
		delivery_timeout_ms: C.uint64_t(cfg.DeliveryTimeout.Milliseconds()), retry_backoff_ms: C.uint64_t(cfg.RetryBackoff.Milliseconds()),
		max_in_flight: C.size_t(cfg.MaxInFlight), idempotence: idem, acks: C.int32_t(cfg.Acks),
		compression: C.int32_t(cfg.Compression), compression_level: level,
	}
	var p *C.pyralog_producer_t
	err := cl.with(func(c *C.pyralog_client_t) error {
		return takeError(C.pyralog_producer_new(c, &config, &p))
	})
	if err != nil {
		return nil, err
	}
	pr := &Producer{p: p, pending: map[uint64]*pending{}, done: make(chan struct{})}
	go pr.deliver()
	return pr, nil
}

// Send queues one record for log; onDelivery (may be nil) later gets its
// metadata or error. It blocks only while the buffer is full (up to
// MaxBlock) or until ctx is done.
func (p *Producer) Send(ctx context.Context, log string, record Record, onDelivery func(RecordMetadata, error)) error {
	return p.send(ctx, log, []Record{record}, NoPartition, &pending{log: log, single: onDelivery, left: 1})
}

// SendBatch queues many records in one native call; onDelivery (may be
// nil) later gets all their metadata, in order, or the first error.
// partition is NoPartition to use each record's own.
func (p *Producer) SendBatch(ctx context.Context, log string, records []Record, partition int32, onDelivery func([]RecordMetadata, error)) error {
	if len(records) == 0 {
		if onDelivery != nil {
			onDelivery(nil, nil)
		}
		return nil
	}
	return p.send(ctx, log, records, partition, &pending{log: log, batch: onDelivery, results: make([]RecordMetadata, len(records)), left: len(records)})
}

func (p *Producer) send(ctx context.Context, log string, records []Record, partition int32, pd *pending) error {
	p.life.RLock()
	defer p.life.RUnlock()
	b := newBatch(records, partition)
	defer b.free()
	n := cstr(log)
	defer freeStr(n)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return &Error{Code: CodeClosed, Message: "the producer is closed"}
	}
	token := p.next
	p.next++
	p.pending[token] = pd
	p.mu.Unlock()
	err := call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_producer_send(p.p, n, &b.batch, C.uint64_t(token), t)
	})
	if err != nil {
		p.mu.Lock()
		delete(p.pending, token)
		p.wakeIdle()
		p.mu.Unlock()
	}
	return err
}

// deliver takes reports in bulk and runs the callbacks, until the producer
// is closed and every report is taken.
func (p *Producer) deliver() {
	defer close(p.done)
	buf := (*C.pyralog_report_t)(C.malloc(C.size_t(reportsPerPoll * C.sizeof_pyralog_report_t)))
	defer C.free(unsafe.Pointer(buf))
	reports := unsafe.Slice(buf, reportsPerPoll)
	for {
		var n C.size_t
		if err := takeError(C.pyralog_producer_poll_reports(p.p, buf, reportsPerPoll, C.uint64_t(reportWait.Milliseconds()), &n)); err != nil {
			return // closed, every report taken
		}
		var ready []*pending
		p.mu.Lock()
		for i := range reports[:n] {
			r := &reports[i]
			pd := p.pending[uint64(r.token)]
			if pd == nil {
				C.pyralog_error_free(r.error)
				continue
			}
			if r.error != nil {
				if e := takeError(r.error); pd.err == nil {
					pd.err = e
				}
			} else if pd.results != nil {
				pd.results[r.index] = recordMetadata(pd.log, &r.metadata)
			} else {
				pd.results = []RecordMetadata{recordMetadata(pd.log, &r.metadata)}
			}
			if pd.left--; pd.left == 0 {
				delete(p.pending, uint64(r.token))
				ready = append(ready, pd)
			}
		}
		p.running += len(ready)
		p.mu.Unlock()
		for _, pd := range ready {
			pd.complete()
		}
		p.mu.Lock()
		p.running -= len(ready)
		p.wakeIdle()
		p.mu.Unlock()
	}
}

func (pd *pending) complete() {
	switch {
	case pd.single != nil && pd.err != nil:
		pd.single(RecordMetadata{}, pd.err)
	case pd.single != nil:
		pd.single(pd.results[0], nil)
	case pd.batch != nil && pd.err != nil:
		pd.batch(nil, pd.err)
	case pd.batch != nil:
		pd.batch(pd.results, nil)
	}
}

// idleNow reports whether every send's callback has run; p.mu is held.
func (p *Producer) idleNow() bool {
	return len(p.pending) == 0 && p.running == 0
}

// wakeIdle releases Flush waiters once every callback has run; p.mu is held.
func (p *Producer) wakeIdle() {
	if !p.idleNow() {
		return
	}
	for _, ch := range p.idle {
		close(ch)
	}
	p.idle = nil
}

// Flush waits until every record sent before it is acknowledged or failed
// and its callback has run.
func (p *Producer) Flush(ctx context.Context) error {
	p.life.RLock()
	defer p.life.RUnlock()
	if p.p == nil {
		return &Error{Code: CodeClosed, Message: "the producer is closed"}
	}
	if err := call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t { return C.pyralog_producer_flush(p.p, t) }); err != nil {
		return err
	}
	p.mu.Lock()
	if p.idleNow() {
		p.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	p.idle = append(p.idle, ch)
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes, runs the last callbacks and frees the producer. It is
// idempotent; Send afterwards fails with ErrClosed.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t { return C.pyralog_producer_close(p.p, t) })
	<-p.done
	p.life.Lock()
	C.pyralog_producer_free(p.p)
	p.p = nil
	p.life.Unlock()
	return err
}
