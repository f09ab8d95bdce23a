package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/secret"
)

// The simulator prints what a user pastes into a shell — the variables and
// the fleet's ids — and answers a client built from them.
func TestSimulator_printsEnvironmentAndFleet(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	var errs buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"simulator"}, stdio{out: pw, err: &errs})
		pw.Close()
		done <- code
	}()
	env := map[string]string{}
	var printed strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		printed.WriteString(line + "\n")
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			env[k] = v
		}
		if strings.Contains(line, "serving until") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	for _, want := range []string{db1, "db-1", dehA, "deh-a", "app-running", "ACTIVE", "prepaid", "locked"} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, printed.String())
		}
	}
	c, err := ecsclient.New(
		ecsclient.WithEndpoint(env["COLDMOVE_ECS_ENDPOINT"]),
		ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: secret.String(env["HUAWEICLOUD_SDK_AK"]), SecretKey: secret.String(env["HUAWEICLOUD_SDK_SK"])}),
		ecsclient.WithHTTPClient(&http.Client{}),
	)
	if err != nil {
		t.Fatalf("a client from the printed variables: %v", err)
	}
	srv, err := c.ShowServer(ctx, env["HUAWEICLOUD_SDK_PROJECT_ID"], db1)
	if err != nil || srv.Status != "SHUTOFF" {
		t.Fatalf("ShowServer(db-1) = %+v, %v", srv, err)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("exit %d after Ctrl-C; stderr %s", code, errs.String())
	}
}

func TestSimulator_refusesANetworkAddress(t *testing.T) {
	t.Parallel()
	code, _, errs := cli(t.Context(), "simulator", "--addr", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(errs, "only loopback") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
