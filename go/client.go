//go:build cgo

package pyralog

/*
#include <stdlib.h>
#include "pyralog.h"
*/
import "C"

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Config holds connection settings; zero values take the defaults.
type Config struct {
	// Servers are further "host:port" addresses of the cluster, tried
	// besides the one given to Connect: any one that answers is enough.
	Servers []string
	// CAFile is the PEM CA certificate to trust (the server's
	// <data-dir>/tls/ca.pem); empty for the system roots.
	CAFile string
	// ServerName is the name to verify in the server's certificate; empty
	// for the host of the address.
	ServerName string
	// ConnectTimeout bounds connecting (default 5 s).
	ConnectTimeout time.Duration
	// RequestTimeout bounds each request (default 30 s).
	RequestTimeout time.Duration
	// CertFile and KeyFile are a PEM client certificate and its private key
	// (pyralog-server cert issue): the connection's identity on a server that
	// authenticates clients by mTLS, the principal being the certificate's
	// CN. Both or neither, else Connect fails with ErrInvalidArgument.
	CertFile string
	KeyFile  string
	// Token is a bearer token (pyralog-server token create NAME): every
	// connection authenticates with it before its first request.
	Token string
}

// Client is a connection to a Pyralog server. It is safe for concurrent use.
// Close it when done.
type Client struct {
	mu     sync.RWMutex // guards c against Close freeing it during a call
	c      *C.pyralog_client_t
	closed bool
}

// Connect connects to the cluster through addr ("host:port") and
// Config.Servers. It fails with ErrConnectionFailed or ErrTlsError within
// Config.ConnectTimeout, or when ctx is done.
func Connect(ctx context.Context, addr string, cfg Config) (*Client, error) {
	servers := strings.Join(append([]string{addr}, cfg.Servers...), ",")
	a, ca, name := cstr(servers), cstr(cfg.CAFile), cstr(cfg.ServerName)
	cert, key, token := cstr(cfg.CertFile), cstr(cfg.KeyFile), cstr(cfg.Token)
	for _, s := range []C.pyralog_str_t{a, ca, name, cert, key, token} {
		defer freeStr(s)
	}
	config := C.pyralog_client_config_t{ca_file: ca, server_name: name,
		connect_timeout_ms: C.uint64_t(cfg.ConnectTimeout.Milliseconds()), request_timeout_ms: C.uint64_t(cfg.RequestTimeout.Milliseconds()),
		cert_file: cert, key_file: key, token: token}
	var c *C.pyralog_client_t
	if err := call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_client_connect(a, &config, t, &c)
	}); err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// with runs f on the live native client, or fails with ErrClosed.
func (cl *Client) with(f func(c *C.pyralog_client_t) error) error {
	cl.mu.RLock()
	defer cl.mu.RUnlock()
	if cl.closed {
		return &Error{Code: CodeClosed, Message: "the client is closed"}
	}
	return f(cl.c)
}

// named runs a call that takes a log name.
func (cl *Client) named(ctx context.Context, name string, f func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t) error {
	n := cstr(name)
	defer freeStr(n)
	return cl.with(func(c *C.pyralog_client_t) error {
		return call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t { return f(c, n, t) })
	})
}

// CreateLog creates a log with partitions partitions and default settings
// (the server's default_replication_factor).
func (cl *Client) CreateLog(ctx context.Context, name string, partitions int32) (LogMetadata, error) {
	return cl.CreateLogWithConfig(ctx, name, partitions, 0, nil)
}

// CreateLogWithConfig creates a log with replicationFactor copies of each
// partition (0: the server's default_replication_factor); a nil config takes
// the defaults.
// Fails with ErrLogAlreadyExists, ErrInvalidLogId, ErrInvalidConfig.
func (cl *Client) CreateLogWithConfig(ctx context.Context, name string, partitions, replicationFactor int32, config *LogConfig) (LogMetadata, error) {
	var md *C.pyralog_log_metadata_t
	var cfg *C.pyralog_log_config_t
	if config != nil {
		cfg = (*C.pyralog_log_config_t)(C.malloc(C.sizeof_pyralog_log_config_t))
		defer C.free(voidPtr(cfg))
		*cfg = config.toC()
	}
	err := cl.named(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_create_log(c, n, C.uint32_t(partitions), C.uint32_t(replicationFactor), cfg, t, &md)
	})
	if err != nil {
		return LogMetadata{}, err
	}
	return takeLogMetadata(md), nil
}

// ListLogs returns every log (internal logs hidden).
func (cl *Client) ListLogs(ctx context.Context) ([]LogMetadata, error) {
	var list *C.pyralog_log_list_t
	err := cl.with(func(c *C.pyralog_client_t) error {
		return call(ctx, func(t *C.pyralog_cancel_t) *C.pyralog_error_t { return C.pyralog_list_logs(c, t, &list) })
	})
	if err != nil {
		return nil, err
	}
	defer C.pyralog_log_list_free(list)
	items := unsafeSlice(list.items, int(list.len))
	out := make([]LogMetadata, len(items))
	for i := range items {
		out[i] = logMetadata(&items[i])
	}
	return out, nil
}

// LogExists reports whether the log exists.
func (cl *Client) LogExists(ctx context.Context, name string) (bool, error) {
	var exists C.bool
	err := cl.named(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_log_exists(c, n, t, &exists)
	})
	return bool(exists), err
}

