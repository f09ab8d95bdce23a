package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/lambdatest"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/secret"
)

// Real-looking credentials: a 20-character access key, a 40-character
// secret key, a security token, a NATS password, an HTTP token, and the
// wrong secret key of a misconfigured deployment.
const (
	secAK       = "HPUAQ7X2KD9M4LZ8RWNB"
	secSK       = "k9Qz3LmW7vXa2Rt8Yp4NcB6sHd1Fg5Je0UiOyTqA"
	secWrongSK  = "Zx8Cv7Bn6Mq5Wr4Et3Yu2Io1PaSdFgHjKlQwErTy"
	secToken    = "gQIPBm5jLW5vcnRoLTSNA2tleTpnLWhVeHdpRkRjOGZ2NmJQdmN6aGtXUzR4b3lqZ0xuT3dVckZGd0xrWlRjS2pxR1NkbE1JQnRvaw"
	secNATSPass = "nats-Pw-7f3b9c2e1d4a8b6f0e5c"
	secHTTPTok  = "http-Tk-5e2a7c9d1b3f8a4e6c0d"
)

// secretPieces are the strings no output may hold: every 12-character
// piece of each secret, every 5-character piece of the access key (its
// mask shows four).
func secretPieces() []string {
	var out []string
	for _, s := range []string{secSK, secWrongSK, secToken, secNATSPass, secHTTPTok} {
		for i := 0; i+12 <= len(s); i++ {
			out = append(out, s[i:i+12])
		}
	}
	for i := 0; i+5 <= len(secAK); i++ {
		out = append(out, secAK[i:i+5])
	}
	return out
}

func checkNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range secretPieces() {
		if i := strings.Index(text, s); i >= 0 {
			t.Errorf("%s holds a piece of a secret (%q…): …%q…", where, s[:4], text[max(i-60, 0):min(i+60, len(text))])
			break
		}
	}
	masked := secret.String(secAK).Masked()
	for rest := text; ; {
		i := strings.Index(rest, secAK[:4])
		if i < 0 {
			break
		}
		if !strings.HasPrefix(rest[i:], masked) {
			t.Errorf("%s shows the access key's start other than as %s: …%q…", where, masked, rest[max(i-60, 0):min(i+60, len(rest))])
		}
		rest = rest[i+4:]
	}
}

