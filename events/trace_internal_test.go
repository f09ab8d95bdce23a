package events

import (
	"regexp"
	"strings"
	"testing"
)

// Reference rules for a tracestate list-member, written as the W3C ABNF
// reads (https://www.w3.org/TR/trace-context/#tracestate-header), to check
// the hand-written ones against.
var (
	refKey   = regexp.MustCompile(`^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$`)
	refValue = regexp.MustCompile(`^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$`)
)

func refTraceState(ts string) (int, bool) {
	if len(ts) > maxTraceState {
		return 0, false
	}
	seen := map[string]bool{}
	for _, m := range strings.Split(ts, ",") {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue
		}
		i := strings.IndexByte(m, '=')
		if i < 0 || !refKey.MatchString(m[:i]) || !refValue.MatchString(m[i+1:]) || seen[m[:i]] {
			return 0, false
		}
		seen[m[:i]] = true
	}
	if len(seen) > maxTraceStateMembers {
		return 0, false
	}
	return len(seen), true
}

// FuzzTraceState checks traceStateMembers against the reference above,
// and that whatever it accepts is safe to carry: printable ASCII only.
func FuzzTraceState(f *testing.F) {
	for _, s := range []string{
		"", "a=b", " a=1 ,\t, b=2 ,", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "1t@s=x", "a=", "a= b", "a=b ",
		"a=1,a=2", "A=1", "a=1\r\n", "t@" + strings.Repeat("s", 15) + "=1", "k=" + strings.Repeat("v", 256),
		strings.Repeat("a=1,", 40), "a@b@c=1", "a=b=c", "=1", "a=\x7f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ts string) {
		n, ok := traceStateMembers(ts)
		wantN, wantOK := refTraceState(ts)
		if n != wantN || ok != wantOK {
			t.Fatalf("traceStateMembers(%q) = %d, %v; the reference says %d, %v", ts, n, ok, wantN, wantOK)
		}
		if !ok {
			return
		}
		for i := 0; i < len(ts); i++ {
			if c := ts[i]; (c < 0x20 || c > 0x7e) && c != '\t' {
				t.Fatalf("accepted %q with byte %#x", ts, c)
			}
		}
	})
}
