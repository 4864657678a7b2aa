//go:build cgo

package pyralog

/*
#include <stdlib.h>
#include "pyralog.h"

extern void pyralogGoRebalance(void *user_data, int32_t kind, const pyralog_log_partition_t *parts, size_t len);

static pyralog_error_t *subscribe_with_go(const pyralog_consumer_t *c, const pyralog_str_t *logs, size_t len, uintptr_t handle) {
	return pyralog_consumer_subscribe(c, logs, len, pyralogGoRebalance, (void *)handle);
}
*/
import "C"

import (
	"context"
	"fmt"
	"runtime/cgo"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// ConsumerConfig holds consumer settings; zero values take the defaults
// (auto offset reset earliest, 10,000 records per poll, session 10 s,
// heartbeat 3 s, auto-commit every 5 s).
type ConsumerConfig struct {
	// GroupID is the consumer group joined by Subscribe.
	GroupID string
	// GroupInstanceID makes the membership static.
	GroupInstanceID string
	// AutoOffsetReset: where a partition without a position starts.
	AutoOffsetReset OffsetReset
	MaxPollRecords  int
	FetchMaxBytes   uint32
	// MaxPartitionFetchBytes bounds one partition's share of a fetch.
	MaxPartitionFetchBytes uint32
	FetchMaxWait           time.Duration
	SessionTimeout         time.Duration
	HeartbeatInterval      time.Duration
	RebalanceTimeout       time.Duration
	MaxPollInterval        time.Duration
	// Assignors in preference order ("cooperative-sticky", "range",
	// "roundrobin"); empty for all.
	Assignors []string
	// DisableAutoCommit stops commits on an interval, before a revocation
	// and on close.
	DisableAutoCommit  bool
	AutoCommitInterval time.Duration
}

// OffsetReset says where a partition without a known position starts.
type OffsetReset int32

// Offset resets.
const (
	ResetEarliest OffsetReset = iota
	ResetLatest
	ResetError
)

// RebalanceKind says what happened to a consumer's partitions.
type RebalanceKind int32

// Rebalance kinds.
const (
	// Assigned partitions are now read by this consumer; their positions are set.
	Assigned RebalanceKind = iota
	// Revoked partitions are handed back in an orderly rebalance, after the last commit.
	Revoked
	// Lost partitions were taken without a rebalance (session expired):
	// another member may own them already, so do not commit for them.
	Lost
)

// String names the kind: "assigned", "revoked", "lost".
func (k RebalanceKind) String() string {
	switch k {
	case Assigned:
		return "assigned"
	case Revoked:
		return "revoked"
	case Lost:
		return "lost"
	}
	return fmt.Sprintf("RebalanceKind(%d)", int32(k))
}

// RebalanceListener hears of assignment changes. It runs inside Poll on the
// polling goroutine and must not call the consumer (that fails ErrConcurrentCall).
type RebalanceListener func(kind RebalanceKind, partitions []LogPartition)

type listenerBox struct{ f RebalanceListener }

func (l *listenerBox) call(kind RebalanceKind, parts []LogPartition) {
	if l.f != nil {
		l.f(kind, parts)
	}
}

// Consumer reads assigned partitions (Assign) or a group's share of logs
// (Subscribe). It serves one caller at a time: a call made while another
// runs fails with ErrConcurrentCall instead of waiting. Close it to leave the group.
type Consumer struct {
	c        *C.pyralog_consumer_t
	life     sync.RWMutex
	closed   bool
	listener cgo.Handle
}

// Consumer creates a consumer on this client.
func (cl *Client) Consumer(cfg ConsumerConfig) (*Consumer, error) {
	strs := []C.pyralog_str_t{cstr(cfg.GroupID), cstr(cfg.GroupInstanceID), cstr(joinComma(cfg.Assignors))}
	defer func() {
		for _, s := range strs {
			freeStr(s)
		}
	}()
	autoCommit := C.int32_t(1)
	if cfg.DisableAutoCommit {
		autoCommit = 2
	}
	config := C.pyralog_consumer_config_t{
		group_id: strs[0], group_instance_id: strs[1], assignors: strs[2],
		auto_offset_reset: C.int32_t(cfg.AutoOffsetReset), max_poll_records: C.size_t(cfg.MaxPollRecords),
		fetch_max_bytes: C.uint32_t(cfg.FetchMaxBytes), max_partition_fetch_bytes: C.uint32_t(cfg.MaxPartitionFetchBytes),
		fetch_max_wait_ms: ms(cfg.FetchMaxWait), session_timeout_ms: ms(cfg.SessionTimeout),
		heartbeat_interval_ms: ms(cfg.HeartbeatInterval), rebalance_timeout_ms: ms(cfg.RebalanceTimeout),
		max_poll_interval_ms: ms(cfg.MaxPollInterval), enable_auto_commit: autoCommit,
		auto_commit_interval_ms: ms(cfg.AutoCommitInterval),
	}
	var k *C.pyralog_consumer_t
	err := cl.with(func(c *C.pyralog_client_t) error { return takeError(C.pyralog_consumer_new(c, &config, &k)) })
	if err != nil {
		return nil, err
	}
	return &Consumer{c: k}, nil
}

func ms(d time.Duration) C.uint64_t { return C.uint64_t(d.Milliseconds()) }

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// use runs f on the live native consumer, or fails with ErrClosed.
func (k *Consumer) use(f func(c *C.pyralog_consumer_t) error) error {
	k.life.RLock()
	defer k.life.RUnlock()
	if k.closed {
		return &Error{Code: CodeClosed, Message: "the consumer is closed"}
	}
	return f(k.c)
}

// Subscribe joins the group (ConsumerConfig.GroupID) for logs; the group
// assigns partitions inside Poll, which calls listener (may be nil).
func (k *Consumer) Subscribe(logs []string, listener RebalanceListener) error {
	strs := make([]C.pyralog_str_t, len(logs))
	for i, l := range logs {
		strs[i] = cstr(l)
	}
	arr := (*C.pyralog_str_t)(C.malloc(C.size_t(len(strs)+1) * C.sizeof_pyralog_str_t))
	copy(unsafe.Slice(arr, len(strs)), strs)
	defer func() {
		for _, s := range strs {
			freeStr(s)
		}
		C.free(unsafe.Pointer(arr))
	}()
	return k.use(func(c *C.pyralog_consumer_t) error {
		h := cgo.NewHandle(&listenerBox{f: listener})
		if err := takeError(C.subscribe_with_go(c, arr, C.size_t(len(strs)), C.uintptr_t(h))); err != nil {
			h.Delete()
			return err
		}
		if k.listener != 0 {
			k.listener.Delete()
		}
		k.listener = h
		return nil
	})
}

// Assign reads exactly these partitions (no group).
func (k *Consumer) Assign(partitions []LogPartition) error {
	cp := newPartitions(partitions)
	defer cp.free()
	return k.use(func(c *C.pyralog_consumer_t) error {
		return takeError(C.pyralog_consumer_assign(c, cp.ptr, C.size_t(len(partitions))))
	})
}

// Assignment returns the partitions read now.
func (k *Consumer) Assignment() ([]LogPartition, error) {
	var o *C.pyralog_offsets_t
	if err := k.use(func(c *C.pyralog_consumer_t) error { return takeError(C.pyralog_consumer_assignment(c, &o)) }); err != nil {
		return nil, err
	}
	m := takeOffsets(o)
	out := make([]LogPartition, 0, len(m))
	for lp := range m {
		out = append(out, lp)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Log < out[j].Log || out[i].Log == out[j].Log && out[i].Partition < out[j].Partition
	})
	return out, nil
}

