//go:build cgo

package pyralog

/*
#cgo CFLAGS: -I${SRCDIR}/include -I${SRCDIR}/../bindings/c/include
#include <stdlib.h>
#include "pyralog.h"
*/
import "C"

import (
	"context"
	"fmt"
	"time"
	"unsafe"
)

// The header is include/pyralog.h in the module zip, ../bindings/c/include
// in a checkout. Which library is linked: lib_linux_amd64.go,
// platform_unsupported.go, from_source.go.

func init() {
	if err := checkNativeVersion(nativeVersion()); err != nil {
		panic(err)
	}
}

// nativeVersion is the version the linked library reports.
func nativeVersion() string { return C.GoString(C.pyralog_version()) }

// checkNativeVersion says whether the linked library's version is this
// package's.
func checkNativeVersion(native string) error {
	if native != Version {
		return fmt.Errorf("pyralog: the linked native library libpyralog_c is version %s, but this Go package is %s: "+
			"link the library of the same release (a stale lib/ left from another version?)", native, Version)
	}
	return nil
}

// cstr copies s into C memory; free it with freeStr. No Go pointer ever
// reaches C: everything crosses as a copy.
func cstr(s string) C.pyralog_str_t {
	if len(s) == 0 {
		return C.pyralog_str_t{}
	}
	return C.pyralog_str_t{ptr: (*C.char)(C.CBytes(unsafe.Slice(unsafe.StringData(s), len(s)))), len: C.size_t(len(s))}
}

func freeStr(s C.pyralog_str_t) {
	if s.ptr != nil {
		C.free(unsafe.Pointer(s.ptr))
	}
}

func goStr(s C.pyralog_str_t) string {
	if s.len == 0 {
		return ""
	}
	return C.GoStringN(s.ptr, C.int(s.len))
}

func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// takeError converts and frees a native error (nil for none).
func takeError(e *C.pyralog_error_t) error {
	if e == nil {
		return nil
	}
	err := &Error{Code: Code(e.code), Message: C.GoString(e.message), RetryAfter: time.Duration(e.retry_after_ms) * time.Millisecond}
	if b := e.corrupt_batch; b.log != nil {
		err.CorruptBatch = &BatchLocation{Log: C.GoString(b.log), Partition: int32(b.partition), FirstOffset: uint64(b.first_offset), LastOffset: uint64(b.last_offset)}
	}
	C.pyralog_error_free(e)
	return err
}

// call runs a blocking native call that ctx can cancel: when ctx is done
// the native wait ends with Cancelled, returned wrapped with ctx.Err().
func call(ctx context.Context, f func(cancel *C.pyralog_cancel_t) *C.pyralog_error_t) error {
	if ctx.Done() == nil {
		return takeError(f(nil))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrCancelled, err)
	}
	token := C.pyralog_cancel_new()
	defer C.pyralog_cancel_free(token)
	triggered := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.pyralog_cancel_trigger(token)
		close(triggered)
	})
	err := takeError(f(token))
	if !stop() {
		<-triggered // the trigger ran or is running: let it finish before the token is freed
	}
	if err != nil && IsCode(err, CodeCancelled) && ctx.Err() != nil {
		return fmt.Errorf("%w: %w", err, ctx.Err())
	}
	return err
}

func voidPtr[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

func unsafeSlice[T any](p *T, n int) []T { return unsafe.Slice(p, n) }
