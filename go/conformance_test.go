package pyralog_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

func TestScenario1ConnectAndTypedConnectionErrorsWithin10s(t *testing.T) {
	c := connect(t)
	must(c.ListLogs(ctxFor(t, 10*time.Second)))
	other, err := startServer()
	check(t, err)
	defer other.stop()
	start := time.Now()
	_, err = pyralog.Connect(ctxFor(t, 10*time.Second), shared.addr, pyralog.Config{CAFile: other.caFile})
	if !errors.Is(err, pyralog.ErrTlsError) {
		t.Fatalf("wrong CA: %v", err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	check(t, err)
	dead := pc.LocalAddr().String()
	_, err = pyralog.Connect(ctxFor(t, 10*time.Second), dead, pyralog.Config{CAFile: shared.caFile, ConnectTimeout: 2 * time.Second})
	_ = pc.Close()
	var perr *pyralog.Error
	if !errors.Is(err, pyralog.ErrConnectionFailed) || !errors.As(err, &perr) || perr.Code != 900 {
		t.Fatalf("dead port: %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestScenario2LogAdminAndInvalidNames(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 30*time.Second)
	name := unique("gconf-2")
	md := must(c.CreateLog(ctx, name, 4))
	if md.PartitionCount != 4 || !must(c.LogExists(ctx, name)) {
		t.Fatalf("created %+v", md)
	}
	found := false
	for _, m := range must(c.ListLogs(ctx)) {
		found = found || (m.Name == name && m.PartitionCount == 4)
	}
	got := must(c.GetLogMetadata(ctx, name))
	if !found || len(got.Partitions) != 4 || got.Partitions[3].Partition != 3 {
		t.Fatalf("list/metadata: %v %+v", found, got)
	}
	for _, p := range got.Partitions {
		if !slices.Equal(p.Replicas, []uint32{p.Leader}) || !slices.Equal(p.ISR, []uint32{p.Leader}) {
			t.Fatalf("one node leads and holds each partition: %+v", p)
		}
	}
	if _, err := c.CreateLog(ctx, name, 4); !errors.Is(err, pyralog.ErrLogAlreadyExists) {
		t.Fatalf("again: %v", err)
	}
	for _, bad := range []string{"user/events", "events@prod", "a b", "", strings.Repeat("a", 250)} {
		if _, err := c.CreateLog(ctx, bad, 1); !errors.Is(err, pyralog.ErrInvalidLogId) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

type vectors struct {
	Vectors []struct {
		KeyHex     string           `json:"key_hex"`
		Partitions map[string]int32 `json:"partitions"`
	} `json:"vectors"`
}

func TestScenario3KeysLandOnTheVectorPartitions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "spec", "partitioner-vectors.json"))
	check(t, err)
	var v vectors
	check(t, json.Unmarshal(raw, &v))
	c, ctx := connect(t), ctxFor(t, 60*time.Second)
	for _, count := range []int32{1, 4, 7, 16} {
		log := unique(fmt.Sprintf("gconf-3-%d", count))
		must(c.CreateLog(ctx, log, count))
		for _, vec := range v.Vectors {
			key := must(hex.DecodeString(vec.KeyHex))
			md := must(c.Produce(ctx, log, pyralog.Record{Key: key, Value: []byte("x"), Partition: pyralog.NoPartition}))
			if want := vec.Partitions[fmt.Sprint(count)]; md.Partition != want {
				t.Fatalf("key %s count %d: partition %d, want %d", vec.KeyHex, count, md.Partition, want)
			}
			back := must(c.ConsumeFromPartition(ctx, log, md.Partition, md.Offset, 1))
			if !bytes.Equal(back[0].Key, key) {
				t.Fatalf("read back %x", back[0].Key)
			}
		}
	}
}

func readAll(t *testing.T, c *pyralog.Client, log string, partitions int32) []pyralog.Record {
	var out []pyralog.Record
	for p := int32(0); p < partitions; p++ {
		offset := uint64(0)
		for {
			recs := must(c.ConsumeFromPartition(ctxFor(t, 30*time.Second), log, p, offset, 20_000))
			if len(recs) == 0 {
				break
			}
			out = append(out, recs...)
			offset = recs[len(recs)-1].Offset + 1
		}
	}
	return out
}

func TestScenario4And6RoundTripKeepsEveryFieldAndStats(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 60*time.Second)
	log := unique("gconf-4")
	must(c.CreateLog(ctx, log, 4))
	start := time.Now().UnixMilli() - 1
	headers := []pyralog.Header{{"source", []byte("web-app")}, {"source", []byte("dup")}, {"empty", []byte{}}}
	type pos struct {
		p int32
		o uint64
	}
	sent := map[pos]int{}
	for i := 0; i < 1000; i++ {
		md := must(c.Produce(ctx, log, pyralog.Record{Key: []byte(fmt.Sprintf("user-%d", i%100)),
			Value: []byte(fmt.Sprintf("event-%d", i)), Headers: headers, Partition: pyralog.NoPartition}))
		sent[pos{md.Partition, md.Offset}] = i
	}
	must(c.Produce(ctx, log, pyralog.Record{Key: []byte{0x80, 0x81}, Value: []byte{0xff, 0, 0xfe}, Partition: pyralog.NoPartition}))
	must(c.Produce(ctx, log, pyralog.Record{Key: []byte("empty-value"), Value: []byte{}, Partition: pyralog.NoPartition}))
	must(c.Produce(ctx, log, pyralog.Record{Value: []byte("no key"), Partition: pyralog.NoPartition}))
	got := readAll(t, c, log, 4)
	if len(got) != 1003 {
		t.Fatalf("read %d records", len(got))
	}
	next := map[int32]uint64{}
	binary, empty, keyless := false, false, false
	for _, r := range got {
		if r.Offset != next[r.Partition] {
			t.Fatalf("offsets not dense: %d/%d", r.Partition, r.Offset)
		}
		next[r.Partition]++
		if r.Epoch < 1 || r.Timestamp < start || r.Timestamp > time.Now().UnixMilli()+1 {
			t.Fatalf("epoch/timestamp: %+v", r)
		}
		if i, ok := sent[pos{r.Partition, r.Offset}]; ok {
			if string(r.Key) != fmt.Sprintf("user-%d", i%100) || string(r.Value) != fmt.Sprintf("event-%d", i) || fmt.Sprint(r.Headers) != fmt.Sprint(headers) {
				t.Fatalf("record %d: %+v", i, r)
			}
		}
		binary = binary || bytes.Equal(r.Value, []byte{0xff, 0, 0xfe}) && bytes.Equal(r.Key, []byte{0x80, 0x81})
		empty = empty || len(r.Value) == 0
		keyless = keyless || r.Key == nil
	}
	if !binary || !empty || !keyless {
		t.Fatalf("special records: %v %v %v", binary, empty, keyless)
	}
	stats := must(c.GetLogStats(ctx, log))
	if stats.RecordCount != 1003 || stats.SizeBytes == 0 {
		t.Fatalf("stats %+v", stats)
	}
}

func TestScenario5OffsetsStartExactlyWhereAsked(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 30*time.Second)
	log := unique("gconf-5")
	must(c.CreateLog(ctx, log, 1))
	for i := 0; i < 10; i++ {
		must(c.Produce(ctx, log, pyralog.Record{Value: []byte(fmt.Sprint(i)), Partition: 0}))
	}
	if r := must(c.ConsumeFromPartition(ctx, log, 0, 7, 100)); len(r) != 3 || r[0].Offset != 7 {
		t.Fatalf("from 7: %d records", len(r))
	}
	if r := must(c.ConsumeFromPartition(ctx, log, 0, pyralog.OffsetEnd, 100)); len(r) != 0 {
		t.Fatalf("from the end: %d records", len(r))
	}
	md := must(c.Produce(ctx, log, pyralog.Record{Value: []byte("new"), Partition: 0}))
	if r := must(c.ConsumeFromPartition(ctx, log, 0, md.Offset, 100)); len(r) != 1 || string(r[0].Value) != "new" {
		t.Fatalf("the new one: %+v", r)
	}
	if _, err := c.ConsumeFromPartition(ctx, log, 0, 12, 100); !errors.Is(err, pyralog.ErrOffsetOutOfRange) {
		t.Fatalf("past the end: %v", err)
	}
}

func TestScenario7LifecyclePauseResumeRetentionDeleteRecreate(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 30*time.Second)
	log := unique("gconf-7")
	must(c.CreateLog(ctx, log, 2))
	if md := must(c.PauseLog(ctx, log)); md.State != pyralog.LogPaused {
		t.Fatalf("state %v", md.State)
	}
	if _, err := c.Produce(ctx, log, pyralog.Record{Value: []byte("x"), Partition: pyralog.NoPartition}); !errors.Is(err, pyralog.ErrLogPaused) {
		t.Fatalf("paused: %v", err)
	}
	must(c.Consume(ctx, log, 0, 10))
	must(c.ResumeLog(ctx, log))
	must(c.Produce(ctx, log, pyralog.Record{Value: []byte("x"), Partition: pyralog.NoPartition}))
	cfg := must(c.GetLogMetadata(ctx, log)).Config
	cfg.RetentionMs = 3_600_000
	must(c.UpdateLogConfig(ctx, log, cfg))
	if got := must(c.GetLogMetadata(ctx, log)).Config.RetentionMs; got != 3_600_000 {
		t.Fatalf("retention %d", got)
	}
	check(t, c.DeleteLog(ctx, log))
	if _, err := c.Produce(ctx, log, pyralog.Record{Value: []byte("x"), Partition: pyralog.NoPartition}); !errors.Is(err, pyralog.ErrLogNotFound) {
		t.Fatalf("deleted produce: %v", err)
	}
	if _, err := c.Consume(ctx, log, 0, 10); !errors.Is(err, pyralog.ErrLogNotFound) {
		t.Fatalf("deleted consume: %v", err)
	}
	must(c.CreateLog(ctx, log, 2))
	if r := must(c.Consume(ctx, log, 0, 10)); len(r) != 0 {
		t.Fatalf("re-created log has %d records", len(r))
	}
}

