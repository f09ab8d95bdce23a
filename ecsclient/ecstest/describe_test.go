package ecstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/secret"
)

// TestNoSecretsInDescriptions prints, logs and encodes every value that
// holds a credential or a token and checks that no secret comes out.
func TestNoSecretsInDescriptions(t *testing.T) {
	t.Parallel()
	temp := GenerateTemporaryCredential()
	const token = "an-iam-token-value"
	srv := NewServer(t, WithCredentials(temp), WithTokens(token))
	cfg := Config{Credentials: []Credential{temp, srv.cred}, Tokens: []secret.String{token}}
	secrets := []secret.String{temp.SecretKey, temp.SecurityToken, srv.cred.SecretKey, token, temp.AccessKey, srv.cred.AccessKey}
	values := map[string]any{
		"Credential": temp, "*Credential": &temp, "[]Credential": []Credential{temp},
		"Config": cfg, "*Config": &cfg, "*Simulator": srv.Simulator, "*Server": srv,
		"ecsclient.Credentials": srv.Credentials(),
	}
	check := func(where, out string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(out, s.Reveal()) {
				t.Errorf("%s reveals a secret: %s", where, out)
			}
		}
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			check(name+" formatted with "+verb, fmt.Sprintf(verb, v))
		}
		if b, err := json.Marshal(v); err == nil {
			check(name+" as JSON", string(b))
		}
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("configured", "value", v)
			check(name+" in a log line", buf.String())
		}
	}
}
