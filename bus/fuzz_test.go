package bus

import (
	"strings"
	"testing"
)

// FuzzRedactURL checks that a password or token in a URL never survives
// redaction, whatever surrounds it, and that redaction never panics.
func FuzzRedactURL(f *testing.F) {
	f.Add("nats", "alice", "hunter2", "127.0.0.1:4222")
	f.Add("tls", "", "tok3n", "h:1")
	f.Add("nats", "a b", "p q", "bad host")
	f.Add("ws", "u", "p%40ss", "[::1]:80")
	f.Fuzz(func(t *testing.T, scheme, user, pass, host string) {
		if pass == "" || strings.ContainsAny(pass+user, "/?#@,") || strings.Contains(user, ":") || !validScheme(scheme) {
			// Such a string is not one URL whose password is pass (a colon
			// in user moves the split): RedactURL must still not panic.
			_ = RedactURL(scheme + "://" + user + ":" + pass + "@" + host)
			return
		}
		in := scheme + "://" + user + ":" + pass + "@" + host
		out := RedactURL(in)
		if strings.Contains(out, ":"+pass+"@") {
			t.Errorf("RedactURL(%q) = %q keeps the password", in, out)
		}
		if !strings.HasSuffix(out, "REDACTED@"+host) {
			t.Errorf("RedactURL(%q) = %q, want it to end in REDACTED@%s", in, out, host)
		}
		err := scrub(errString("dial "+in+": refused "+pass), secrets(Config{URL: in}))
		if strings.Contains(strings.ReplaceAll(err.Error(), "REDACTED", "_"), pass) {
			t.Errorf("scrubbed error %q keeps the password %q", err, pass)
		}
	})
}

func validScheme(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

type errString string

func (e errString) Error() string { return string(e) }

// FuzzCovers checks that the subject check never panics and that a
// pattern always covers itself.
func FuzzCovers(f *testing.F) {
	f.Add("coldmove.>", "coldmove.>")
	f.Add("*.>", "a.b.c")
	f.Add("", ".")
	f.Fuzz(func(t *testing.T, s, filter string) {
		_ = covers(s, filter)
		if s != "" && !strings.Contains(s, "..") && !strings.HasPrefix(s, ".") && !strings.HasSuffix(s, ".") && !covers(s, s) {
			t.Errorf("covers(%q, %q) = false", s, s)
		}
	})
}
