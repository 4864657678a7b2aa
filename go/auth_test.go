package pyralog_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pyralog "github.com/pyralog/pyralog/go"
)

// authConfig turns authentication on, with admin as the only superuser.
const authConfig = "[auth]\nenabled = true\nsuperusers = [\"admin\"]\n"

// authTestServer is a second real server, with authentication on, shared by
// the authentication tests (started by the first of them, stopped by
// TestMain).
type authTestServer struct {
	*testServer
	adminToken string
}

var (
	authOnce sync.Once
	authSrv  *authTestServer
	authErr  error
)

func authServer(t testing.TB) *authTestServer {
	t.Helper()
	authOnce.Do(func() {
		s, err := startServerWith(authConfig)
		if err != nil {
			authErr = err
			return
		}
		token, err := s.createToken("admin")
		if err != nil {
			s.stop()
			authErr = err
			return
		}
		authSrv = &authTestServer{testServer: s, adminToken: token}
	})
	if authErr != nil {
		t.Fatalf("the authenticating server: %v", authErr)
	}
	return authSrv
}

func stopAuthServer() {
	if authSrv != nil {
		authSrv.stop()
	}
}

// binary is a program built next to pyralog-server (target/debug).
func binary(name string) string {
	return filepath.Join(filepath.Dir(serverBinary()), name)
}

