//go:build !cgo

package pyralog

// The Pyralog Go client binds to the Rust core client through cgo.
// Build with CGO_ENABLED=1 and a C toolchain (gcc or clang).
var _ = pyralog_requires_cgo__build_with_CGO_ENABLED_1
