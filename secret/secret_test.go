package secret_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/secret"
)

type holder struct {
	Name  string
	Key   secret.String
	Token secret.String
	Empty secret.String
}

func TestString_neverPrinted(t *testing.T) {
	t.Parallel()
	h := holder{Name: "visible", Key: "sk-very-secret", Token: "tok-very-secret"}
	var out strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%T"} {
		fmt.Fprintf(&out, verb+"\n", h)
		fmt.Fprintf(&out, verb+"\n", h.Key)
		fmt.Fprintf(&out, verb+"\n", &h)
	}
	out.WriteString(fmt.Sprint(h.Key, h) + fmt.Sprintln(h.Key, h))
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(j)
	var logs bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, nil))
	lg.Info("x", "key", h.Key, "holder", h)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "key", h.Key, "holder", h)
	out.Write(logs.Bytes())
	for _, s := range []string{"sk-very-secret", "tok-very-secret"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("printed %q:\n%s", s, out.String())
		}
	}
	if !strings.Contains(out.String(), "visible") || !strings.Contains(out.String(), secret.Redacted) {
		t.Errorf("output hides what it should show:\n%s", out.String())
	}
	if h.Key.Reveal() != "sk-very-secret" || string(h.Key) != "sk-very-secret" {
		t.Error("Reveal does not return the secret")
	}
	if h.Empty.String() != "" {
		t.Errorf("empty secret prints %q", h.Empty.String())
	}
}

func TestString_Masked(t *testing.T) {
	t.Parallel()
	for in, want := range map[secret.String]string{"": "", "short": "***", "AKIDEXAMPLE1234567890": "AKID***"} {
		if got := in.Masked(); got != want {
			t.Errorf("Masked(%d chars) = %q, want %q", len(in), got, want)
		}
	}
}
