package pyralog_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

// testServer is a real pyralog-server on a free loopback port.
type testServer struct {
	cmd    *exec.Cmd
	addr   string
	caFile string
	dir    string
	data   string // the data directory, under dir
	config string // the TOML it was started with
}

var shared *testServer

func serverBinary() string {
	if p := os.Getenv("PYRALOG_SERVER_BIN"); p != "" {
		return p
	}
	target := os.Getenv("CARGO_TARGET_DIR")
	if target == "" {
		target = filepath.Join("..", "target")
	}
	return filepath.Join(target, "debug", "pyralog-server")
}

func startServer() (*testServer, error) {
	return startServerWith("")
}

// startServerWith starts a server on defaults plus config (TOML; empty for
// none) in its own temporary directory.
func startServerWith(config string) (*testServer, error) {
	dir, err := os.MkdirTemp("", "pyralog-go-test-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	args := []string{"--data-dir", data, "--listen", "127.0.0.1:0"}
	if config != "" {
		path := filepath.Join(dir, "pyralog.toml")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--config", path)
	}
	cmd := exec.Command(serverBinary(), args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (build it with cargo build -p pyralog-server): %w", serverBinary(), err)
	}
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l, ok := <-line:
		if !ok {
			_ = cmd.Wait()
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pyralog-server exited before listening")
		}
		f := strings.Fields(l)
		return &testServer{cmd: cmd, addr: f[len(f)-1], caFile: filepath.Join(data, "tls", "ca.pem"), dir: dir, data: data, config: config}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("pyralog-server did not start within 30 s")
	}
}

func (s *testServer) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	_ = os.RemoveAll(s.dir)
}

func TestMain(m *testing.M) {
	s, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = s
	code := m.Run()
	s.stop()
	stopAuthServer()
	os.Exit(code)
}

func unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func connect(t testing.TB) *pyralog.Client {
	t.Helper()
	c, err := pyralog.Connect(ctxFor(t, 10*time.Second), shared.addr, pyralog.Config{CAFile: shared.caFile})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// must returns v, or fails the test run on err (a panic: Go cannot pass a
// multi-value call with another argument).
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
