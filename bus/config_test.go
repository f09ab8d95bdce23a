package bus_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/bus"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		edit func(*bus.Config)
		want []string
	}{
		"defaults":                              {edit: func(*bus.Config) {}},
		"unlimited retention":                   {edit: func(c *bus.Config) { c.MaxAge, c.MaxBytes = 0, -1 }},
		"max age equal to the duplicate window": {edit: func(c *bus.Config) { c.MaxAge = c.Duplicates }},
		"max age shorter than the duplicate window": {
			edit: func(c *bus.Config) { c.MaxAge, c.Duplicates = 5*time.Minute, 10*time.Minute },
			want: []string{"stream max age 5m0s is shorter than the duplicate window 10m0s"},
		},
		"negative max age": {
			edit: func(c *bus.Config) { c.MaxAge = -time.Second },
			want: []string{"stream max age must not be negative (0: unlimited), not -1s"},
		},
		"zero max bytes": {
			edit: func(c *bus.Config) { c.MaxBytes = 0 },
			want: []string{"stream max bytes must be -1 (unlimited) or positive, not 0"},
		},
		"max bytes below -1": {
			edit: func(c *bus.Config) { c.MaxBytes = -2 },
			want: []string{"stream max bytes must be -1 (unlimited) or positive, not -2"},
		},
		"everything wrong at once": {
			edit: func(c *bus.Config) {
				c.URL, c.SubjectPrefix, c.Stream, c.Consumer, c.ContentMode, c.Backoff = " ", "a..b", "A.B", "c*", "xml", nil
			},
			want: []string{"URL is empty", `subject prefix "a..b"`, `stream name "A.B"`, `consumer name "c*"`,
				`content mode "xml"`, "backoff lists no delay"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := bus.DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (err != nil) != (len(tc.want) > 0) {
				t.Fatalf("Validate = %v, want an error: %v", err, len(tc.want) > 0)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestConfig_printingHidesSecrets(t *testing.T) {
	t.Parallel()
	c := bus.DefaultConfig()
	c.URL = "nats://alice:pw-in-url@127.0.0.1:4222"
	c.User, c.Password = "alice", "pw-secret"
	c.Creds = "-----BEGIN NATS USER JWT-----\njwt-secret\n------END NATS USER JWT------"
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "bus", c)
	out := fmt.Sprintf("%v %+v %#v %s", c, c, c, c) + logs.String()
	for _, s := range []string{"pw-in-url", "pw-secret", "jwt-secret"} {
		if strings.Contains(out, s) {
			t.Errorf("printing shows %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "127.0.0.1:4222") {
		t.Errorf("printing hides the server:\n%s", out)
	}
}