// TestSecrets_binariesNeverPrintThem runs both binaries long-lived at
// debug level, and migrate under the Lambda emulator with a wrong secret
// key, with real-looking credentials everywhere (a temporary credential
// with its security token, a NATS password — in NATS_PASSWORD for migrate,
// in the URL for poll — and the HTTP receiver's token), through flows that
// reach every kind of output: requests that complete, are rejected before
// any call and as invalid, are refused by the API (401, wrong secret key),
// meet 5xx answers and lost answers, HTTP answers with the token, without
// and with a wrong one, -h and a configuration error. Nothing the
// processes wrote (stdout and stderr), no HTTP answer, no Lambda result,
// no message on the stream and no ledger record may hold a secret; the
// access key shows only as its mask.
func TestSecrets_binariesNeverPrintThem(t *testing.T) {
	t.Parallel()
	migrate, poll := binaries(t)
	cred := ecstest.Credential{AccessKey: secAK, SecretKey: secSK, SecurityToken: secToken}
	l := newLanes(t, cred, 3, "ok", "faulty")
	ok, faulty := l.all[0], l.all[1]
	faulty.sim.InjectRandom(ecstest.OpAny, 0.3, ecstest.ServerError(503))
	faulty.sim.InjectRandom(ecstest.OpMigrateServer, 0.3, ecstest.ResponseLost())
	faulty.sim.InjectRandom(ecstest.OpMigrateServer, 0.3, ecstest.ServerError(500))
	ns := natstest.Run(t, natstest.WithAuth("coldmove", secNATSPass))
	w := watch(t, ns.Conn())
	addr := freePort(t)
	common := []string{"COLDMOVE_LOG_LEVEL=debug", "COLDMOVE_CONSUMER_BACKOFF=250ms,500ms,1s", "COLDMOVE_CLAIM_STALE_AFTER=30s"}
	migrateEnv := append(l.env(ns.ClientURL(), common...), "NATS_USER=coldmove", "NATS_PASSWORD="+secNATSPass,
		"COLDMOVE_HTTP_ADDR="+addr, "COLDMOVE_HTTP_TOKEN="+secHTTPTok)
	withUserinfo := strings.Replace(ns.ClientURL(), "nats://", "nats://coldmove:"+secNATSPass+"@", 1)
	pollEnv := l.env(withUserinfo, common...)
	procs := []*proc{startProc(t, "migrate", migrate, migrateEnv), startProc(t, "poll", poll, pollEnv)}
	wrongEnv := append(l.env(ns.ClientURL(), common...), "NATS_USER=coldmove", "NATS_PASSWORD="+secNATSPass)
	for i, v := range wrongEnv {
		if strings.HasPrefix(v, "HUAWEICLOUD_SDK_SK=") {
			wrongEnv[i] = "HUAWEICLOUD_SDK_SK=" + secWrongSK
		}
	}
	emu := lambdatest.Start(t, migrate, 30*time.Second, wrongEnv...)

	var outputs []string
	deadline := time.Now().Add(12 * time.Second)
	var waitFor []string
	send := func(p *placement) {
		publish(t, ns.JetStream(), events.RequestSubject("coldmove", p.server), p.body)
		waitFor = append(waitFor, p.id)
	}
	send(newPlacement(t, ok, "sec-complete", deadline))
	running := newPlacement(t, ok, "sec-running", deadline)
	if err := ok.sim.SetServerStatus(running.server, ecstest.StatusActive); err != nil {
		t.Fatal(err)
	}
	send(running)
	invalid := newPlacement(t, ok, "sec-invalid", deadline)
	invalid.body = bytes.Replace(invalid.body, []byte(`"target":{`), []byte(`"target":{"public_pool":true,`), 1)
	send(invalid)
	for i := range 8 {
		send(newPlacement(t, faulty, fmt.Sprintf("sec-faulty-%d", i), deadline))
	}
	// HTTP: with the token (a 5xx lane, so some answers are 503), without
	// it, with a wrong one; the health check.
	for i, auth := range []string{"Bearer " + secHTTPTok, "Bearer " + secHTTPTok, "", "Bearer not-the-token", "Basic " + secHTTPTok[:6]} {
		p := newPlacement(t, faulty, fmt.Sprintf("sec-http-%d", i), deadline)
		outputs = append(outputs, postWithRetry(t, "http://"+addr+"/", p.body, auth))
	}
	outputs = append(outputs, getBody(t, "http://"+addr+"/healthz"))
	// Lambda with the wrong secret key: the API refuses it.
	refused := newPlacement(t, ok, "sec-unauthorized", deadline)
	out, err := emu.Invoke(t.Context(), refused.body)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(out))
	if !bytes.Contains(out, []byte(string(events.RejectUnauthorized))) {
		t.Errorf("a wrong secret key: %s, want rejected/unauthorized", out)
	}
	waitFor = append(waitFor, refused.id)
	if missing := w.wait(waitFor, 60*time.Second); len(missing) > 0 {
		t.Errorf("no terminal event for %v", missing)
	}

	// -h and a configuration error, with every secret in the environment.
	for _, args := range [][]string{{"-h"}, nil} {
		for _, bin := range []string{migrate, poll} {
			cmd := exec.Command(bin, args...)
			cmd.Env = append(migrateEnv, "COLDMOVE_REGION=Not A Region", "NATS_CREDS="+secNATSPass)
			b, _ := cmd.CombinedOutput()
			outputs = append(outputs, string(b))
		}
	}
	for _, p := range procs {
		p.stop(t)
	}
	emu.Stop()

	var logs strings.Builder
	for _, p := range procs {
		logs.WriteString(p.output())
		checkNoSecret(t, p.name+"'s output", p.output())
	}
	logs.WriteString(emu.Output())
	checkNoSecret(t, "the Lambda function's output", emu.Output())
	for i, o := range outputs {
		checkNoSecret(t, fmt.Sprintf("answer %d", i), o)
	}
	for _, m := range streamMessages(t, ns.JetStream()) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n", m.Subject())
		_ = http.Header(m.Headers()).Write(&b)
		b.Write(m.Data())
		checkNoSecret(t, "a message on the stream", b.String())
	}
	checkNoSecret(t, "the ledger", ledgerDump(t, ns.JetStream()))
	all := logs.String()
	for _, want := range []string{`"level":"DEBUG"`, secret.String(secAK).Masked(), `"unauthorized"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the logs lack %s: the flows did not reach every output", want)
		}
	}
	t.Logf("checked %d bytes of process output and %d answers", len(all), len(outputs))
}

// postWithRetry posts a request with an Authorization header (none when
// auth is empty), retrying a 503 a few times; it returns the exchange as
// the client saw it.
func postWithRetry(t *testing.T, url string, body []byte, auth string) string {
	t.Helper()
	var b strings.Builder
	for range 5 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/cloudevents+json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(&b, "%s\n", resp.Status)
		_ = resp.Header.Write(&b)
		b.Write(raw)
		if resp.StatusCode != http.StatusServiceUnavailable {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	return b.String()
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.Status + "\n" + string(raw)
}

// ledgerDump returns every key and value of the ledger bucket.
func ledgerDump(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "coldmove_ledger")
	if err != nil {
		t.Fatal(err)
	}
	wa, err := kv.WatchAll(ctx, jetstream.IncludeHistory())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wa.Stop() }()
	var b strings.Builder
	for e := range wa.Updates() {
		if e == nil {
			break
		}
		raw, _ := json.Marshal(map[string]string{"key": e.Key(), "value": string(e.Value())})
		b.Write(raw)
	}
	return b.String()
}