func TestScenario8HundredThousandSendsResolveAndReadBackOnce(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 120*time.Second)
	log := unique("gconf-8")
	must(c.CreateLog(ctx, log, 4))
	p := must(c.Producer(pyralog.ProducerConfig{}))
	const count = 100_000
	var mu sync.Mutex
	resolved, failed := 0, 0
	for i := 0; i < count; i++ {
		rec := pyralog.Record{Key: []byte(fmt.Sprintf("k%d", i%1000)), Value: []byte(fmt.Sprintf("%0100d", i)), Partition: pyralog.NoPartition}
		check(t, p.Send(ctx, log, rec, func(md pyralog.RecordMetadata, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
			}
			resolved++
		}))
	}
	check(t, p.Flush(ctx))
	check(t, p.Close(ctx))
	if resolved != count || failed != 0 {
		t.Fatalf("resolved %d, failed %d", resolved, failed)
	}
	seen := map[string]bool{}
	for _, r := range readAll(t, c, log, 4) {
		seen[string(r.Key)+"/"+string(r.Value)] = true
	}
	if len(seen) != count {
		t.Fatalf("read back %d distinct records", len(seen))
	}
}

// member polls in its own goroutine; its listener tracks what it owns.
type member struct {
	k         *pyralog.Consumer
	mu        sync.Mutex
	owned     map[int32]bool
	delivered []string
	events    []pyralog.RebalanceKind
	stop      chan struct{}
	done      chan struct{}
}