// metadataCall runs a call that answers a log's metadata.
func (cl *Client) metadataCall(ctx context.Context, name string, f func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t, out **C.pyralog_log_metadata_t) *C.pyralog_error_t) (LogMetadata, error) {
	var md *C.pyralog_log_metadata_t
	err := cl.named(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return f(c, n, t, &md)
	})
	if err != nil {
		return LogMetadata{}, err
	}
	return takeLogMetadata(md), nil
}

// GetLogMetadata returns the log's partitions, settings and state.
func (cl *Client) GetLogMetadata(ctx context.Context, name string) (LogMetadata, error) {
	return cl.metadataCall(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t, out **C.pyralog_log_metadata_t) *C.pyralog_error_t {
		return C.pyralog_get_log_metadata(c, n, t, out)
	})
}

// GetLogStats returns the log's record count, size and write rate.
func (cl *Client) GetLogStats(ctx context.Context, name string) (LogStats, error) {
	var s *C.pyralog_log_stats_t
	err := cl.named(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_get_log_stats(c, n, t, &s)
	})
	if err != nil {
		return LogStats{}, err
	}
	return takeLogStats(s), nil
}

// UpdateLogConfig replaces the log's settings.
func (cl *Client) UpdateLogConfig(ctx context.Context, name string, config LogConfig) (LogMetadata, error) {
	cfg := (*C.pyralog_log_config_t)(C.malloc(C.sizeof_pyralog_log_config_t))
	defer C.free(voidPtr(cfg))
	*cfg = config.toC()
	return cl.metadataCall(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t, out **C.pyralog_log_metadata_t) *C.pyralog_error_t {
		return C.pyralog_update_log_config(c, n, cfg, t, out)
	})
}

// PauseLog rejects writes with ErrLogPaused until ResumeLog; reads go on.
func (cl *Client) PauseLog(ctx context.Context, name string) (LogMetadata, error) {
	return cl.metadataCall(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t, out **C.pyralog_log_metadata_t) *C.pyralog_error_t {
		return C.pyralog_pause_log(c, n, true, t, out)
	})
}

// ResumeLog accepts writes again.
func (cl *Client) ResumeLog(ctx context.Context, name string) (LogMetadata, error) {
	return cl.metadataCall(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t, out **C.pyralog_log_metadata_t) *C.pyralog_error_t {
		return C.pyralog_pause_log(c, n, false, t, out)
	})
}

// AddPartitions grows the log to partitions partitions.
func (cl *Client) AddPartitions(ctx context.Context, name string, partitions int32) (LogMetadata, error) {
	return cl.metadataCall(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t, out **C.pyralog_log_metadata_t) *C.pyralog_error_t {
		return C.pyralog_add_partitions(c, n, C.uint32_t(partitions), t, out)
	})
}

// DeleteLog deletes the log and its data.
func (cl *Client) DeleteLog(ctx context.Context, name string) error {
	return cl.named(ctx, name, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_delete_log(c, n, t)
	})
}

// Produce writes one record and waits for its acknowledgement (use a
// Producer for throughput). Fails with ErrLogNotFound, ErrLogPaused,
// ErrRecordTooLarge.
func (cl *Client) Produce(ctx context.Context, log string, record Record) (RecordMetadata, error) {
	b := newBatch([]Record{record}, NoPartition)
	defer b.free()
	var md C.pyralog_record_metadata_t
	err := cl.named(ctx, log, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_produce(c, n, &b.batch, t, &md)
	})
	if err != nil {
		return RecordMetadata{}, err
	}
	return recordMetadata(log, &md), nil
}

// Consume returns up to max records of every partition from offset.
func (cl *Client) Consume(ctx context.Context, log string, offset uint64, max int) ([]Record, error) {
	var r *C.pyralog_records_t
	err := cl.named(ctx, log, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_consume(c, n, C.uint64_t(offset), C.size_t(max), t, &r)
	})
	if err != nil {
		return nil, err
	}
	return takeRecords(r), nil
}

// ConsumeFromPartition returns up to max records of one partition from
// offset (OffsetEnd: only what is newer). Past the end: ErrOffsetOutOfRange.
// The records before a stored batch that cannot be decoded are returned; a
// read from it fails with ErrCorruptData, whose CorruptBatch names it (read
// on from its LastOffset+1 to skip it).
func (cl *Client) ConsumeFromPartition(ctx context.Context, log string, partition int32, offset uint64, max int) ([]Record, error) {
	var r *C.pyralog_records_t
	err := cl.named(ctx, log, func(c *C.pyralog_client_t, n C.pyralog_str_t, t *C.pyralog_cancel_t) *C.pyralog_error_t {
		return C.pyralog_consume_from_partition(c, n, C.uint32_t(partition), C.uint64_t(offset), C.size_t(max), t, &r)
	})
	if err != nil {
		return nil, err
	}
	return takeRecords(r), nil
}

// Close closes the connection. It is idempotent; later calls fail with
// ErrClosed. Close producers and consumers first.
func (cl *Client) Close() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.closed {
		return nil
	}
	cl.closed = true
	err := takeError(C.pyralog_client_close(cl.c))
	C.pyralog_client_free(cl.c)
	cl.c = nil
	return err
}
