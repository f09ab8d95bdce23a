package lambdatest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Emulator is a running Runtime Interface Emulator hosting one function.
type Emulator struct {
	// URL is the invoke endpoint.
	URL string

	cmd    *exec.Cmd
	mu     sync.Mutex
	output bytes.Buffer // the emulator's and the function's stdout+stderr
	done   chan struct{}
}

// Start runs bootstrap under the emulator with env added to this process's
// environment, and stops it when the test ends. The function's timeout is
// timeout (AWS_LAMBDA_FUNCTION_TIMEOUT, whole seconds, at least 1).
func Start(tb testing.TB, bootstrap string, timeout time.Duration, env ...string) *Emulator {
	tb.Helper()
	rie := RIE(tb)
	apiAddr, invokeAddr := freeAddr(tb), freeAddr(tb)
	secs := max(int(timeout/time.Second), 1)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", apiAddr,
		"--log-level", "error",
		bootstrap)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", secs), "AWS_LAMBDA_FUNCTION_NAME=coldmove-test")
	e := &Emulator{URL: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", cmd: cmd, done: make(chan struct{})}
	w := &lockedWriter{mu: &e.mu, w: &e.output}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		tb.Fatalf("lambdatest: start emulator: %v", err)
	}
	go func() { _ = cmd.Wait(); close(e.done) }()
	tb.Cleanup(func() {
		e.Stop()
		if tb.Failed() {
			tb.Logf("emulator output:\n%s", e.Output())
		}
	})
	if err := waitListening(invokeAddr, e.done, 30*time.Second); err != nil {
		tb.Fatalf("lambdatest: emulator did not listen on %s: %v\n%s", invokeAddr, err, e.Output())
	}
	return e
}

// Invoke sends payload to the function and returns the result body. A
// function error is also a 200 with {"errorMessage","errorType"}; callers
// must inspect the body.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("lambdatest: read result: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("lambdatest: invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	return body, nil
}

// Signal sends sig to the emulator, which passes SIGTERM on to the
// function's extensions and the runtime.
func (e *Emulator) Signal(sig os.Signal) error { return e.cmd.Process.Signal(sig) }

// Done is closed when the emulator has exited.
func (e *Emulator) Done() <-chan struct{} { return e.done }

// Stop ends the emulator and its function: SIGTERM, then SIGKILL after
// five seconds.
func (e *Emulator) Stop() {
	select {
	case <-e.done:
		return
	default:
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
}

// Output returns everything the emulator and the function wrote so far.
func (e *Emulator) Output() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.output.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("lambdatest: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitListening dials addr until it accepts, the process ends, or the
// limit passes. The emulator is another process: there is no clock to
// advance, only a socket to watch.
func waitListening(addr string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-exited:
			return fmt.Errorf("emulator exited")
		case <-tick.C:
		}
	}
}