func newMember(t *testing.T, c *pyralog.Client, log, group string) *member {
	k := must(c.Consumer(pyralog.ConsumerConfig{GroupID: group, SessionTimeout: 6 * time.Second, HeartbeatInterval: 500 * time.Millisecond}))
	m := &member{k: k, owned: map[int32]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	check(t, k.Subscribe([]string{log}, func(kind pyralog.RebalanceKind, parts []pyralog.LogPartition) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.events = append(m.events, kind)
		for _, lp := range parts {
			m.owned[lp.Partition] = kind == pyralog.Assigned
		}
	}))
	go func() {
		defer close(m.done)
		for {
			select {
			case <-m.stop:
				return
			default:
			}
			recs, err := k.Poll(context.Background(), 200*time.Millisecond)
			if err != nil {
				t.Errorf("poll: %v", err)
				return
			}
			m.mu.Lock()
			for _, r := range recs {
				m.delivered = append(m.delivered, fmt.Sprintf("%d/%d", r.Partition, r.Offset))
			}
			m.mu.Unlock()
			if len(recs) > 0 {
				if err := k.Commit(context.Background()); err != nil && !errors.Is(err, pyralog.ErrRebalanceInProgress) {
					t.Errorf("commit: %v", err)
				}
			}
		}
	}()
	return m
}

func (m *member) ownedSet() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int32
	for p, ok := range m.owned {
		if ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (m *member) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.delivered)
}

func (m *member) close(t *testing.T) {
	close(m.stop)
	<-m.done
	check(t, m.k.Close(ctxFor(t, 30*time.Second)))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestScenario9TwoMembersSplitThenOneOwnsAll(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 90*time.Second)
	log, group := unique("gconf-9"), unique("gg9")
	must(c.CreateLog(ctx, log, 4))
	for i := 0; i < 200; i++ {
		must(c.Produce(ctx, log, pyralog.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("v%d", i)), Partition: pyralog.NoPartition}))
	}
	a, b := newMember(t, c, log, group), newMember(t, c, log, group)
	waitFor(t, "a 2/2 split and every record", func() bool {
		return len(a.ownedSet()) == 2 && len(b.ownedSet()) == 2 && a.count()+b.count() >= 200
	})
	union := map[int32]bool{}
	for _, p := range append(a.ownedSet(), b.ownedSet()...) {
		union[p] = true
	}
	if len(union) != 4 {
		t.Fatalf("not disjoint or not all: %v %v", a.ownedSet(), b.ownedSet())
	}
	b.close(t)
	waitFor(t, "a owns all 4", func() bool { return len(a.ownedSet()) == 4 })
	a.mu.Lock()
	all := append(append([]string{}, a.delivered...), b.delivered...)
	hadRevoke := false
	for _, e := range append(a.events, b.events...) {
		hadRevoke = hadRevoke || e == pyralog.Revoked
	}
	a.mu.Unlock()
	distinct := map[string]bool{}
	for _, d := range all {
		distinct[d] = true
	}
	if len(all) != 200 || len(distinct) != 200 || !hadRevoke {
		t.Fatalf("delivered %d (%d distinct), revoke seen %v", len(all), len(distinct), hadRevoke)
	}
	a.close(t)
	for i := 200; i < 210; i++ {
		must(c.Produce(ctx, log, pyralog.Record{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("v%d", i)), Partition: pyralog.NoPartition}))
	}
	late := must(c.Consumer(pyralog.ConsumerConfig{GroupID: group}))
	check(t, late.Subscribe([]string{log}, nil))
	var got []string
	waitFor(t, "the late member's 10 records", func() bool {
		for _, r := range must(late.Poll(ctx, 200*time.Millisecond)) {
			got = append(got, string(r.Value))
		}
		return len(got) >= 10
	})
	check(t, late.Close(ctx))
	sort.Strings(got)
	if len(got) != 10 || got[0] != "v200" || got[9] != "v209" {
		t.Fatalf("late member read %v", got)
	}
}

func TestScenario10CommitThenCommittedAndResumeThere(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 60*time.Second)
	log, group := unique("gconf-10"), unique("gg10")
	must(c.CreateLog(ctx, log, 1))
	for i := 0; i < 20; i++ {
		must(c.Produce(ctx, log, pyralog.Record{Value: []byte(fmt.Sprint(i)), Partition: 0}))
	}
	k := must(c.Consumer(pyralog.ConsumerConfig{GroupID: group, DisableAutoCommit: true}))
	check(t, k.Subscribe([]string{log}, nil))
	waitFor(t, "the assignment", func() bool {
		must(k.Poll(ctx, 200*time.Millisecond))
		return len(must(k.Assignment())) == 1
	})
	lp := pyralog.LogPartition{Log: log, Partition: 0}
	check(t, k.Seek(lp, 12))
	check(t, k.Commit(ctx))
	if got := must(k.Committed(ctx)); got[lp] != 12 {
		t.Fatalf("committed %v", got)
	}
	check(t, k.Close(ctx))
	k2 := must(c.Consumer(pyralog.ConsumerConfig{GroupID: group}))
	check(t, k2.Subscribe([]string{log}, nil))
	var offsets []uint64
	waitFor(t, "records from the commit", func() bool {
		for _, r := range must(k2.Poll(ctx, 200*time.Millisecond)) {
			offsets = append(offsets, r.Offset)
		}
		return len(offsets) >= 8
	})
	check(t, k2.Close(ctx))
	if offsets[0] != 12 || len(offsets) != 8 {
		t.Fatalf("resumed at %v", offsets)
	}
}