// Poll returns the next records, or none after timeout; ctx ends the wait
// early. A stored batch that cannot be decoded fails with ErrCorruptData,
// whose CorruptBatch names it, once the records before it were returned,
// on every poll until Seek moves its partition to CorruptBatch.LastOffset+1.
func (k *Consumer) Poll(ctx context.Context, timeout time.Duration) ([]Record, error) {
	var r *C.pyralog_records_t
	err := k.use(func(c *C.pyralog_consumer_t) error {
		return call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t {
			return C.pyralog_consumer_poll(c, C.uint64_t(timeout.Milliseconds()), t, &r)
		})
	})
	if err != nil {
		return nil, err
	}
	return takeRecords(r), nil
}

func (k *Consumer) seek(partitions []LogPartition, whence int32, offset int64) error {
	cp := newPartitions(partitions)
	defer cp.free()
	return k.use(func(c *C.pyralog_consumer_t) error {
		return takeError(C.pyralog_consumer_seek(c, cp.ptr, C.size_t(len(partitions)), C.int32_t(whence), C.int64_t(offset)))
	})
}

// Seek makes the next Poll read partition from offset.
func (k *Consumer) Seek(partition LogPartition, offset uint64) error {
	return k.seek([]LogPartition{partition}, 0, int64(offset))
}

