//go:build cgo && !(linux && amd64) && !pyralog_from_source

package pyralog

import "runtime"

// This module carries a prebuilt native library for linux/amd64 only, so on
// any other platform the build stops here, with the platform in the message.
// Build the library from source and link it yourself instead: README.md,
// "Build from source" (the pyralog_from_source build tag and CGO_LDFLAGS).
const _ int = runtime.GOOS + "/" + runtime.GOARCH + ": no prebuilt pyralog library; README: Build from source"
