//go:build cgo

package pyralog

/*
#include "pyralog.h"
*/
import "C"

// NativeErrorCodes returns every error code the linked library knows, with
// its name, so a program (or test) can check this package against it.
func NativeErrorCodes() map[Code]string {
	out := map[Code]string{}
	for i := C.size_t(0); i < C.pyralog_error_code_count(); i++ {
		code := C.pyralog_error_code_at(i)
		out[Code(code)] = C.GoString(C.pyralog_error_code_name(code))
	}
	return out
}

// cgoNoop is the cheapest native call, for measuring the cost of one cgo call.
func cgoNoop() { C.pyralog_error_code_count() }
