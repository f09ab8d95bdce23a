package ids_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/ids"
)

func TestKind_Check(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind ids.Kind
		id   string
		ok   bool
	}{
		{ids.Project, "77b6a44cba5143ab91d13ab9a8ff44fd", true},
		{ids.Project, "77B6A44CBA5143AB91D13AB9A8FF44FD", true},
		{ids.Project, "77b6a44cba5143ab91d13ab9a8ff44f", false},
		{ids.Project, "77b6a44cba5143ab91d13ab9a8ff44fdd", false},
		{ids.Project, "77b6a44c-a514-3ab9-1d13-ab9a8ff44fd", false},
		{ids.Project, "", false},
		{ids.Server, "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", true},
		{ids.Server, "A4C6D0E2-3B1F-4C5D-9E7A-1B2C3D4E5F60", true},
		{ids.Server, "a4c6d0e23b1f4c5d9e7a1b2c3d4e5f60", false},
		{ids.Server, "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f6z", false},
		{ids.Server, "a4c6d0e2-3b1f-4c5d-9e7a_1b2c3d4e5f60", false},
		{ids.Server, "../c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", false},
		{ids.Server, "s1", false},
		{ids.DedicatedHost, "6ab7a2a1-e1a1-4d84-b3a5-1bf2d2e1e0f5", true},
		{ids.DedicatedHost, "6ab7a2a1/e1a1", false},
		{ids.DedicatedHost, "host-1", false},
		{ids.Job, "ff80808288d41e1b018990260955686a", true},
		{ids.Job, "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", true},
		{ids.Job, "job_2026-03-01", true},
		{ids.Job, strings.Repeat("a", 64), true},
		{ids.Job, strings.Repeat("a", 65), false},
		{ids.Job, "", false},
		{ids.Job, "job.2026", false}, // a '.' would split a KV key or subject
		{ids.Job, ".hidden", false},
		{ids.Job, "-flag", false},
		{ids.Job, "_x", false},
		{ids.Job, "a/b", false},
		{ids.Job, "a?b", false},
		{ids.Job, "a#b", false},
		{ids.Job, "a%2e", false},
		{ids.Job, "a b", false},
		{ids.Job, "a\tb", false},
		{ids.Job, "a\x00b", false},
		{ids.Job, "a*b", false},
		{ids.Job, "a>b", false},
		{ids.Job, "ab\u00e9", false},
		{ids.Region, "cn-north-4", true},
		{ids.Region, "ap-southeast-1", true},
		{ids.Region, "eu-de", true},
		{ids.Region, "la-south-2", true},
		{ids.Region, "me-east-101", true},
		{ids.Region, strings.Repeat("a", 32), true},
		{ids.Region, strings.Repeat("a", 33), false},
		{ids.Region, "cn-north-" + strings.Repeat("4", 30), false}, // 39 characters
		{ids.Region, "", false},
		{ids.Region, "c", false},
		{ids.Region, "Cn-north-4", false},
		{ids.Region, "4cn-north", false},
		{ids.Region, "cn--north-4", false},
		{ids.Region, "cn-north-", false},
		{ids.Region, "cn_north_4", false},
		{ids.Region, "cn-north-4.evil", false},
		{ids.Region, "cn-north-4/..", false},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String()+" "+tc.id, func(t *testing.T) {
			t.Parallel()
			err := tc.kind.Check(tc.id)
			if (err == nil) != tc.ok || tc.kind.Valid(tc.id) != tc.ok {
				t.Fatalf("Check(%q) = %v, Valid = %v, want ok=%v", tc.id, err, tc.kind.Valid(tc.id), tc.ok)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ids.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.kind.String()) || !strings.Contains(err.Error(), tc.kind.Rule()) {
				t.Errorf("error %q does not name the kind and its rule", err)
			}
		})
	}
}

func TestKind_Check_shortensHostileInput(t *testing.T) {
	t.Parallel()
	err := ids.Job.Check(strings.Repeat("x/", 10000))
	if len(err.Error()) > 250 {
		t.Errorf("error is %d bytes long", len(err.Error()))
	}
}

func FuzzKinds(f *testing.F) {
	for _, s := range []string{"cn-north-4", "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", "ff80808288d41e1b018990260955686a", "a..b", "a.b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []ids.Kind{ids.Project, ids.Server, ids.DedicatedHost, ids.Job, ids.Region} {
			if !k.Valid(s) {
				continue
			}
			// Whatever passes is one safe token: no separator, wildcard,
			// escape, space or control character.
			if strings.ContainsAny(s, "./\\?#%*> \t\r\n\x00") || len(s) > 64 {
				t.Fatalf("%s accepts %q", k, s)
			}
		}
	})
}
