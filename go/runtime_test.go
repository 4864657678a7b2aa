package pyralog_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

func TestCancellingTheContextAbortsALongPoll(t *testing.T) {
	c := connect(t)
	log := unique("gcancel")
	must(c.CreateLog(ctxFor(t, 10*time.Second), log, 1))
	k := must(c.Consumer(pyralog.ConsumerConfig{}))
	defer k.Close(context.Background())
	check(t, k.Assign([]pyralog.LogPartition{{Log: log, Partition: 0}}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err := k.Poll(ctx, 30*time.Second)
	if !errors.Is(err, pyralog.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("poll ended with %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	deadline, stop := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer stop()
	if _, err := k.Poll(deadline, 30*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	if r := must(k.Poll(context.Background(), 10*time.Millisecond)); len(r) != 0 {
		t.Fatalf("the consumer is usable again: %d records", len(r))
	}
}

func TestARebalanceCallbackCallingItsConsumerGetsConcurrentCallNotADeadlock(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 30*time.Second)
	log := unique("gbusy")
	must(c.CreateLog(ctx, log, 1))
	k := must(c.Consumer(pyralog.ConsumerConfig{GroupID: unique("gbusy")}))
	defer k.Close(ctx)
	var inner error
	check(t, k.Subscribe([]string{log}, func(kind pyralog.RebalanceKind, _ []pyralog.LogPartition) {
		if kind == pyralog.Assigned {
			_, inner = k.Poll(ctx, time.Millisecond)
		}
	}))
	waitFor(t, "the assignment", func() bool {
		must(k.Poll(ctx, 200*time.Millisecond))
		return inner != nil
	})
	if !errors.Is(inner, pyralog.ErrConcurrentCall) {
		t.Fatalf("nested call: %v", inner)
	}
}

func TestErrorCodesMatchTheLibrary(t *testing.T) {
	native := pyralog.NativeErrorCodes()
	if len(native) == 0 {
		t.Fatal("no codes from the library")
	}
	for code, name := range native {
		if code.String() != name || !errors.Is(&pyralog.Error{Code: code}, &pyralog.Error{Code: code}) {
			t.Errorf("code %d: Go says %q, the library %q", code, code.String(), name)
		}
	}
	var e *pyralog.Error
	wrapped := errors.Join(errors.New("context"), &pyralog.Error{Code: pyralog.CodeLogNotFound, Message: "m"})
	if !errors.Is(wrapped, pyralog.ErrLogNotFound) || !errors.As(wrapped, &e) || e.Code != 200 {
		t.Fatalf("errors.Is/As through wrapping: %v", wrapped)
	}
}

func TestBuildingWithoutCgoFailsWithAReadableMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package again")
	}
	cmd := exec.Command("go", "build", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "pyralog_requires_cgo__build_with_CGO_ENABLED_1") {
		t.Fatalf("build without cgo: err %v, output %s", err, out)
	}
}

func TestFlushReturnsOnlyAfterEveryCallbackHasRun(t *testing.T) {
	c := connect(t)
	log := unique("gflushcb")
	ctx := ctxFor(t, 60*time.Second)
	must(c.CreateLog(ctx, log, 4))
	p := must(c.Producer(pyralog.ProducerConfig{}))
	defer p.Close(context.Background())
	const rounds, perRound = 40, 50
	var mu sync.Mutex
	ran := 0
	for round := 1; round <= rounds; round++ {
		for i := 0; i < perRound; i++ {
			err := p.Send(ctx, log, pyralog.Record{Value: []byte("v"), Partition: pyralog.NoPartition}, func(pyralog.RecordMetadata, error) {
				time.Sleep(100 * time.Microsecond) // slow callbacks widen the window Flush must not slip through
				mu.Lock()
				ran++
				mu.Unlock()
			})
			check(t, err)
		}
		check(t, p.Flush(ctx))
		mu.Lock()
		got := ran
		mu.Unlock()
		if got != round*perRound {
			t.Fatalf("round %d: Flush returned after %d of %d callbacks", round, got, round*perRound)
		}
	}
}
