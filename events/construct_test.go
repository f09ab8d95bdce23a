package events_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
)

const traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

var deadline = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func origin() events.Origin {
	return events.Origin{
		RequestID: "req-1", RequestSource: "/planner", ServerID: serverID, ProjectID: projectID,
		Region: "cn-north-4", Target: events.HostTarget(hostID),
		TraceParent: traceParent, TraceState: "a=b",
	}
}

// outcomes builds one event of every outcome type (two of completed).
func outcomes(t testing.TB, o events.Origin) map[string]event.Event {
	t.Helper()
	must := func(e event.Event, err error) event.Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	return map[string]event.Event{
		"accepted": must(events.NewAccepted(o, "job-1", deadline, now)),
		"rejected": must(events.NewRejected(o, events.Rejection{Reason: events.RejectServerNotStopped,
			Message: "server is ACTIVE; stop it first", ServerStatus: "ACTIVE"}, now)),
		"completed":         must(events.NewCompleted(o, "job-1", false, now)),
		"completed-inplace": must(events.NewCompleted(o, "", true, now)),
		"completed-watched": must(events.NewCompleted(o, "", false, now)),
		"failed-watched":    must(events.NewFailed(o, "", events.Failure{Reason: events.FailServerNotFound, Message: "server deleted"}, now)),
		"timedout-watched":  must(events.NewTimedOut(o, "", deadline, "SHUTOFF", now)),
		"failed": must(events.NewFailed(o, "job-1", events.Failure{Reason: events.FailJobFailed,
			Message: "job FAIL", ErrorCode: "Ecs.0000", FailReason: "NUMA node 1 lacks memory",
			SubJobs: []events.SubJobFailure{{JobID: "sub-1", Status: "FAIL", FailReason: "NUMA"}}}, now)),
		"timedout":           must(events.NewTimedOut(o, "job-1", deadline, "RUNNING", now)),
		"progressed-stop":    must(events.NewProgressed(o, events.StepStopSubmitted, "stop-job-1", now)),
		"progressed-started": must(events.NewProgressed(o, events.StepStarted, "start-job-1", now)),
		"completed-power":    must(events.NewCompleted(powered(o), "job-1", false, now)),
		"failed-restart": must(events.NewFailed(powered(o), "job-1", events.Failure{Reason: events.FailRestartFailed,
			Message: "the start after the move failed", PlacementVerified: true}, now)),
	}
}

// powered is o for a request that asked for power steps: coldmove stopped
// the server and started it again.
func powered(o events.Origin) events.Origin {
	o.Power = &events.PowerOutcome{Stopped: true, StopJobID: "stop-job-1", Restarted: true, StartJobID: "start-job-1"}
	return o
}

func TestConstructors_copyCorrelationAndTrace(t *testing.T) {
	t.Parallel()
	for name, e := range outcomes(t, origin()) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := e.Validate(); err != nil {
				t.Fatalf("invalid CloudEvent: %v", err)
			}
			if e.Source() != events.Source || e.Subject() != serverID || e.DataContentType() != events.ContentType {
				t.Errorf("source/subject/content type = %q %q %q", e.Source(), e.Subject(), e.DataContentType())
			}
			if e.DataSchema() != events.DataSchema(e.Type()) || e.DataSchema() == "" {
				t.Errorf("dataschema = %q", e.DataSchema())
			}
			if !e.Time().Equal(now) {
				t.Errorf("time = %v, want %v", e.Time(), now)
			}
			ext := e.Extensions()
			if ext["traceparent"] != traceParent || ext["tracestate"] != "a=b" {
				t.Errorf("trace extensions = %v", ext)
			}
			var c events.Correlation
			if err := json.Unmarshal(e.Data(), &c); err != nil {
				t.Fatal(err)
			}
			want := events.Correlation{RequestID: "req-1", RequestSource: "/planner", ServerID: serverID,
				ProjectID: projectID, Region: "cn-north-4", Target: events.HostTarget(hostID), JobID: "job-1"}
			if name == "rejected" || strings.HasSuffix(name, "-inplace") || strings.HasSuffix(name, "-watched") {
				want.JobID = ""
			}
			switch name {
			case "completed-power", "failed-restart":
				want.Power = powered(origin()).Power
			case "progressed-stop":
				want.JobID = "stop-job-1"
			case "progressed-started":
				want.JobID = "start-job-1"
			}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("correlation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConstructors_deterministicIDs(t *testing.T) {
	t.Parallel()
	a := outcomes(t, origin())
	later := origin()
	later.TraceParent = ""
	b := outcomes(t, later)
	uuidForm := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]string{}
	for name, e := range a {
		if e.ID() != b[name].ID() {
			t.Errorf("%s: same job and outcome gave ids %s and %s", name, e.ID(), b[name].ID())
		}
		if !uuidForm.MatchString(e.ID()) {
			t.Errorf("%s: id %q is not a version-8 UUID", name, e.ID())
		}
		if strings.Contains(name, "-") && !strings.HasPrefix(name, "progressed") {
			continue // a variant of a type: one request has one outcome of a type, so they share its id
		}
		if other, dup := seen[e.ID()]; dup {
			t.Errorf("%s and %s share id %s", name, other, e.ID())
		}
		seen[e.ID()] = name
	}
	// Another job, or another request without a job, gives other ids.
	if events.OutcomeID(events.TypeCompleted, "job-1", "k") == events.OutcomeID(events.TypeCompleted, "job-2", "k") {
		t.Error("two jobs share a completed id")
	}
	if events.OutcomeID(events.TypeRejected, "", "k1") == events.OutcomeID(events.TypeRejected, "", "k2") {
		t.Error("two requests share a rejected id")
	}
}

