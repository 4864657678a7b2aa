package pyralog

import "testing"

// BenchmarkCgoCall measures one Go -> C -> Rust call that does nothing:
// the fixed cost every native call pays (batch APIs pay it once per batch).
func BenchmarkCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cgoNoop()
	}
}
