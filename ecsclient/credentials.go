package ecsclient

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coldmove/coldmove/secret"
)

// Credentials are an access key pair for SDK-HMAC-SHA256 signing, with the
// security token of temporary credentials when there is one.
//
// Every field is a [secret.String], so Credentials can be printed, logged
// and encoded as they are: each field shows as "[redacted]" (or "" when
// unset).
type Credentials struct {
	// AccessKey identifies the key pair (the AK). It is sent in the
	// Authorization header; it is not a secret, but [Client] shows only its
	// start ([secret.String.Masked]).
	AccessKey secret.String
	// SecretKey signs requests (the SK). It never leaves the process.
	SecretKey secret.String
	// SecurityToken accompanies temporary credentials. It is sent as
	// X-Security-Token and signed.
	SecurityToken secret.String
}

// Valid reports whether both halves of the key pair are set.
func (c Credentials) Valid() bool {
	return c.AccessKey != "" && c.SecretKey != ""
}

// Format implements [fmt.Formatter] by printing c's fields, which redact
// themselves. It is needed because fmt, given a *Credentials inside another
// value and a verb it cannot apply to a pointer (%s, %q, …), prints the
// struct without calling any method of its fields.
func (c Credentials) Format(f fmt.State, verb rune) {
	type credentials Credentials // the fields without this method
	fmt.Fprintf(f, fmt.FormatString(f, verb), credentials(c))
}

// formatRedacted writes s for any verb; %q quotes it. It backs the Format
// methods of the types whose unexported fields hold secrets.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	_, _ = f.Write([]byte(s))
}

// redactor removes known secrets from text that came from elsewhere (an
// error body may echo the canonical request, including X-Security-Token).
type redactor struct {
	secrets []string // replaced by [secret.Redacted]
	ak      string   // replaced by mask
	mask    string
}

func newRedactor(c Credentials) *redactor {
	r := &redactor{ak: c.AccessKey.Reveal(), mask: c.AccessKey.Masked()}
	for _, s := range []secret.String{c.SecretKey, c.SecurityToken} {
		if len(s) >= 4 { // shorter strings would mangle ordinary text
			r.secrets = append(r.secrets, s.Reveal())
		}
	}
	return r
}

func (r *redactor) redact(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, secret.Redacted)
	}
	if len(r.ak) >= 4 {
		s = strings.ReplaceAll(s, r.ak, r.mask)
	}
	return redactSignatures(s)
}

// redactSignatures hides the value of every "Signature=" in s: an answer
// that echoes the Authorization header must not hand on a signature,
// which stays valid for its request within the gateway's clock skew.
func redactSignatures(s string) string {
	const key = "Signature="
	var b strings.Builder
	for {
		i := strings.Index(s, key)
		if i < 0 {
			break
		}
		i += len(key)
		j := i
		for j < len(s) && isHexDigit(s[j]) {
			j++
		}
		b.WriteString(s[:i])
		if j > i {
			b.WriteString(secret.Redacted)
		}
		s = s[j:]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// String keeps the redactor's own contents out of any printout.
func (r *redactor) String() string { return "redactor" }

// Format implements [fmt.Formatter]; it prints nothing secret.
func (r *redactor) Format(f fmt.State, verb rune) { formatRedacted(f, verb, "redactor") }
