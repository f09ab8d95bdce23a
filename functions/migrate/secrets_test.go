package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/secret"
)

// Real-looking credentials: a 20-character access key, a 40-character
// secret key, a security token, a NATS password and an HTTP token, and the
// wrong secret key of a misconfigured deployment.
const (
	leakAK       = "HPUAQ7X2KD9M4LZ8RWNB"
	leakSK       = "k9Qz3LmW7vXa2Rt8Yp4NcB6sHd1Fg5Je0UiOyTqA"
	leakWrongSK  = "Zx8Cv7Bn6Mq5Wr4Et3Yu2Io1PaSdFgHjKlQwErTy"
	leakToken    = "gQIPBm5jLW5vcnRoLTSNA2tleTpnLWhVeHdpRkRjOGZ2NmJQdmN6aGtXUzR4b3lqZ0xuT3dVckZGd0xrWlRjS2pxR1NkbE1JQnRvaw"
	leakNATSPass = "nats-Pw-7f3b9c2e1d4a8b6f0e5c"
	leakHTTPTok  = "http-Tk-5e2a7c9d1b3f8a4e6c0d"
)

// leakSecrets are the strings no output may contain: every 12-character
// piece of each secret (a truncated secret is still a leak), and every
// 5-character piece of the access key (its mask shows four).
func leakSecrets() []string {
	var out []string
	for _, s := range []string{leakSK, leakWrongSK, leakToken, leakNATSPass, leakHTTPTok} {
		for i := 0; i+12 <= len(s); i++ {
			out = append(out, s[i:i+12])
		}
	}
	for i := 0; i+5 <= len(leakAK); i++ {
		out = append(out, leakAK[i:i+5])
	}
	return out
}

// checkNoLeak fails the test when text holds a secret, or a piece of one.
// The access key may show only as its mask, its first four characters
// followed by "***".
func checkNoLeak(t testing.TB, where, text string) {
	t.Helper()
	for _, s := range leakSecrets() {
		if i := strings.Index(text, s); i >= 0 {
			t.Errorf("%s holds a piece of a secret (%q…) at byte %d: …%q…", where, s[:4], i, clipAround(text, i))
			break
		}
	}
	masked := secret.String(leakAK).Masked()
	for rest := text; ; {
		i := strings.Index(rest, leakAK[:4])
		if i < 0 {
			break
		}
		if !strings.HasPrefix(rest[i:], masked) {
			t.Errorf("%s shows the access key's start other than as %s: …%q…", where, masked, clipAround(rest, i))
		}
		rest = rest[i+4:]
	}
}

func clipAround(s string, i int) string { return s[max(i-40, 0):min(i+60, len(s))] }

