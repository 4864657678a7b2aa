// Package pyralog is the Go client of Pyralog, a partitioned, replicated,
// append-only log. It binds with cgo to the C ABI of the Rust core client
// (bindings/c), so partitioning, batching, idempotent retries, consumer
// groups and commits behave exactly as in every other language.
//
//	client, err := pyralog.Connect(ctx, "127.0.0.1:9092", pyralog.Config{CAFile: "pyralog-data/tls/ca.pem"})
//	if err != nil { ... }
//	defer client.Close()
//	md, err := client.Produce(ctx, "user_events", pyralog.Record{Key: []byte("user-1"), Value: []byte("event-1"), Partition: pyralog.NoPartition})
//	records, err := client.ConsumeFromPartition(ctx, "user_events", md.Partition, 0, 10)
//
// Every blocking call takes a context.Context: cancelling it (or its
// deadline passing) ends the native wait at once with an error that
// matches both ErrCancelled and the context's error under errors.Is.
// Errors are *Error values with a stable Code; each code has a sentinel
// (ErrLogNotFound, ErrInvalidLogId, ...) usable with errors.Is.
//
// On a server with authentication on, Config.Token (a bearer token) or
// Config.CertFile and Config.KeyFile (an mTLS client certificate) name the
// principal; refusals are ErrAuthenticationFailed, ErrNotAuthorized and
// ErrThrottled, the last with Error.RetryAfter set to the wait the server
// asked for.
//
// The package links the core client's static library, prebuilt for
// linux/amd64 in the module zip that `go get` fetches (lib/linux_amd64/), so
// only a C toolchain is needed; elsewhere, build it from source (README.md).
package pyralog
