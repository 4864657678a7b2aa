package pyralog

import "testing"

func TestLogStateAndRebalanceKindPrintTheirNames(t *testing.T) {
	for state, want := range map[LogState]string{LogActive: "Active", LogPaused: "Paused", LogDeleting: "Deleting", 7: "LogState(7)"} {
		if got := state.String(); got != want {
			t.Errorf("LogState(%d).String() = %q, want %q", int32(state), got, want)
		}
	}
	for kind, want := range map[RebalanceKind]string{Assigned: "assigned", Revoked: "revoked", Lost: "lost", 9: "RebalanceKind(9)"} {
		if got := kind.String(); got != want {
			t.Errorf("RebalanceKind(%d).String() = %q, want %q", int32(kind), got, want)
		}
	}
}
