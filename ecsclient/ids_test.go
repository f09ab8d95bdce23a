package ecsclient

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateIDs(t *testing.T) {
	t.Parallel()
	type check struct {
		name string
		fn   func(string) error
	}
	project := check{"project", ValidateProjectID}
	server := check{"server", ValidateServerID}
	job := check{"job", ValidateJobID}
	host := check{"dedicated host", ValidateDedicatedHostID}
	tests := []struct {
		check check
		id    string
		ok    bool
	}{
		{project, "77b6a44cba5143ab91d13ab9a8ff44fd", true},
		{project, "77B6A44CBA5143AB91D13AB9A8FF44FD", true},
		{project, "77b6a44cba5143ab91d13ab9a8ff44f", false},
		{project, "77b6a44cba5143ab91d13ab9a8ff44fdd", false},
		{project, "77b6a44c-a514-3ab9-1d13-ab9a8ff44fd", false},
		{project, "", false},
		{server, "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", true},
		{server, "A4C6D0E2-3B1F-4C5D-9E7A-1B2C3D4E5F60", true},
		{server, "a4c6d0e23b1f4c5d9e7a1b2c3d4e5f60", false},
		{server, "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f6z", false},
		{server, "a4c6d0e2-3b1f-4c5d-9e7a_1b2c3d4e5f60", false},
		{server, "../c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", false},
		{job, "ff80808288d41e1b018990260955686a", true},
		{job, "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", true},
		{job, "job_2026.03-01", true},
		{job, strings.Repeat("a", 64), true},
		{job, strings.Repeat("a", 65), false},
		{job, "", false},
		{job, ".hidden", false},
		{job, "-flag", false},
		{job, "a..b", false},
		{job, "a/b", false},
		{job, "a?b", false},
		{job, "a#b", false},
		{job, "a%2e", false},
		{job, "a b", false},
		{job, "a\tb", false},
		{job, "a\x00b", false},
		{job, "a\\b", false},
		{job, "ab\u00e9", false},
		{host, "6ab7a2a1-e1a1-4d84-b3a5-1bf2d2e1e0f5", true},
		{host, "6ab7a2a1/e1a1", false},
	}
	for _, tc := range tests {
		t.Run(tc.check.name+" "+tc.id, func(t *testing.T) {
			t.Parallel()
			err := tc.check.fn(tc.id)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%q) = %v, want ok=%v", tc.id, err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidID) {
					t.Errorf("error %v does not match ErrInvalidID", err)
				}
				if !strings.Contains(err.Error(), tc.check.name+" id") {
					t.Errorf("error %q does not name the kind of id", err)
				}
			}
		})
	}
}

func TestInvalidID_shortensHostileInput(t *testing.T) {
	t.Parallel()
	err := ValidateJobID(strings.Repeat("x/", 10000))
	if len(err.Error()) > 200 {
		t.Errorf("error is %d bytes long", len(err.Error()))
	}
}
