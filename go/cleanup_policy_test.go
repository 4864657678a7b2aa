package pyralog_test

import (
	"errors"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

func TestCleanupPolicyAndDeleteRetentionRoundTrip(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 30*time.Second)
	log := unique("gcleanup")
	cfg := pyralog.LogConfig{CleanupPolicy: pyralog.CleanupCompact, DeleteRetentionMs: 60_000}
	md := must(c.CreateLogWithConfig(ctx, log, 1, 0, &cfg))
	if md.Config.CleanupPolicy != pyralog.CleanupCompact || md.Config.DeleteRetentionMs != 60_000 {
		t.Fatalf("created: %+v", md.Config)
	}
	got := must(c.GetLogMetadata(ctx, log)).Config
	if got.CleanupPolicy != pyralog.CleanupCompact || got.DeleteRetentionMs != 60_000 {
		t.Fatalf("described: %+v", got)
	}
	got.CleanupPolicy = pyralog.CleanupCompactDelete
	must(c.UpdateLogConfig(ctx, log, got))
	if got := must(c.GetLogMetadata(ctx, log)).Config; got.CleanupPolicy != pyralog.CleanupCompactDelete || got.DeleteRetentionMs != 60_000 {
		t.Fatalf("updated: %+v", got)
	}
}

func TestUnknownCleanupPolicyIsInvalidArgument(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 30*time.Second)
	log := unique("gcleanup-bad")
	cfg := pyralog.LogConfig{CleanupPolicy: 7}
	var perr *pyralog.Error
	if _, err := c.CreateLogWithConfig(ctx, log, 1, 0, &cfg); !errors.Is(err, pyralog.ErrInvalidArgument) || !errors.As(err, &perr) || perr.Message == "" {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
	if exists := must(c.LogExists(ctx, log)); exists {
		t.Fatalf("%s was created", log)
	}
}