// lockedBuffer is a log sink for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSecrets_neverInAnyOutput runs the migrate handler with real-looking
// credentials through flows that reach every kind of output — an accepted
// request, a pre-flight rejection, an invalid request, the API refusing
// a wrong secret key (401), 5xx answers and a lost answer, HTTP answers
// with and without the bearer token, Lambda results and retry errors —
// and checks that none of the secrets appears in the debug log, the
// events on the stream (headers and data), the ledger's records, the
// outcomes and errors returned, the HTTP answers, the formatted
// configuration, clients and errors (as a panic would print them), or a
// failed NATS connection's error. The access key shows only as its mask.
func TestSecrets_neverInAnyOutput(t *testing.T) {
	t.Parallel()
	cred := ecstest.Credential{AccessKey: leakAK, SecretKey: leakSK, SecurityToken: leakToken}
	e := newEnv(t, ecstest.WithCredentials(cred))
	var logs lockedBuffer
	log := logging.New(&logs, slog.LevelDebug)
	creds := ecsclient.Credentials{AccessKey: leakAK, SecretKey: leakSK, SecurityToken: leakToken}
	good := e.sim.Client(ecsclient.WithCredentials(creds))
	wrongCreds := creds
	wrongCreds.SecretKey = leakWrongSK
	wrong := e.sim.Client(ecsclient.WithCredentials(wrongCreds))
	handler := func(c *ecsclient.Client) *Handler {
		return NewHandler(HandlerConfig{ProjectID: e.sim.ProjectID(), Region: stacktest.Region, MigrationTimeout: time.Hour, Now: e.clock.Now,
			AccessKey: creds.AccessKey.Masked()}, func(string) (ECS, error) { return c, nil }, e.ledger, e.bus, log)
	}
	h, hWrong := handler(good), handler(wrong)
	var outputs []string // everything returned to a caller
	keep := func(o Outcome) Outcome {
		b, _ := json.Marshal(o)
		outputs = append(outputs, string(b), o.Message, fmt.Sprintf("%v %+v %#v", o, o, o))
		if o.Err != nil {
			outputs = append(outputs, o.Err.Error(), fmt.Sprintf("%+v %#v", o.Err, o.Err))
		}
		return o
	}

	stopped := func() string { return e.sim.AddServer(ecstest.ServerSpec{}) }
	if o := keep(h.HandleMessage(t.Context(), nil, e.request(stopped(), events.HostTarget(e.host)))); o.Status != StatusAccepted {
		t.Errorf("success: %+v", o)
	}
	running := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	if o := keep(h.HandleMessage(t.Context(), nil, e.request(running, events.HostTarget(e.host)))); o.Status != StatusRejected {
		t.Errorf("pre-flight rejection: %+v", o)
	}
	keep(h.HandleMessage(t.Context(), nil, e.requestData("x", map[string]any{"server_id": "x", "target": nil})))
	if o := keep(hWrong.HandleMessage(t.Context(), nil, e.request(stopped(), events.HostTarget(e.host)))); o.Reason != string(events.RejectUnauthorized) {
		t.Errorf("wrong secret key: %+v", o)
	}
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.ServerError(503))
	if o := keep(h.HandleMessage(t.Context(), nil, e.request(stopped(), events.HostTarget(e.host)))); !o.Retryable() {
		t.Errorf("5xx: %+v", o)
	}
	e.sim.InjectNext(ecstest.OpMigrateServer, 1, ecstest.ServerError(500))
	keep(h.HandleMessage(t.Context(), nil, e.request(stopped(), events.HostTarget(e.host))))
	e.sim.InjectNext(ecstest.OpMigrateServer, 1, ecstest.ResponseLost())
	keep(h.HandleMessage(t.Context(), nil, e.request(stopped(), events.HostTarget(e.host))))

	// Lambda: a result, a retry error, a refusal.
	a := &lambdaAdapter{h: h, log: log}
	li := lambda.NewHandler(a.Invoke)
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.GatewayThrottle())
	for _, payload := range [][]byte{e.request(stopped(), events.HostTarget(e.host)), e.request(stopped(), events.HostTarget(e.host)),
		sqsBatch("arn:aws:sqs:eu-west-1:1:q", []byte("junk"), e.request(stopped(), events.HostTarget(e.host)))} {
		out, err := li.Invoke(t.Context(), payload)
		outputs = append(outputs, string(out))
		if err != nil {
			outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err))
		}
	}
	li = lambda.NewHandler((&lambdaAdapter{h: hWrong, log: log}).Invoke)
	if out, err := li.Invoke(t.Context(), e.request(stopped(), events.HostTarget(e.host))); err == nil {
		outputs = append(outputs, string(out))
	} else {
		outputs = append(outputs, err.Error())
	}

	// HTTP: with the token, without, with a wrong one; a 503.
	rc := newHTTPReceiver(h, log, (&app{bus: e.bus, ledger: e.ledger}).health, leakHTTPTok, defaultHTTPLimits())
	ts := newTestServer(t, rc)
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.ServerError(504))
	for _, auth := range []string{"Bearer " + leakHTTPTok, "Bearer " + leakHTTPTok, "", "Bearer wrong-token", "Basic " + leakHTTPTok[:8]} {
		req, _ := http.NewRequest(http.MethodPost, ts, bytes.NewReader(e.request(stopped(), events.HostTarget(e.host))))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		outputs = append(outputs, httpExchange(t, req))
	}
	req, _ := http.NewRequest(http.MethodGet, ts+"/healthz", nil)
	outputs = append(outputs, httpExchange(t, req))

	// A NATS connection refused, with the password in the URL and in
	// the configuration.
	bc := bus.DefaultConfig()
	bc.URL, bc.User, bc.Password, bc.ConnectTimeout = "nats://coldmove:"+leakNATSPass+"@127.0.0.1:1", "coldmove", leakNATSPass, 200*time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	_, err := bus.Connect(ctx, bc)
	cancel()
	if err == nil {
		t.Error("connected to a closed port")
	} else {
		outputs = append(outputs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
	}

	// What a panic, a %v in a log line or an encoder would print of the
	// configuration, the clients and a refusal's error.
	cfg := defaultConfig()
	cfg.ECS.Credentials = creds
	cfg.Bus, cfg.HTTPToken = bc, leakHTTPTok
	_, apiErr := wrong.ShowServer(t.Context(), e.sim.ProjectID(), running)
	if !errors.Is(apiErr, ecsclient.ErrAuthFailed) {
		t.Errorf("wrong secret key: ShowServer = %v", apiErr)
	}
	signer := ecsclient.Signer{Credentials: creds}
	for _, v := range []any{cfg, &cfg, cfg.ECS, cfg.Bus, creds, &creds, good, *good, signer, &signer, apiErr, h, a, rc} {
		outputs = append(outputs, fmt.Sprintf("%v|%+v|%#v|%s|%q", v, v, v, v, v))
		if b, err := json.Marshal(v); err == nil {
			outputs = append(outputs, string(b))
		}
		log.Debug("value", "v", v)
		outputs = append(outputs, panicText(v))
	}

	checkNoLeak(t, "the log", logs.String())
	for i, o := range outputs {
		checkNoLeak(t, fmt.Sprintf("output %d", i), o)
	}
	for _, p := range rawStream(t, e) {
		checkNoLeak(t, "a message on the stream", p)
	}
	snap, _ := json.Marshal(e.Snapshot())
	checkNoLeak(t, "the ledger", string(snap))
	if !strings.Contains(logs.String(), secret.String(leakAK).Masked()) {
		t.Errorf("the log does not name the refused access key by its mask %s", secret.String(leakAK).Masked())
	}
	t.Logf("checked %d bytes of log, %d outputs", len(logs.String()), len(outputs))
}

// panicText returns what a panic with v prints (its value; the stack holds
// no strings).
func panicText(v any) (s string) {
	defer func() { s = fmt.Sprint(recover()) }()
	panic(v)
}

// newTestServer serves rc on loopback with its own server settings.
func newTestServer(t *testing.T, rc *httpReceiver) string {
	t.Helper()
	srv := rc.server()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := rc.listen(raw)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// httpExchange returns an answer as a client sees it: status, headers and
// body.
func httpExchange(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", resp.Status)
	_ = resp.Header.Write(&b)
	b.Write(body)
	return b.String()
}

// rawStream returns every message on the stream as bytes: subject,
// headers and data.
func rawStream(t *testing.T, e *env) []string {
	t.Helper()
	st, err := e.nats.JetStream().Stream(t.Context(), e.bus.Config().Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(t.Context(), seq)
		if err != nil {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n", m.Subject)
		for k, vs := range m.Header {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ","))
		}
		b.Write(m.Data)
		out = append(out, b.String())
	}
	if len(out) == 0 {
		t.Fatal("nothing on the stream")
	}
	return out
}