func TestScenario11ErrorsAndEmptyPollTimeout(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 30*time.Second)
	if _, err := c.Produce(ctx, unique("gmissing"), pyralog.Record{Value: []byte("x"), Partition: pyralog.NoPartition}); !errors.Is(err, pyralog.ErrLogNotFound) {
		t.Fatalf("missing log: %v", err)
	}
	log := unique("gconf-11")
	must(c.CreateLog(ctx, log, 1))
	big := bytes.Repeat([]byte("x"), 2<<20)
	if _, err := c.Produce(ctx, log, pyralog.Record{Value: big, Partition: pyralog.NoPartition}); !errors.Is(err, pyralog.ErrRecordTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if r := must(c.Consume(ctx, log, 0, 10)); len(r) != 0 {
		t.Fatalf("something was written: %d", len(r))
	}
	k := must(c.Consumer(pyralog.ConsumerConfig{}))
	defer k.Close(ctx)
	check(t, k.Assign([]pyralog.LogPartition{{Log: log, Partition: 0}}))
	start := time.Now()
	if r := must(k.Poll(ctx, 500*time.Millisecond)); len(r) != 0 {
		t.Fatalf("empty log gave %d", len(r))
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
		t.Fatalf("empty poll took %v", d)
	}
}

func TestScenario12CloseIsIdempotentAndLaterCallsFailClosed(t *testing.T) {
	c, err := pyralog.Connect(ctxFor(t, 10*time.Second), shared.addr, pyralog.Config{CAFile: shared.caFile})
	check(t, err)
	ctx := ctxFor(t, 30*time.Second)
	p := must(c.Producer(pyralog.ProducerConfig{}))
	k := must(c.Consumer(pyralog.ConsumerConfig{}))
	check(t, p.Close(ctx))
	check(t, p.Close(ctx))
	if err := p.Send(ctx, "x", pyralog.Record{Value: []byte("x")}, nil); !errors.Is(err, pyralog.ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	check(t, k.Close(ctx))
	check(t, k.Close(ctx))
	if _, err := k.Poll(ctx, time.Millisecond); !errors.Is(err, pyralog.ErrClosed) {
		t.Fatalf("poll after close: %v", err)
	}
	check(t, c.Close())
	check(t, c.Close())
	if _, err := c.ListLogs(ctx); !errors.Is(err, pyralog.ErrClosed) {
		t.Fatalf("list after close: %v", err)
	}
}

func TestScenario13EightGoroutinesShareOneClient(t *testing.T) {
	c, ctx := connect(t), ctxFor(t, 60*time.Second)
	log := unique("gconf-13")
	must(c.CreateLog(ctx, log, 4))
	p := must(c.Producer(pyralog.ProducerConfig{}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				err := p.Send(ctx, log, pyralog.Record{Value: []byte(fmt.Sprintf("g%d-%d", g, i)), Partition: pyralog.NoPartition},
					func(_ pyralog.RecordMetadata, err error) {
						if err == nil {
							mu.Lock()
							acked++
							mu.Unlock()
						}
					})
				if err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	check(t, p.Close(ctx))
	values := map[string]bool{}
	recs := must(c.Consume(ctx, log, 0, 100_000))
	for _, r := range recs {
		values[string(r.Value)] = true
	}
	if acked != 4000 || len(recs) != 4000 || len(values) != 4000 {
		t.Fatalf("acked %d, read %d (%d distinct)", acked, len(recs), len(values))
	}
}
