package ecsclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// TokenAuth is an [http.RoundTripper] that authenticates with an IAM token
// (the X-Subject-Token of IAM /v3/auth/tokens) in the X-Auth-Token header,
// the alternative to AK/SK signing.
//
// Like [Signer] it clones the request and never modifies the caller's, and
// its printed forms never show the token.
type TokenAuth struct {
	// Token is the IAM token.
	Token string
	// Base carries the request; nil means [http.DefaultTransport].
	Base http.RoundTripper
}

var _ http.RoundTripper = (*TokenAuth)(nil)

var errNoToken = errors.New("ecsclient: token auth: token is empty")

// RoundTrip sends a clone of req carrying X-Auth-Token. It closes req.Body,
// also on errors.
func (t *TokenAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Token == "" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errNoToken
	}
	out := req.Clone(req.Context())
	out.Header.Del("Authorization")
	out.Header.Set(headerAuthToken, t.Token)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}

// String returns a description that says only whether a token is set.
func (t TokenAuth) String() string {
	return "ecsclient.TokenAuth{Token: " + presence(t.Token) + "}"
}

// GoString returns the same redacted description as [TokenAuth.String].
func (t TokenAuth) GoString() string { return t.String() }

// Format implements [fmt.Formatter] so that every verb prints the redacted
// description.
func (t TokenAuth) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.String()) }

// LogValue implements [slog.LogValuer] with the redacted description.
func (t TokenAuth) LogValue() slog.Value { return slog.StringValue(t.String()) }

// MarshalJSON encodes the redacted description.
func (t TokenAuth) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }
