//go:build cgo && pyralog_from_source

package pyralog

// With the pyralog_from_source build tag the package links no prebuilt
// library: CGO_LDFLAGS names the one built from source (README.md, "Build
// from source"), e.g.
//
//	CGO_LDFLAGS="-L/path/to/pyralog/target/release -lpyralog_c -lm -ldl -lpthread" go build -tags pyralog_from_source