func TestConstructors_refuseInvalidPayloads(t *testing.T) {
	t.Parallel()
	bad := origin()
	bad.ServerID = "nope"
	bad.Target = &events.Target{}
	tests := map[string]func() (event.Event, error){
		"accepted without job": func() (event.Event, error) { return events.NewAccepted(origin(), "", deadline, now) },
		"accepted bad origin":  func() (event.Event, error) { return events.NewAccepted(bad, "j", deadline, now) },
		"rejected unknown reason": func() (event.Event, error) {
			return events.NewRejected(origin(), events.Rejection{Reason: "because", Message: "m"}, now)
		},
		"rejected pre-flight on a bad origin": func() (event.Event, error) {
			return events.NewRejected(bad, events.Rejection{Reason: events.RejectServerLocked, Message: "m"}, now)
		},
		"completed in place with a job": func() (event.Event, error) { return events.NewCompleted(origin(), "j", true, now) },
		"failed without message": func() (event.Event, error) {
			return events.NewFailed(origin(), "j", events.Failure{Reason: events.FailJobFailed}, now)
		},
		"timedout without deadline": func() (event.Event, error) { return events.NewTimedOut(origin(), "j", time.Time{}, "", now) },
	}
	for name, build := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := build()
			var ve *events.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("err = %v, want a *ValidationError with problems", err)
			}
		})
	}
}

func TestNewRejected_unreadableRequest(t *testing.T) {
	t.Parallel()
	_, err := events.DecodeMessage(nil, []byte("\x00garbage"), now)
	var de *events.DecodeError
	if !errors.As(err, &de) {
		t.Fatal(err)
	}
	e, err := events.NewRejected(de.Origin, de.Rejection(), now)
	if err != nil {
		t.Fatalf("NewRejected: %v", err)
	}
	if e.Subject() != "" {
		t.Errorf("subject = %q, want none for an unreadable request", e.Subject())
	}
	if got := events.OutcomeSubject(events.DefaultPrefix, e.Type(), e.Subject()); got != "coldmove.placement.rejected._invalid" {
		t.Errorf("subject = %q", got)
	}
	var r events.Rejected
	if err := json.Unmarshal(e.Data(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Reason != events.RejectInvalidEvent || r.Message == "" {
		t.Errorf("rejected = %+v", r)
	}
}

func TestNewRequested(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r := events.Request{ServerID: "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10", Target: events.PublicPoolTarget()}
	e, err := events.NewRequested("urn:test", "req-1", r, at)
	if err != nil {
		t.Fatal(err)
	}
	h, body, err := events.BinaryHeaders(e)
	if err != nil {
		t.Fatal(err)
	}
	p, err := events.DecodeMessage(h, body, at)
	if err != nil {
		t.Fatalf("the built request does not decode: %v", err)
	}
	if p.ID != "req-1" || p.Source != "urn:test" || p.ServerID != r.ServerID || !p.Target.PublicPool {
		t.Errorf("decoded %+v", p)
	}
	if _, err := events.NewRequested("urn:test", "req-2", events.Request{ServerID: "x"}, at); err == nil {
		t.Error("an invalid request was built")
	}
}
