package ecstest

import (
	"fmt"
	"strings"
	"testing"
)

// TestNoSecretsInDescriptions formats every value that holds a credential
// with every verb and checks that no secret comes out.
func TestNoSecretsInDescriptions(t *testing.T) {
	t.Parallel()
	temp := GenerateTemporaryCredential()
	const token = "an-iam-token-value"
	srv := NewServer(t, WithCredentials(temp), WithTokens(token))
	cfg := Config{Credentials: []Credential{temp, srv.cred}, Tokens: []string{token}}
	secrets := []string{temp.SecretKey, temp.SecurityToken, srv.cred.SecretKey, token, temp.AccessKey, srv.cred.AccessKey}
	values := map[string]any{
		"Credential": temp, "*Credential": &temp, "[]Credential": []Credential{temp},
		"Config": cfg, "*Config": &cfg, "*Simulator": srv.Simulator, "*Server": srv,
		"ecsclient.Credentials": srv.Credentials(),
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range secrets {
				if strings.Contains(out, secret) {
					t.Errorf("%s formatted with %s reveals a secret: %s", name, verb, out)
				}
			}
		}
	}
	if got := temp.String(); !strings.Contains(got, temp.AccessKey[:4]+"***") {
		t.Errorf("Credential.String() = %s, want the access key's start", got)
	}
}
