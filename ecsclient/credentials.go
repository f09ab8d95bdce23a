package ecsclient

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Credentials are an access key pair for SDK-HMAC-SHA256 signing, with the
// security token of temporary credentials when there is one.
//
// The printed forms of Credentials ([Credentials.String],
// [Credentials.GoString] and every fmt verb) never show the secret key or
// the security token, and show only the first characters of the access key.
type Credentials struct {
	// AccessKey identifies the key pair (the AK). It is sent in the
	// Authorization header; it is not a secret but is shown only in part.
	AccessKey string
	// SecretKey signs requests (the SK). It never leaves the process.
	SecretKey string
	// SecurityToken accompanies temporary credentials. It is sent as
	// X-Security-Token and signed.
	SecurityToken string
}

// Valid reports whether both halves of the key pair are set.
func (c Credentials) Valid() bool {
	return c.AccessKey != "" && c.SecretKey != ""
}

// String returns a redacted description: a masked access key and whether a
// secret key and a security token are set.
func (c Credentials) String() string {
	var b strings.Builder
	b.WriteString("ecsclient.Credentials{AccessKey: ")
	b.WriteString(maskAccessKey(c.AccessKey))
	b.WriteString(", SecretKey: ")
	b.WriteString(presence(c.SecretKey))
	b.WriteString(", SecurityToken: ")
	b.WriteString(presence(c.SecurityToken))
	b.WriteString("}")
	return b.String()
}

// GoString returns the same redacted description as [Credentials.String],
// so %#v reveals no secret either.
func (c Credentials) GoString() string { return c.String() }

// Format implements [fmt.Formatter] so that every verb, including %+v and
// %#v, prints the redacted description.
func (c Credentials) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements [slog.LogValuer], so a logged Credentials shows only
// the redacted description, whatever the handler.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON encodes the redacted description, so Credentials never reach
// an event or a file in clear by way of encoding/json.
func (c Credentials) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// maskAccessKey keeps the first four characters of a long access key, so an
// operator can tell keys apart, and hides short ones entirely.
func maskAccessKey(ak string) string {
	switch {
	case ak == "":
		return `""`
	case len(ak) < 12:
		return "***"
	default:
		return ak[:4] + "***"
	}
}

func presence(s string) string {
	if s == "" {
		return "unset"
	}
	return "[redacted]"
}

// formatRedacted writes s for any verb; %q quotes it. It backs the Format
// methods of every type that holds a secret.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = f.Write([]byte(s))
}

// redactor removes known secrets from text that came from elsewhere (an
// error body may echo the canonical request, including X-Security-Token).
type redactor struct {
	secrets []string // replaced by "[redacted]"
	ak      string   // replaced by its mask
}

func newRedactor(c Credentials) *redactor {
	r := &redactor{ak: c.AccessKey}
	for _, s := range []string{c.SecretKey, c.SecurityToken} {
		if len(s) >= 4 { // shorter strings would mangle ordinary text
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

func (r *redactor) redact(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	if len(r.ak) >= 4 {
		s = strings.ReplaceAll(s, r.ak, maskAccessKey(r.ak))
	}
	return s
}

// String keeps the redactor's own contents out of any printout.
func (r *redactor) String() string { return "redactor" }

// Format implements [fmt.Formatter]; it prints nothing secret.
func (r *redactor) Format(f fmt.State, verb rune) { formatRedacted(f, verb, "redactor") }
