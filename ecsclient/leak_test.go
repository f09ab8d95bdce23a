package ecsclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/secret"
)

// leakCreds are used only by the leak tests: long and distinctive, so any
// occurrence in output is unmistakable.
var leakCreds = Credentials{
	AccessKey:     "AKLEAKLEAKLEAKLEAK00",
	SecretKey:     "SK-leak-secret-9f8e7d6c5b4a",
	SecurityToken: "ST-leak-security-token-0a1b2c3d",
}

func assertNoSecret(t *testing.T, where, s string) {
	t.Helper()
	for _, sec := range []secret.String{leakCreds.AccessKey, leakCreds.SecretKey, leakCreds.SecurityToken} {
		if strings.Contains(s, sec.Reveal()) {
			t.Errorf("%s reveals %q:\n%s", where, sec.Reveal(), s)
		}
	}
}

func TestCredentialsNeverPrinted(t *testing.T) {
	t.Parallel()
	signed := mustNew(t, WithRegion("cn-north-4"), WithCredentials(leakCreds))
	signer := &Signer{Credentials: leakCreds, ProjectID: testProject}
	values := map[string]any{
		"Credentials":     leakCreds,
		"*Credentials":    &leakCreds,
		"Signer":          *signer,
		"*Signer":         signer,
		"signing Client":  signed,
		"Client value":    *signed,
		"struct field":    struct{ C Credentials }{leakCreds},
		"pointer field":   struct{ C *Credentials }{&leakCreds},
		"slice":           []Credentials{leakCreds},
		"map":             map[string]*Signer{"s": signer},
		"http.Client":     signed.hc,
		"transport field": struct{ RT http.RoundTripper }{signed.hc.Transport},
		"Client's Signer": signed.hc.Transport,
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%e"} {
			assertNoSecret(t, fmt.Sprintf("%s printed with %s", name, verb), fmt.Sprintf(verb, v))
		}
		assertNoSecret(t, name+" with fmt.Sprint", fmt.Sprint(v))
		if b, err := json.Marshal(v); err == nil {
			assertNoSecret(t, name+" as JSON", string(b))
		}
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("configured", "value", v)
			assertNoSecret(t, name+" in a log line", buf.String())
		}
	}
	if got, want := fmt.Sprintf("%+v", leakCreds), "{AccessKey:[redacted] SecretKey:[redacted] SecurityToken:[redacted]}"; got != want {
		t.Errorf("Credentials printed with %%+v = %s, want %s", got, want)
	}
	if got, want := signed.String(), "ecsclient.Client{Endpoint: https://ecs.cn-north-4.myhuaweicloud.com/, Auth: AK/SK AKLE***}"; got != want {
		t.Errorf("Client.String() = %s, want %s (with the masked access key)", got, want)
	}
}

// signatureRE finds a request signature in an echoed Authorization header.
var signatureRE = regexp.MustCompile(`Signature=[0-9a-fA-F]{8,}`)

// TestCredentialsNeverInErrors: neither a credential nor a request's
// signature reaches an error, however the answer echoes the request.
func TestCredentialsNeverInErrors(t *testing.T) {
	t.Parallel()
	// A hostile or chatty gateway that echoes the request's headers (the
	// real one echoes its canonical request, which holds the signed
	// X-Security-Token) in every shape an answer can take.
	echo := func(r *http.Request) string {
		var b strings.Builder
		for k, v := range r.Header {
			fmt.Fprintf(&b, "%s=%s|", k, strings.Join(v, ","))
		}
		return b.String()
	}
	answers := map[string]http.HandlerFunc{
		"gateway JSON": func(w http.ResponseWriter, r *http.Request) {
			b, _ := json.Marshal(map[string]string{"error_code": "APIGW.0301", "error_msg": "canonicalRequest: " + echo(r), "request_id": echo(r)})
			writeJSON(w, 401, string(b))
		},
		"ECS JSON": func(w http.ResponseWriter, r *http.Request) {
			b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "Ecs.0005", "message": echo(r)}})
			writeJSON(w, 400, string(b))
		},
		"plain text": func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 500, echo(r)) },
		"request id header": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Request-Id", r.Header.Get("X-Security-Token"))
			w.WriteHeader(403)
		},
		"2xx error body": func(w http.ResponseWriter, r *http.Request) {
			b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "Common.0024", "message": echo(r)}})
			writeJSON(w, 202, string(b))
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answers[r.Header.Get("X-Answer")](w, r)
	}))
	t.Cleanup(srv.Close)

	for name := range answers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				r = r.Clone(r.Context())
				r.Header.Set("X-Answer", name)
				return srv.Client().Transport.RoundTrip(r)
			})}
			c := mustNew(t, WithEndpoint(srv.URL), WithCredentials(leakCreds), WithHTTPClient(hc), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			_, err1 := c.ShowJob(t.Context(), testProject, testJob)
			_, err2 := c.ShowServer(t.Context(), testProject, testServer)
			_, err3 := c.MigrateServer(t.Context(), testProject, testServer, Target{})
			for _, err := range []error{err1, err2, err3} {
				if err == nil {
					t.Fatal("want an error")
				}
				assertNoSecret(t, "error", err.Error())
				assertNoSecret(t, "error %+v", fmt.Sprintf("%+v", err))
				if sig := signatureRE.FindString(err.Error()); sig != "" {
					t.Errorf("error hands on a request signature: %s", sig)
				}
				if ae, ok := errors.AsType[*APIError](err); ok {
					assertNoSecret(t, "APIError %#v", fmt.Sprintf("%#v", *ae))
				}
			}
		})
	}
}

func TestCredentialsNeverInTransportErrors(t *testing.T) {
	t.Parallel()
	// A transport whose errors quote the request headers.
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy refused request with headers %v", r.Header)
	})}
	c := mustNew(t, WithEndpoint("https://ecs.example.com"), WithCredentials(leakCreds), WithHTTPClient(hc), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	_, err := c.ShowJob(t.Context(), testProject, testJob)
	if err == nil || !IsTransient(err) {
		t.Fatalf("err = %v, want a transient network error", err)
	}
	assertNoSecret(t, "transport error", err.Error())

	_, err = New(WithCredentials(leakCreds), WithEndpoint("http://"+leakCreds.AccessKey.Reveal()+":"+leakCreds.SecretKey.Reveal()+"@example.com"))
	if err == nil {
		t.Fatal("endpoint with user info accepted")
	}
	assertNoSecret(t, "New error", err.Error())
}

// TestCredentialsNeverInPanics runs itself in a child process that panics
// with credential-holding values, and checks what the Go runtime printed.
func TestCredentialsNeverInPanics(t *testing.T) {
	if v := os.Getenv("ECSCLIENT_LEAK_PANIC"); v != "" {
		values := map[string]any{
			"creds":  leakCreds,
			"signer": &Signer{Credentials: leakCreds},
			"error":  fmt.Errorf("boom with %v and %+v", leakCreds, &Signer{Credentials: leakCreds}),
		}
		panic(values[v])
	}
	t.Parallel()
	for _, which := range []string{"creds", "signer", "error"} {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCredentialsNeverInPanics$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ECSCLIENT_LEAK_PANIC="+which)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("%s: child did not panic:\n%s", which, out)
		}
		if !strings.Contains(string(out), "panic: ") {
			t.Fatalf("%s: no panic in the child's output:\n%s", which, out)
		}
		assertNoSecret(t, "panic with "+which, string(out))
	}
}