// SeekToBeginning reads from the log start (no partitions: the assignment).
func (k *Consumer) SeekToBeginning(partitions ...LogPartition) error { return k.seek(partitions, 1, 0) }

// SeekToEnd reads only what comes next (no partitions: the assignment).
func (k *Consumer) SeekToEnd(partitions ...LogPartition) error { return k.seek(partitions, 2, 0) }

// SeekToTimestamp reads from the first record at or after timestampMs.
func (k *Consumer) SeekToTimestamp(timestampMs int64, partitions ...LogPartition) error {
	return k.seek(partitions, 3, timestampMs)
}

func (k *Consumer) pause(partitions []LogPartition, pause bool) error {
	cp := newPartitions(partitions)
	defer cp.free()
	return k.use(func(c *C.pyralog_consumer_t) error {
		return takeError(C.pyralog_consumer_pause(c, cp.ptr, C.size_t(len(partitions)), C.bool(pause)))
	})
}

// Pause stops fetching these partitions until Resume.
func (k *Consumer) Pause(partitions ...LogPartition) error { return k.pause(partitions, true) }

// Resume fetches paused partitions again.
func (k *Consumer) Resume(partitions ...LogPartition) error { return k.pause(partitions, false) }

// Position returns the offset of the next record Poll returns for partition.
func (k *Consumer) Position(ctx context.Context, partition LogPartition) (uint64, error) {
	cp := newPartitions([]LogPartition{partition})
	defer cp.free()
	var pos C.uint64_t
	err := k.use(func(c *C.pyralog_consumer_t) error {
		return call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t {
			return C.pyralog_consumer_position(c, cp.items[0], t, &pos)
		})
	})
	return uint64(pos), err
}

// Commit commits the positions for the group and waits.
func (k *Consumer) Commit(ctx context.Context) error { return k.CommitOffsets(ctx, nil) }

// CommitOffsets commits the given next offsets (nil: the positions).
func (k *Consumer) CommitOffsets(ctx context.Context, offsets map[LogPartition]uint64) error {
	lps := make([]LogPartition, 0, len(offsets))
	for lp := range offsets {
		lps = append(lps, lp)
	}
	cp := newPartitions(lps)
	defer cp.free()
	var arr *C.pyralog_partition_offset_t
	if len(lps) > 0 {
		arr = (*C.pyralog_partition_offset_t)(C.malloc(C.size_t(len(lps)) * C.sizeof_pyralog_partition_offset_t))
		defer C.free(unsafe.Pointer(arr))
		items := unsafe.Slice(arr, len(lps))
		for i := range items {
			items[i] = C.pyralog_partition_offset_t{partition: cp.items[i], offset: C.uint64_t(offsets[lps[i]])}
		}
	}
	return k.use(func(c *C.pyralog_consumer_t) error {
		return call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t {
			return C.pyralog_consumer_commit(c, arr, C.size_t(len(lps)), t)
		})
	})
}

// CommitAsync starts committing the positions without waiting.
func (k *Consumer) CommitAsync() error {
	return k.use(func(c *C.pyralog_consumer_t) error { return takeError(C.pyralog_consumer_commit_async(c)) })
}

// Committed returns the group's committed offsets for partitions (none
// given: the assignment).
func (k *Consumer) Committed(ctx context.Context, partitions ...LogPartition) (map[LogPartition]uint64, error) {
	cp := newPartitions(partitions)
	defer cp.free()
	var o *C.pyralog_offsets_t
	err := k.use(func(c *C.pyralog_consumer_t) error {
		return call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t {
			return C.pyralog_consumer_committed(c, cp.ptr, C.size_t(len(partitions)), t, &o)
		})
	})
	if err != nil {
		return nil, err
	}
	return takeOffsets(o), nil
}

// Close leaves the group (committing first with auto-commit) and frees the
// consumer. It is idempotent; calls afterwards fail with ErrClosed.
func (k *Consumer) Close(ctx context.Context) error {
	k.life.Lock()
	defer k.life.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	err := call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t { return C.pyralog_consumer_close(k.c, t) })
	C.pyralog_consumer_free(k.c)
	k.c = nil
	if k.listener != 0 {
		k.listener.Delete()
	}
	return err
}
