// Command interop is the Go program of the cross-language interop test:
// produce, dump and member as tests/interop/README.md defines them. It only
// moves records between the text format and the Go SDK; the driver makes
// every check.
//
//	interop produce SERVER CA_FILE LOG IN_TSV OUT_TSV
//	interop dump    SERVER CA_FILE LOG OUT_TSV
//	interop member  SERVER CA_FILE LOG GROUP STOP_FILE OUT_TSV
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

const (
	// dumpReadMax is how many records one dump read asks for.
	dumpReadMax = 1000
	// memberPoll is how long a member's poll waits.
	memberPoll = 200 * time.Millisecond
	// memberGiveUp: a member exits 2 when no stop file appeared by then.
	memberGiveUp = 180 * time.Second
	// callLimit bounds every other command.
	callLimit = 120 * time.Second
)

// errGaveUp is a member's exit 2.
var errGaveUp = errors.New("no stop file after " + memberGiveUp.String())

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) == 6 && args[0] == "produce":
		err = produce(args[1], args[2], args[3], args[4], args[5])
	case len(args) == 5 && args[0] == "dump":
		err = dump(args[1], args[2], args[3], args[4])
	case len(args) == 7 && args[0] == "member":
		err = member(args[1], args[2], args[3], args[4], args[5], args[6])
	default:
		err = errors.New("usage: interop produce|dump|member ... (see tests/interop/README.md)")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		if errors.Is(err, errGaveUp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// connect takes SERVER's first address and hands the rest to Config.Servers.
func connect(ctx context.Context, server, caFile string) (*pyralog.Client, error) {
	servers := strings.Split(server, ",")
	return pyralog.Connect(ctx, servers[0], pyralog.Config{CAFile: caFile, Servers: servers[1:]})
}

// produce sends every record without waiting on each, flushes, then writes
// where each landed, in input order.
func produce(server, caFile, log, input, output string) error {
	text, err := os.ReadFile(input)
	if err != nil {
		return err
	}
	records, err := readRecords(string(text))
	if err != nil {
		return fmt.Errorf("%s: %w", input, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callLimit)
	defer cancel()
	client, err := connect(ctx, server, caFile)
	if err != nil {
		return err
	}
	defer client.Close()
	producer, err := client.Producer(pyralog.ProducerConfig{Acks: pyralog.AcksAll})
	if err != nil {
		return err
	}
	defer producer.Close(ctx)
	var mu sync.Mutex
	landed := make([]pyralog.RecordMetadata, len(records))
	var failed error
	for i, r := range records {
		err := producer.Send(ctx, log, r, func(md pyralog.RecordMetadata, err error) {
			mu.Lock()
			defer mu.Unlock()
			landed[i] = md
			if err != nil && failed == nil {
				failed = fmt.Errorf("record %d: %w", i+1, err)
			}
		})
		if err != nil {
			return err
		}
	}
	if err := producer.Flush(ctx); err != nil { // every callback has run
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if failed != nil {
		return failed
	}
	return writeFile(output, func(w *bufio.Writer) error {
		for _, md := range landed {
			if _, err := fmt.Fprintf(w, "%d\t%d\n", md.Partition, md.Offset); err != nil {
				return err
			}
		}
		return nil
	})
}

// dump reads every partition from its start until a read returns nothing.
func dump(server, caFile, log, output string) error {
	ctx, cancel := context.WithTimeout(context.Background(), callLimit)
	defer cancel()
	client, err := connect(ctx, server, caFile)
	if err != nil {
		return err
	}
	defer client.Close()
	md, err := client.GetLogMetadata(ctx, log)
	if err != nil {
		return err
	}
	return writeFile(output, func(w *bufio.Writer) error {
		for p := int32(0); p < md.PartitionCount; p++ {
			for next := uint64(0); ; {
				records, err := client.ConsumeFromPartition(ctx, log, p, next, dumpReadMax)
				if err != nil {
					return err
				}
				if len(records) == 0 {
					break
				}
				for _, r := range records {
					if _, err := fmt.Fprintln(w, dumpLine(r)); err != nil {
						return err
					}
				}
				next = records[len(records)-1].Offset + 1
			}
		}
		return nil
	})
}

// member polls as a member of group, recording and committing, until the
// stop file appears.
func member(server, caFile, log, group, stopFile, output string) error {
	ctx, cancel := context.WithTimeout(context.Background(), memberGiveUp+callLimit)
	defer cancel()
	client, err := connect(ctx, server, caFile)
	if err != nil {
		return err
	}
	defer client.Close()
	consumer, err := client.Consumer(pyralog.ConsumerConfig{GroupID: group})
	if err != nil {
		return err
	}
	defer consumer.Close(ctx)
	// The listener runs inside Poll, on this goroutine.
	owned := map[int32]bool{}
	err = consumer.Subscribe([]string{log}, func(kind pyralog.RebalanceKind, lps []pyralog.LogPartition) {
		for _, lp := range lps {
			if kind == pyralog.Assigned {
				owned[lp.Partition] = true
			} else { // Revoked, Lost
				delete(owned, lp.Partition)
			}
		}
		printAssignment(owned)
	})
	if err != nil {
		return err
	}
	out, err := os.Create(output)
	if err != nil {
		return err
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	started := time.Now()
	for !exists(stopFile) {
		if time.Since(started) > memberGiveUp {
			return errGaveUp
		}
		records, err := consumer.Poll(ctx, memberPoll)
		if err != nil {
			return err
		}
		for _, r := range records {
			fmt.Fprintf(w, "%d\t%d\t%s\n", r.Partition, r.Offset, hex.EncodeToString(r.Value))
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if len(records) > 0 {
			if err := commit(ctx, consumer); err != nil {
				return err
			}
		}
	}
	if err := commit(ctx, consumer); err != nil {
		return err
	}
	if err := consumer.Close(ctx); err != nil {
		return err
	}
	fmt.Println("closed")
	if err := out.Close(); err != nil {
		return err
	}
	return client.Close()
}

// commit commits the positions; RebalanceInProgress is not a failure: the
// member rejoins in its next poll and commits again after it (and on close).
func commit(ctx context.Context, consumer *pyralog.Consumer) error {
	if err := consumer.Commit(ctx); err != nil && !errors.Is(err, pyralog.ErrRebalanceInProgress) {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// printAssignment prints "assignment 0,3,7" ("assignment -" when empty).
func printAssignment(owned map[int32]bool) {
	parts := make([]int32, 0, len(owned))
	for p := range owned {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	shown := make([]string, len(parts))
	for i, p := range parts {
		shown[i] = strconv.Itoa(int(p))
	}
	if len(shown) == 0 {
		shown = []string{"-"}
	}
	// os.Stdout is unbuffered: the line is written (flushed) at once.
	fmt.Println("assignment " + strings.Join(shown, ","))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// writeFile creates path, lets write fill it and flushes it.
func writeFile(path string, write func(w *bufio.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readRecords parses IN_TSV: partition ("-": the partitioner's choice),
// key ("-": none), value and headers, tab-separated, one record a line.
func readRecords(text string) ([]pyralog.Record, error) {
	var records []pyralog.Record
	if text == "" {
		return nil, nil
	}
	for n, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		r, err := parseRecord(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		records = append(records, r)
	}
	return records, nil
}

func parseRecord(line string) (pyralog.Record, error) {
	fields := strings.Split(line, "\t")
	if len(fields) != 4 {
		return pyralog.Record{}, fmt.Errorf("want 4 tab-separated fields: %q", line)
	}
	r := pyralog.Record{Partition: pyralog.NoPartition}
	var err error
	if fields[0] != "-" {
		p, err := strconv.ParseInt(fields[0], 10, 32)
		if err != nil || p < 0 {
			return r, fmt.Errorf("bad partition %q", fields[0])
		}
		r.Partition = int32(p)
	}
	if fields[1] != "-" {
		if r.Key, err = unhex(fields[1]); err != nil {
			return r, err
		}
	}
	if r.Value, err = unhex(fields[2]); err != nil {
		return r, err
	}
	r.Headers, err = parseHeaders(fields[3])
	return r, err
}

func parseHeaders(field string) ([]pyralog.Header, error) {
	if field == "-" {
		return nil, nil
	}
	var headers []pyralog.Header
	for _, pair := range strings.Split(field, ",") {
		name, value, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("header without '=': %q", pair)
		}
		n, err := unhex(name)
		if err != nil {
			return nil, err
		}
		v, err := unhex(value)
		if err != nil {
			return nil, err
		}
		headers = append(headers, pyralog.Header{Name: string(n), Value: v})
	}
	return headers, nil
}

// unhex decodes a hex field; the empty field is the empty value.
func unhex(field string) ([]byte, error) {
	b, err := hex.DecodeString(field)
	if err != nil {
		return nil, fmt.Errorf("bad hex %q: %w", field, err)
	}
	return b, nil
}

// dumpLine is one dump line:
// partition offset epoch timestamp key value headers, tab-separated.
func dumpLine(r pyralog.Record) string {
	key := "-"
	if r.Key != nil {
		key = hex.EncodeToString(r.Key)
	}
	headers := "-"
	if len(r.Headers) > 0 {
		pairs := make([]string, len(r.Headers))
		for i, h := range r.Headers {
			pairs[i] = hex.EncodeToString([]byte(h.Name)) + "=" + hex.EncodeToString(h.Value)
		}
		headers = strings.Join(pairs, ",")
	}
	return fmt.Sprintf("%d\t%d\t%d\t%d\t%s\t%s\t%s", r.Partition, r.Offset, r.Epoch, r.Timestamp, key, hex.EncodeToString(r.Value), headers)
}
