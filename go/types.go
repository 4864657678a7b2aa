//go:build cgo

package pyralog

/*
#include <stdlib.h>
#include "pyralog.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Header is one record header; names may repeat and order is kept.
type Header struct {
	Name  string
	Value []byte
}

// Record is a record to produce (Log, Offset, Epoch are ignored there) or
// one read back. A nil Key means no key; Partition -1 (or NoPartition)
// lets the partitioner choose; a zero Timestamp means "now".
type Record struct {
	Log       string
	Partition int32
	Offset    uint64
	Epoch     uint64
	Timestamp int64 // ms since the Unix epoch
	Key       []byte
	Value     []byte
	Headers   []Header
}

// NoPartition in Record.Partition lets the partitioner choose.
const NoPartition int32 = -1

// OffsetEnd reads only what is produced after the read starts.
const OffsetEnd uint64 = ^uint64(0)

// RecordMetadata tells where a produced record was written.
type RecordMetadata struct {
	Log       string
	Partition int32
	Offset    uint64
	Epoch     uint64
	Timestamp int64
}

// FlushPolicy says when appended data is fsynced relative to the acknowledgement.
type FlushPolicy int32

// Flush policies.
const (
	FlushServerDefault FlushPolicy = iota
	FlushAlways
	FlushInterval
	FlushNever
)

// CleanupPolicy says what happens to a log's old records.
type CleanupPolicy int32

// Cleanup policies.
const (
	// CleanupDelete deletes whole segments past retention (the default).
	CleanupDelete CleanupPolicy = iota
	// CleanupCompact keeps the newest record of each key; a record with an
	// empty value is a tombstone, dropped after DeleteRetentionMs.
	CleanupCompact
	// CleanupCompactDelete compacts, and deletes past retention too.
	CleanupCompactDelete
)

// LogConfig is a log's settings; zero means "not set" (unlimited
// retention, server defaults).
type LogConfig struct {
	RetentionMs       int64
	RetentionBytes    int64
	MinInSyncReplicas uint32
	FlushPolicy       FlushPolicy
	FlushIntervalMs   uint32
	SegmentBytes      uint64
	SegmentMs         int64
	LogAppendTime     bool // server timestamps instead of the producer's
	DynamicPartitions bool
	CleanupPolicy     CleanupPolicy
	DeleteRetentionMs int64 // how long a compacted log keeps tombstones (0: server default)
}

// LogState is a log's lifecycle state.
type LogState int32

// Log states.
const (
	LogActive LogState = iota
	LogPaused
	LogDeleting
)

// String names the state as every SDK does: "Active", "Paused", "Deleting".
func (s LogState) String() string {
	switch s {
	case LogActive:
		return "Active"
	case LogPaused:
		return "Paused"
	case LogDeleting:
		return "Deleting"
	}
	return fmt.Sprintf("LogState(%d)", int32(s))
}

// PartitionMetadata is one partition's placement, leader epoch and bounds.
// Leader, Replicas and ISR (the in-sync replicas) are node ids; Leader is
// math.MaxUint32 when the partition has none.
type PartitionMetadata struct {
	Partition      int32
	Leader         uint32
	Replicas       []uint32
	ISR            []uint32
	LeaderEpoch    uint64
	LogStartOffset uint64
	HighWatermark  uint64
}

// LogMetadata is a log's partitions, settings and state.
type LogMetadata struct {
	Name              string
	PartitionCount    int32
	ReplicationFactor int32
	CreatedAtMs       int64
	State             LogState
	Config            LogConfig
	Partitions        []PartitionMetadata
}

// PartitionStats is one partition's size and bounds.
type PartitionStats struct {
	Partition      int32
	LogStartOffset uint64
	HighWatermark  uint64
	SizeBytes      uint64
	SegmentCount   uint32
}

// LogStats is a log's record count, size and write rate (records per
// second over the last minute).
type LogStats struct {
	RecordCount uint64
	SizeBytes   uint64
	WriteRate   float64
	Partitions  []PartitionStats
}

// LogPartition names one partition of a log.
type LogPartition struct {
	Log       string
	Partition int32
}

func (c LogConfig) toC() C.pyralog_log_config_t {
	b := func(v bool) C.int32_t {
		if v {
			return 1
		}
		return 0
	}
	return C.pyralog_log_config_t{
		retention_ms: C.int64_t(c.RetentionMs), retention_bytes: C.int64_t(c.RetentionBytes),
		min_in_sync_replicas: C.uint32_t(c.MinInSyncReplicas), flush_policy: C.int32_t(c.FlushPolicy),
		flush_interval_ms: C.uint32_t(c.FlushIntervalMs), segment_bytes: C.uint64_t(c.SegmentBytes),
		segment_ms: C.int64_t(c.SegmentMs), timestamp_type: b(c.LogAppendTime), partitioning_mode: b(c.DynamicPartitions),
		cleanup_policy: C.int32_t(c.CleanupPolicy), delete_retention_ms: C.int64_t(c.DeleteRetentionMs),
	}
}

func logConfig(c *C.pyralog_log_config_t) LogConfig {
	return LogConfig{
		RetentionMs: int64(c.retention_ms), RetentionBytes: int64(c.retention_bytes),
		MinInSyncReplicas: uint32(c.min_in_sync_replicas), FlushPolicy: FlushPolicy(c.flush_policy),
		FlushIntervalMs: uint32(c.flush_interval_ms), SegmentBytes: uint64(c.segment_bytes),
		SegmentMs: int64(c.segment_ms), LogAppendTime: c.timestamp_type == 1, DynamicPartitions: c.partitioning_mode == 1,
		CleanupPolicy: CleanupPolicy(c.cleanup_policy), DeleteRetentionMs: int64(c.delete_retention_ms),
	}
}

func logMetadata(m *C.pyralog_log_metadata_t) LogMetadata {
	parts := unsafe.Slice(m.partitions, int(m.partitions_len))
	out := LogMetadata{
		Name: C.GoString(m.name), PartitionCount: int32(m.partition_count),
		ReplicationFactor: int32(m.replication_factor), CreatedAtMs: int64(m.created_at_ms),
		State: LogState(m.state), Config: logConfig(&m.config), Partitions: make([]PartitionMetadata, len(parts)),
	}
	for i, p := range parts {
		out.Partitions[i] = PartitionMetadata{
			Partition: int32(p.partition), Leader: uint32(p.leader),
			Replicas: nodeIDs(p.replicas, p.replicas_len), ISR: nodeIDs(p.isr, p.isr_len),
			LeaderEpoch: uint64(p.leader_epoch), LogStartOffset: uint64(p.log_start_offset), HighWatermark: uint64(p.high_watermark),
		}
	}
	return out
}

// nodeIDs copies a C array of node ids into Go memory.
func nodeIDs(p *C.uint32_t, n C.size_t) []uint32 {
	out := make([]uint32, int(n))
	for i, id := range unsafe.Slice(p, int(n)) {
		out[i] = uint32(id)
	}
	return out
}

// takeLogMetadata converts and frees.
func takeLogMetadata(m *C.pyralog_log_metadata_t) LogMetadata {
	defer C.pyralog_log_metadata_free(m)
	return logMetadata(m)
}

func takeLogStats(s *C.pyralog_log_stats_t) LogStats {
	defer C.pyralog_log_stats_free(s)
	parts := unsafe.Slice(s.partitions, int(s.partitions_len))
	out := LogStats{RecordCount: uint64(s.record_count), SizeBytes: uint64(s.size_bytes), WriteRate: float64(s.write_rate),
		Partitions: make([]PartitionStats, len(parts))}
	for i, p := range parts {
		out.Partitions[i] = PartitionStats{int32(p.partition), uint64(p.log_start_offset), uint64(p.high_watermark),
			uint64(p.size_bytes), uint32(p.segment_count)}
	}
	return out
}

func recordMetadata(log string, m *C.pyralog_record_metadata_t) RecordMetadata {
	return RecordMetadata{Log: log, Partition: int32(m.partition), Offset: uint64(m.offset), Epoch: uint64(m.epoch), Timestamp: int64(m.timestamp_ms)}
}

// takeRecords converts and frees records read back; the log name is
// shared between records of one log.
func takeRecords(r *C.pyralog_records_t) []Record {
	defer C.pyralog_records_free(r)
	items := unsafe.Slice(r.items, int(r.len))
	out := make([]Record, len(items))
	var lastLog string
	for i := range items {
		it := &items[i]
		if n := int(it.log.len); n != len(lastLog) || unsafe.String((*byte)(unsafe.Pointer(it.log.ptr)), n) != lastLog {
			lastLog = goStr(it.log)
		}
		rec := &out[i]
		rec.Log, rec.Partition, rec.Offset, rec.Epoch, rec.Timestamp = lastLog, int32(it.partition), uint64(it.offset), uint64(it.epoch), int64(it.timestamp_ms)
		rec.Key = goBytes(it.key, it.key_len)
		if rec.Key == nil && it.key != nil {
			rec.Key = []byte{}
		}
		rec.Value = C.GoBytes(unsafe.Pointer(it.value), C.int(it.value_len))
		if it.header_count > 0 {
			hs := unsafe.Slice(it.headers, int(it.header_count))
			rec.Headers = make([]Header, len(hs))
			for j, h := range hs {
				rec.Headers[j] = Header{Name: goStr(h.name), Value: C.GoBytes(unsafe.Pointer(h.value), C.int(h.value_len))}
			}
		}
	}
	return out
}

// cBatch is records copied into one C allocation for a native call.
type cBatch struct {
	batch  C.pyralog_batch_in_t
	allocs []unsafe.Pointer
}

// newBatch copies records into C memory (no Go pointer reaches C).
func newBatch(records []Record, partition int32) *cBatch {
	size, headers := 0, 0
	for i := range records {
		size += len(records[i].Key) + len(records[i].Value)
		for _, h := range records[i].Headers {
			size += len(h.Name) + len(h.Value)
		}
		headers += len(records[i].Headers)
	}
	b := &cBatch{}
	alloc := func(n int) unsafe.Pointer {
		if n == 0 {
			return nil
		}
		p := C.malloc(C.size_t(n))
		b.allocs = append(b.allocs, p)
		return p
	}
	data := unsafe.Slice((*byte)(alloc(size)), size)
	recs := unsafe.Slice((*C.pyralog_record_in_t)(alloc(len(records)*C.sizeof_pyralog_record_in_t)), len(records))
	hdrs := unsafe.Slice((*C.pyralog_header_in_t)(alloc(headers*C.sizeof_pyralog_header_in_t)), headers)
	at, h := 0, 0
	put := func(src []byte) (C.size_t, C.size_t) {
		start := at
		at += copy(data[at:], src)
		return C.size_t(start), C.size_t(len(src))
	}
	for i := range records {
		r := &records[i]
		cr := &recs[i]
		*cr = C.pyralog_record_in_t{key_len: -1, partition: C.int64_t(r.Partition), header_start: C.size_t(h)}
		if partition != NoPartition {
			cr.partition = C.int64_t(partition)
		}
		if r.Key != nil {
			off, n := put(r.Key)
			cr.key_offset, cr.key_len = off, C.int64_t(n)
		}
		cr.value_offset, cr.value_len = put(r.Value)
		for _, hd := range r.Headers {
			no, nl := put(unsafe.Slice(unsafe.StringData(hd.Name), len(hd.Name)))
			vo, vl := put(hd.Value)
			hdrs[h] = C.pyralog_header_in_t{name_offset: no, name_len: nl, value_offset: vo, value_len: vl}
			h++
		}
		cr.header_count = C.size_t(len(r.Headers))
		if r.Timestamp != 0 {
			cr.timestamp_ms, cr.has_timestamp = C.int64_t(r.Timestamp), true
		}
	}
	b.batch = C.pyralog_batch_in_t{data: (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(data))), data_len: C.size_t(size),
		records: unsafe.SliceData(recs), count: C.size_t(len(records)), headers: unsafe.SliceData(hdrs), header_count: C.size_t(headers)}
	return b
}

func (b *cBatch) free() {
	for _, p := range b.allocs {
		C.free(p)
	}
}

// cPartitions copies partitions into C memory.
type cPartitions struct {
	items []C.pyralog_log_partition_t
	ptr   *C.pyralog_log_partition_t
}

func newPartitions(lps []LogPartition) *cPartitions {
	c := &cPartitions{}
	if len(lps) == 0 {
		return c
	}
	c.ptr = (*C.pyralog_log_partition_t)(C.malloc(C.size_t(len(lps) * C.sizeof_pyralog_log_partition_t)))
	c.items = unsafe.Slice(c.ptr, len(lps))
	for i, lp := range lps {
		c.items[i] = C.pyralog_log_partition_t{log: cstr(lp.Log), partition: C.uint32_t(lp.Partition)}
	}
	return c
}

func (c *cPartitions) free() {
	for _, it := range c.items {
		freeStr(it.log)
	}
	if c.ptr != nil {
		C.free(unsafe.Pointer(c.ptr))
	}
}

func goPartitions(p *C.pyralog_log_partition_t, n C.size_t) []LogPartition {
	items := unsafe.Slice(p, int(n))
	out := make([]LogPartition, len(items))
	for i, it := range items {
		out[i] = LogPartition{Log: goStr(it.log), Partition: int32(it.partition)}
	}
	return out
}

func takeOffsets(o *C.pyralog_offsets_t) map[LogPartition]uint64 {
	defer C.pyralog_offsets_free(o)
	items := unsafe.Slice(o.items, int(o.len))
	out := make(map[LogPartition]uint64, len(items))
	for _, it := range items {
		out[LogPartition{Log: goStr(it.partition.log), Partition: int32(it.partition.partition)}] = uint64(it.offset)
	}
	return out
}
