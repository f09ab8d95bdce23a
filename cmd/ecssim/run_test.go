package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/secret"
)

// started is a running ecssim: its printed environment and its end.
type started struct {
	env    map[string]string
	done   chan error
	cancel context.CancelFunc
	stderr *syncBuffer
	once   sync.Once
	err    error
}

// mustStart runs ecssim in-process with args and waits for its environment
// lines.
func mustStart(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	s := &started{env: map[string]string{}, done: make(chan error, 1), cancel: cancel, stderr: &syncBuffer{}}
	go func() {
		err := run(ctx, args, pw, s.stderr)
		pw.CloseWithError(io.EOF)
		s.done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			s.env[k] = v
		}
		if strings.HasPrefix(line, "export HUAWEICLOUD_SDK_PROJECT_ID=") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if s.env["COLDMOVE_ECS_ENDPOINT"] == "" {
		cancel()
		t.Fatalf("ecssim printed no endpoint: %v", <-s.done)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop ends the run, once, and checks that it ended cleanly.
func (s *started) stop(t *testing.T) {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	if s.err != nil {
		t.Errorf("run: %v", s.err)
	}
}

// client builds an ecsclient from the printed environment, as a user would.
func (s *started) client(t *testing.T) *ecsclient.Client {
	t.Helper()
	c, err := ecsclient.New(
		ecsclient.WithEndpoint(s.env["COLDMOVE_ECS_ENDPOINT"]),
		ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: secret.String(s.env["HUAWEICLOUD_SDK_AK"]), SecretKey: secret.String(s.env["HUAWEICLOUD_SDK_SK"])}),
		ecsclient.WithHTTPClient(&http.Client{}),
	)
	if err != nil {
		t.Fatalf("client from the printed environment: %v", err)
	}
	return c
}

func TestRunServesExampleSeed(t *testing.T) {
	t.Parallel()
	s := mustStart(t, "-log")
	c := s.client(t)
	project := s.env["HUAWEICLOUD_SDK_PROJECT_ID"]
	if project != "0b1d5e7a9c3f4e21a6d8c0f2b4e6a8c1" {
		t.Errorf("project = %s, want the example's", project)
	}
	const web1, dehB = "1a2b3c4d-0001-4a5b-8c6d-7e8f9a0b1c01", "7e2d1f9b-3c5a-4d7f-8b2e-4a6c8d0f1b22"
	sv, err := c.ShowServer(t.Context(), project, web1)
	if err != nil {
		t.Fatalf("ShowServer: %v", err)
	}
	if sv.Name != "web-1" || !sv.Stopped() || sv.DedicatedHostID != "6d1c0e8a-2b4f-4c6e-9a1d-3f5b7c9e0a11" || sv.VCPUs != 4 {
		t.Errorf("web-1 = %+v", sv)
	}
	jobID, err := c.MigrateServer(t.Context(), project, web1, ecsclient.Target{DedicatedHostID: dehB})
	if err != nil {
		t.Fatalf("MigrateServer: %v", err)
	}
	job, err := c.ShowJob(t.Context(), project, jobID)
	if err != nil {
		t.Fatalf("ShowJob: %v", err)
	}
	if job.Status.Terminal() || job.ServerID != web1 {
		t.Errorf("a real-time job just submitted = %+v", job)
	}
	s.stop(t)
	logs := s.stderr.String()
	if !strings.Contains(logs, `"op":"MigrateServer"`) || !strings.Contains(logs, jobID) {
		t.Errorf("request log lacks the migration:\n%s", logs)
	}
	if strings.Contains(logs, s.env["HUAWEICLOUD_SDK_SK"]) {
		t.Error("the request log reveals the secret key")
	}
}

func TestRunServesSeedFile(t *testing.T) {
	t.Parallel()
	s := mustStart(t, "-addr", "127.0.0.1:0", "-seed", "testdata/instant.json")
	c := s.client(t)
	project := s.env["HUAWEICLOUD_SDK_PROJECT_ID"]
	const server, target = "3c4d5e6f-0001-4a7b-9c8d-9e0f1a2b3c01", "2b3c4d5e-0002-4f6a-8b7c-8d9e0f1a2b02"
	jobID, err := c.MigrateServer(t.Context(), project, server, ecsclient.Target{DedicatedHostID: target})
	if err != nil {
		t.Fatalf("MigrateServer: %v", err)
	}
	job, err := c.ShowJob(t.Context(), project, jobID)
	if err != nil || job.Status != ecsclient.JobSuccess {
		t.Fatalf("ShowJob = %+v, %v; want SUCCESS at once with zero timings", job, err)
	}
	sv, err := c.ShowServer(t.Context(), project, server)
	if err != nil || sv.DedicatedHostID != target {
		t.Fatalf("ShowServer = %+v, %v; want it on %s", sv, err, target)
	}
}

func TestRunRefuses(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args    []string
		wantErr string
	}{
		"non-loopback address": {args: []string{"-addr", "0.0.0.0:0"}, wantErr: "only loopback"},
		"public address":       {args: []string{"-addr", "192.0.2.1:8080"}, wantErr: "only loopback"},
		"address without port": {args: []string{"-addr", "127.0.0.1"}, wantErr: "missing port"},
		"missing seed file":    {args: []string{"-seed", "testdata/nope.json"}, wantErr: "read seed"},
		"bad inventory":        {args: []string{"-seed", "testdata/bad-inventory.json"}, wantErr: "no-such-host"},
		"unknown flag":         {args: []string{"-bogus"}, wantErr: "flag provided but not defined"},
		"stray argument":       {args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q before failing", stdout.String())
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
