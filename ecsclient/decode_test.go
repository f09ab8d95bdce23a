package ecsclient

import (
	"encoding/json"
	"testing"
)

// FuzzPlainString checks the shortcut of looseString against
// encoding/json: for every valid JSON string literal it takes, it gives
// what json.Unmarshal gives.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{`"ACTIVE"`, `""`, `"a\"b"`, `"\u00e9"`, `"é"`, "\"\xff\"", `"tab	"`, `"\n"`, `"`, `"x`, `x"`, `"a"b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := plainString(b)
		var want string
		err := json.Unmarshal(b, &want)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("plainString took %q, which is not a JSON string: %v", b, err)
		}
		if got != want {
			t.Fatalf("plainString(%q) = %q, encoding/json says %q", b, got, want)
		}
	})
}

// TestLooseString_forms: a string with and without escapes, a number, a
// boolean and null.
func TestLooseString_forms(t *testing.T) {
	for in, want := range map[string]string{`"ACTIVE"`: "ACTIVE", `"a\u0041\n"`: "aA\n", `12`: "12", `true`: "true", `null`: "", ` "x" `: "x"} {
		var s looseString
		if err := s.UnmarshalJSON([]byte(in)); err != nil || string(s) != want {
			t.Errorf("%s: %q, %v; want %q", in, s, err, want)
		}
	}
}