// run runs a program for at most 30 s and returns its stdout.
func run(program string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", filepath.Base(program), strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// admin runs a pyralog-server subcommand on this server's config and data.
func (s *testServer) admin(args ...string) (string, error) {
	args = append(args, "--data-dir", s.data)
	if s.config != "" {
		args = append(args, "--config", filepath.Join(s.dir, "pyralog.toml"))
	}
	return run(serverBinary(), args...)
}

// createToken makes a bearer token for principal name.
func (s *testServer) createToken(name string) (string, error) {
	out, err := s.admin("token", "create", name)
	return strings.TrimSpace(out), err
}

// issueCert makes a client certificate and key whose CN is name.
func (s *testServer) issueCert(t testing.TB, name string) (certFile, keyFile string) {
	t.Helper()
	dir := filepath.Join(s.dir, "certs")
	if _, err := s.admin("cert", "issue", "--name", name, "--out", dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
}

// connectWith connects to s with cfg (CAFile filled in); the client is
// closed when the test ends.
func connectWith(ctx context.Context, t testing.TB, s *testServer, cfg pyralog.Config) (*pyralog.Client, error) {
	cfg.CAFile = s.caFile
	c, err := pyralog.Connect(ctx, s.addr, cfg)
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

// roundTrip creates log, produces a record to it and reads it back.
func roundTrip(ctx context.Context, t testing.TB, c *pyralog.Client, log string) {
	t.Helper()
	must(c.CreateLog(ctx, log, 1))
	md := must(c.Produce(ctx, log, pyralog.Record{Key: []byte("k"), Value: []byte("authenticated"), Partition: 0}))
	recs := must(c.ConsumeFromPartition(ctx, log, 0, md.Offset, 10))
	if len(recs) != 1 || string(recs[0].Value) != "authenticated" || string(recs[0].Key) != "k" {
		t.Fatalf("read back %+v", recs)
	}
}

func TestAuthSuperuserTokenCreatesProducesAndConsumes(t *testing.T) {
	s, ctx := authServer(t), ctxFor(t, 60*time.Second)
	c, err := connectWith(ctx, t, s.testServer, pyralog.Config{Token: s.adminToken})
	check(t, err)
	roundTrip(ctx, t, c, unique("gauth-token"))
}

func TestAuthSuperuserCertificateCreatesProducesAndConsumes(t *testing.T) {
	s, ctx := authServer(t), ctxFor(t, 60*time.Second)
	cert, key := s.issueCert(t, "admin")
	c, err := connectWith(ctx, t, s.testServer, pyralog.Config{CertFile: cert, KeyFile: key})
	check(t, err)
	roundTrip(ctx, t, c, unique("gauth-cert"))
}

// firstError is the error of connecting with cfg, or else of a first request.
func firstError(ctx context.Context, t testing.TB, s *testServer, cfg pyralog.Config) error {
	c, err := connectWith(ctx, t, s, cfg)
	if err != nil {
		return err
	}
	_, err = c.ListLogs(ctx)
	return err
}

func TestAuthRefusesWrongOrMissingCredentials(t *testing.T) {
	s, ctx := authServer(t), ctxFor(t, 60*time.Second)
	// Another last hex digit: a well-formed token that is not admin's.
	wrong := []byte(s.adminToken)
	if wrong[len(wrong)-1] == '0' {
		wrong[len(wrong)-1] = '1'
	} else {
		wrong[len(wrong)-1] = '0'
	}
	for name, cfg := range map[string]pyralog.Config{
		"wrong token":    {Token: string(wrong)},
		"unknown token":  {Token: "pyt_nobody_00"},
		"no credentials": {},
	} {
		err := firstError(ctx, t, s.testServer, cfg)
		var e *pyralog.Error
		if !errors.Is(err, pyralog.ErrAuthenticationFailed) || !errors.As(err, &e) || e.Code != 700 || e.RetryAfter != 0 {
			t.Errorf("%s: want AuthenticationFailed, got %v", name, err)
		}
	}
	cert, _ := s.issueCert(t, "admin")
	if err := firstError(ctx, t, s.testServer, pyralog.Config{CertFile: cert}); !errors.Is(err, pyralog.ErrInvalidArgument) {
		t.Errorf("a certificate without its key: want InvalidArgument, got %v", err)
	}
}

func TestAuthACLLetsANonSuperuserWrite(t *testing.T) {
	s, ctx := authServer(t), ctxFor(t, 60*time.Second)
	admin, err := connectWith(ctx, t, s.testServer, pyralog.Config{Token: s.adminToken})
	check(t, err)
	log := unique("gauth-acl")
	must(admin.CreateLog(ctx, log, 1))
	aliceToken, err := s.createToken("alice")
	check(t, err)
	alice, err := connectWith(ctx, t, s.testServer, pyralog.Config{Token: aliceToken})
	check(t, err)
	record := pyralog.Record{Value: []byte("from alice"), Partition: 0}

	_, err = alice.Produce(ctx, log, record)
	var e *pyralog.Error
	if !errors.Is(err, pyralog.ErrNotAuthorized) || !errors.As(err, &e) || !strings.Contains(e.Message, "alice") {
		t.Fatalf("alice without an ACL: want NotAuthorized naming her, got %v", err)
	}

	out, err := run(binary("pyralog"), "--server", s.addr, "--ca-file", s.caFile, "--token", s.adminToken,
		"acl", "add", "alice", "write", "log:"+log)
	check(t, err)
	if !strings.Contains(out, "added") {
		t.Fatalf("acl add said %q", out)
	}
	// The rule is in the cluster's metadata once the CLI returns; a single
	// node applies it at once, but allow a moment for it to be visible.
	for {
		md, err := alice.Produce(ctx, log, record)
		if err == nil {
			recs := must(admin.ConsumeFromPartition(ctx, log, 0, md.Offset, 1))
			if len(recs) != 1 || string(recs[0].Value) != "from alice" {
				t.Fatalf("read back %+v", recs)
			}
			break
		}
		if !errors.Is(err, pyralog.ErrNotAuthorized) || ctx.Err() != nil {
			t.Fatalf("alice with write on %s: %v", log, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The rule is for that log only.
	if _, err := alice.CreateLog(ctx, unique("gauth-acl-other"), 1); !errors.Is(err, pyralog.ErrNotAuthorized) {
		t.Fatalf("alice creating a log: want NotAuthorized, got %v", err)
	}
}

func TestAuthThrottledErrorCarriesRetryAfter(t *testing.T) {
	s, err := startServerWith(authConfig + "[quotas]\nconnections_per_principal = 1\n")
	check(t, err)
	t.Cleanup(s.stop)
	token, err := s.createToken("admin")
	check(t, err)
	ctx := ctxFor(t, 60*time.Second)
	_, err = connectWith(ctx, t, s, pyralog.Config{Token: token})
	check(t, err)
	err = firstError(ctx, t, s, pyralog.Config{Token: token})
	var e *pyralog.Error
	if !errors.Is(err, pyralog.ErrThrottled) || !errors.As(err, &e) || e.RetryAfter <= 0 {
		t.Fatalf("a second connection over connections_per_principal = 1: want Throttled with RetryAfter, got %v (%#v)", err, e)
	}
}
