package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
)

func TestSchedule_Poll(t *testing.T) {
	t.Parallel()
	s := DefaultSchedule()
	want := []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	for attempts, w := range want {
		if got := s.Poll(attempts); got != w {
			t.Errorf("Poll(%d) = %s, want %s", attempts, got, w)
		}
	}
	if got := s.Poll(1 << 20); got != s.Max {
		t.Errorf("Poll(huge) = %s, want the cap %s", got, s.Max)
	}
	if got := s.Poll(-1); got != s.First {
		t.Errorf("Poll(-1) = %s, want %s", got, s.First)
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		deadline time.Time
		d        time.Duration
		min, max time.Duration // bounds of the delay
	}{
		"no deadline":           {d: time.Minute, min: time.Minute, max: 72 * time.Second},
		"deadline far":          {deadline: now.Add(time.Hour), d: time.Minute, min: time.Minute, max: 72 * time.Second},
		"capped at deadline":    {deadline: now.Add(10 * time.Second), d: time.Minute, min: 10 * time.Second, max: 10 * time.Second},
		"deadline passed":       {deadline: now.Add(-time.Second), d: time.Minute, min: time.Minute, max: 72 * time.Second},
		"tiny delay, no jitter": {d: 3 * time.Nanosecond, min: 3, max: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := next(now, tc.deadline, tc.d, "job-1", 2).Sub(now)
			if got < tc.min || got > tc.max {
				t.Errorf("delay %s, want %s to %s", got, tc.min, tc.max)
			}
			if again := next(now, tc.deadline, tc.d, "job-1", 2).Sub(now); again != got {
				t.Errorf("jitter is not deterministic: %s then %s", got, again)
			}
		})
	}
	// Jobs spread out.
	seen := map[time.Duration]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		seen[jitter(time.Minute, id, 0)] = true
	}
	if len(seen) < 4 {
		t.Errorf("8 jobs got only %d distinct jitters", len(seen))
	}
}

func TestJobFailure(t *testing.T) {
	t.Parallel()
	job := &ecsclient.Job{
		ID: "j1", Status: ecsclient.JobFail, ErrorCode: "Ecs.0319", FailReason: "NUMA",
		SubJobs: []ecsclient.SubJob{
			{ID: "s1", Type: "migrateServer", Status: ecsclient.JobSuccess},
			{ID: "s2", Type: "migrateServer", Status: ecsclient.JobFail, ErrorCode: "Ecs.0319", FailReason: "no NUMA node", ErrorMessage: "insufficient"},
		},
	}
	want := events.Failure{
		Reason: events.FailJobFailed, Message: "job j1 ended in FAIL: Ecs.0319: NUMA",
		ErrorCode: "Ecs.0319", FailReason: "NUMA",
		SubJobs: []events.SubJobFailure{{JobID: "s2", JobType: "migrateServer", Status: "FAIL", ErrorCode: "Ecs.0319", FailReason: "no NUMA node", Message: "insufficient"}},
	}
	if diff := cmp.Diff(want, jobFailure(job)); diff != "" {
		t.Errorf("jobFailure (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		code, reason, want string
	}{
		{"", "", "job j1 ended in FAIL"},
		{"", "why", "job j1 ended in FAIL: why"},
		{"E.1", "", "job j1 ended in FAIL: E.1"},
	} {
		if got := jobFailure(&ecsclient.Job{ID: "j1", ErrorCode: tc.code, FailReason: tc.reason}).Message; got != tc.want {
			t.Errorf("message = %q, want %q", got, tc.want)
		}
	}
}

func TestParseTrigger(t *testing.T) {
	t.Parallel()
	scheduled, err := os.ReadFile("testdata/scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		in      string
		want    Trigger
		wantErr bool
	}{
		"scheduled event": {in: string(scheduled), want: Trigger{Kind: "scheduled-event", ID: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
			Source: "aws.events", DetailType: "Scheduled Event", Time: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}},
		"envelope with odd types": {in: `{"detail-type":"Scheduled Event","id":"x","time":"yesterday","resources":"r"}`,
			want: Trigger{Kind: "scheduled-event", ID: "x", DetailType: "Scheduled Event"}},
		"scheduler input object": {in: `{"poll":"now"}`, want: Trigger{Kind: "input"}},
		"scheduler input string": {in: `"tick"`, want: Trigger{Kind: "input"}},
		"empty object":           {in: `{}`, want: Trigger{Kind: "input"}},
		"nothing":                {in: ``, want: Trigger{Kind: "empty"}},
		"blank":                  {in: " \n", want: Trigger{Kind: "empty"}},
		"null":                   {in: `null`, want: Trigger{Kind: "empty"}},
		"not JSON":               {in: `{"detail-type":`, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTrigger([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, ErrBadTrigger) {
					t.Errorf("err = %v, want ErrBadTrigger", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("trigger (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseTrigger(f *testing.F) {
	scheduled, _ := os.ReadFile("testdata/scheduled-event.json")
	for _, s := range []string{string(scheduled), `{}`, ``, `null`, `"x"`, `[1]`, `{"detail-type":1,"time":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tr, err := ParseTrigger(in)
		if err == nil && tr.Kind == "" {
			t.Errorf("ParseTrigger(%q) gave no kind", in)
		}
		if err != nil && json.Valid(in) {
			t.Errorf("ParseTrigger refused valid JSON %q: %v", in, err)
		}
	})
}

func TestSummary_logsOneJSONLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, 0)
	s := Summary{Jobs: 5, Due: 4, Leased: 3, LeaseLost: 1, Polled: 3, Completed: 1, Failed: 1, TimedOut: 1, Deferred: 0, DurationMS: 12}
	log.Info("tick", "summary", s)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	var got struct {
		Message string  `json:"message"`
		Summary Summary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Message != "tick" || got.Summary != s {
		t.Errorf("logged %+v, want %+v", got, s)
	}
	// The Lambda result is the same JSON.
	b, _ := json.Marshal(s)
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("JSON round trip = %+v, %v", back, err)
	}
}
