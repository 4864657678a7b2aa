// Group is a consumer group of two members splitting a log: each member
// polls on its own goroutine, hears of its partitions through a rebalance
// listener and commits after every poll that returned records.
//
// Run it from examples/go against a running server:
//
//	go run ./group [HOST:PORT] [CA_FILE]
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"
	"sync"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

const (
	logName    = "orders"
	partitions = 4
	orders     = 200
	// waitLimit bounds each wait: for the split, then for every record.
	waitLimit = 30 * time.Second
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("group: ")
	addr, caFile := arg(1, "127.0.0.1:9092"), arg(2, "pyralog-data/tls/ca.pem")
	if err := run(addr, caFile); err != nil {
		log.Fatal(err)
	}
}

func run(addr, caFile string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := pyralog.Connect(ctx, addr, pyralog.Config{CAFile: caFile})
	if err != nil {
		return err
	}
	defer client.Close()
	if exists, err := client.LogExists(ctx, logName); err != nil {
		return err
	} else if exists {
		if err := client.DeleteLog(ctx, logName); err != nil {
			return err
		}
	}
	if _, err := client.CreateLog(ctx, logName, partitions); err != nil {
		return err
	}

	// A group id of its own per run, so that a re-run starts fresh.
	group := fmt.Sprintf("billing-%d", time.Now().UnixMilli())
	var members []*member
	defer func() {
		for _, m := range members {
			m.consumer.Close(context.Background()) // no-op once closed below
		}
	}()
	for _, id := range []string{"a", "b"} {
		m, err := join(client, group, id)
		if err != nil {
			return err
		}
		members = append(members, m)
	}

	// Both members poll concurrently: a rebalance waits for every member
	// to rejoin, which each does inside its own Poll.
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	var wg sync.WaitGroup
	failed := make(chan error, len(members))
	for _, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.pollUntilDone(ctx, pollCtx); err != nil {
				failed <- err
				stopPolling()
			}
		}()
	}
	stop := func() error {
		stopPolling()
		wg.Wait()
		close(failed)
		return <-failed // nil when no member failed
	}

	err = waitUntil(pollCtx, "each member owns 2 partitions", func() bool {
		return len(members[0].owned()) == 2 && len(members[1].owned()) == 2
	})
	if err == nil {
		err = produceOrders(ctx, client)
	}
	if err == nil {
		err = waitUntil(pollCtx, fmt.Sprintf("the members to receive %d records", orders), func() bool {
			return members[0].count()+members[1].count() >= orders
		})
	}
	if perr := stop(); perr != nil {
		return perr
	}
	if err != nil {
		return err
	}

	for _, m := range members {
		fmt.Printf("member %s read %d records from partitions %v\n", m.id, m.count(), m.owned())
	}
	if err := checkSplit(members); err != nil {
		return err
	}

	all := make([]pyralog.LogPartition, partitions)
	for p := range all {
		all[p] = pyralog.LogPartition{Log: logName, Partition: int32(p)}
	}
	committed, err := members[0].consumer.Committed(ctx, all...)
	if err != nil {
		return err
	}
	for _, lp := range all {
		if offset, ok := committed[lp]; ok {
			fmt.Printf("committed %s/%d: %d\n", lp.Log, lp.Partition, offset)
		} else {
			fmt.Printf("committed %s/%d: nothing\n", lp.Log, lp.Partition)
		}
	}

	for _, m := range members {
		if err := m.consumer.Close(ctx); err != nil {
			return err
		}
	}
	return client.Close()
}

// member is one consumer of the group and what its listener and polls saw.
type member struct {
	id       string
	consumer *pyralog.Consumer

	mu         sync.Mutex
	partitions map[int32]bool // owned now, from the rebalance listener
	values     []string       // every value polled
}

