//go:build cgo && !pyralog_from_source

package pyralog

// The prebuilt static library of the core client for linux/amd64 (glibc),
// which a release puts in the module zip (lib/linux_amd64/, with the header
// in include/); in a checkout, scripts/test.sh copies the debug build there.
// Other platforms: see platform_unsupported.go.

// #cgo LDFLAGS: -L${SRCDIR}/lib/linux_amd64 -lpyralog_c -lm -ldl -lpthread
import "C"
