//go:build cgo

package pyralog

/*
#include "pyralog.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// pyralogGoRebalance is the C callback of every subscribed consumer: its
// user data is a cgo.Handle of the consumer's listener, never a Go pointer.
//
//export pyralogGoRebalance
func pyralogGoRebalance(userData unsafe.Pointer, kind C.int32_t, parts *C.pyralog_log_partition_t, n C.size_t) {
	l := cgo.Handle(uintptr(userData)).Value().(*listenerBox)
	l.call(RebalanceKind(kind), goPartitions(parts, n))
}