func join(client *pyralog.Client, group string, id string) (*member, error) {
	consumer, err := client.Consumer(pyralog.ConsumerConfig{GroupID: group})
	if err != nil {
		return nil, err
	}
	m := &member{id: id, consumer: consumer, partitions: map[int32]bool{}}
	// The listener runs inside Poll, on the member's polling goroutine.
	err = consumer.Subscribe([]string{logName}, func(kind pyralog.RebalanceKind, lps []pyralog.LogPartition) {
		parts := make([]int32, len(lps))
		for i, lp := range lps {
			parts[i] = lp.Partition
		}
		slices.Sort(parts)
		m.mu.Lock()
		for _, p := range parts {
			if kind == pyralog.Assigned {
				m.partitions[p] = true
			} else {
				delete(m.partitions, p)
			}
		}
		m.mu.Unlock()
		fmt.Printf("member %s %s %v\n", id, kind, parts)
	})
	if err != nil {
		consumer.Close(context.Background())
		return nil, err
	}
	return m, nil
}

// pollUntilDone polls until stop is done, committing synchronously (within
// ctx, so that a commit under way completes) after every poll that
// returned records.
func (m *member) pollUntilDone(ctx, stop context.Context) error {
	for stop.Err() == nil {
		records, err := m.consumer.Poll(stop, 200*time.Millisecond)
		if stop.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("member %s: poll: %w", m.id, err)
		}
		if len(records) == 0 {
			continue
		}
		m.mu.Lock()
		for _, r := range records {
			m.values = append(m.values, string(r.Value))
		}
		m.mu.Unlock()
		// RebalanceInProgress: the member rejoins in its next poll and
		// commits again after it.
		err = m.consumer.Commit(ctx)
		if err != nil && !errors.Is(err, pyralog.ErrRebalanceInProgress) {
			return fmt.Errorf("member %s: commit: %w", m.id, err)
		}
	}
	return nil
}

func (m *member) owned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]int32, 0, len(m.partitions))
	for p := range m.partitions {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (m *member) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.values)
}

// produceOrders writes the orders through the asynchronous producer and
// waits for every delivery.
func produceOrders(ctx context.Context, client *pyralog.Client) error {
	producer, err := client.Producer(pyralog.ProducerConfig{})
	if err != nil {
		return err
	}
	defer producer.Close(ctx)
	var mu sync.Mutex
	var deliveryErr error
	for i := range orders {
		record := pyralog.Record{
			Key:       fmt.Appendf(nil, "customer-%d", i%20),
			Value:     fmt.Appendf(nil, "order-%d", i),
			Partition: pyralog.NoPartition,
		}
		err := producer.Send(ctx, logName, record, func(_ pyralog.RecordMetadata, err error) {
			mu.Lock()
			deliveryErr = errors.Join(deliveryErr, err)
			mu.Unlock()
		})
		if err != nil {
			return err
		}
	}
	if err := producer.Close(ctx); err != nil { // flushes; every callback has run
		return err
	}
	return deliveryErr
}

// checkSplit fails unless the members own disjoint partitions that cover
// the log, and every order arrived exactly once.
func checkSplit(members []*member) error {
	owner := map[int32]string{}
	seen := map[string]int{}
	for _, m := range members {
		for _, p := range m.owned() {
			if other, ok := owner[p]; ok {
				return fmt.Errorf("partition %d is owned by members %s and %s", p, other, m.id)
			}
			owner[p] = m.id
		}
		m.mu.Lock()
		for _, v := range m.values {
			seen[v]++
		}
		m.mu.Unlock()
	}
	if len(owner) != partitions {
		return fmt.Errorf("the members own %d partitions, want all %d", len(owner), partitions)
	}
	for i := range orders {
		if n := seen[fmt.Sprintf("order-%d", i)]; n != 1 {
			return fmt.Errorf("order-%d arrived %d times, want exactly once", i, n)
		}
	}
	if len(seen) != orders {
		return fmt.Errorf("%d distinct records arrived, want %d", len(seen), orders)
	}
	fmt.Printf("the members own all %d partitions, disjoint; %d records arrived exactly once\n", partitions, orders)
	return nil
}

// waitUntil checks cond every 50 ms until it holds, or fails after
// waitLimit or when ctx is done (a member failed).
func waitUntil(ctx context.Context, what string, cond func() bool) error {
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped waiting for %s", what)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up waiting for %s after %v", what, waitLimit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// arg returns the i-th command-line argument, or def when it is absent.
func arg(i int, def string) string {
	if len(os.Args) > i {
		return os.Args[i]
	}
	return def
}
