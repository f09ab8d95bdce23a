package events

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// maxEcho bounds a string copied from an unreadable request into a
// rejection, so that a bad input is never amplified.
const maxEcho = 256

// NewRequested returns a [TypeRequested] event with the given CloudEvent
// source and id: a request to move r.ServerID to r.Target. The request is
// validated first, its deadline judged against at; the error is a
// *[ValidationError] naming every problem.
func NewRequested(source, id string, r Request, at time.Time) (event.Event, error) {
	if err := r.ValidateAt(at); err != nil {
		return event.Event{}, err
	}
	e := event.New()
	e.SetID(id)
	e.SetSource(source)
	e.SetType(TypeRequested)
	e.SetSubject(r.ServerID)
	e.SetTime(at.UTC())
	e.SetDataSchema(DataSchema(TypeRequested))
	if err := e.SetData(ContentType, &r); err != nil {
		return event.Event{}, fmt.Errorf("events: build %s: encode data: %w", TypeRequested, err)
	}
	if err := e.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("events: build %s: %w", TypeRequested, err)
	}
	return e, nil
}

// NewAccepted returns the [TypeAccepted] event for a request whose
// migration was submitted as jobID and is tracked until deadline.
func NewAccepted(o Origin, jobID string, deadline, at time.Time) (event.Event, error) {
	o.Power = nil // on terminal events only
	return build(o, TypeAccepted, jobID, &Accepted{Correlation: o.correlation(jobID), Deadline: deadline.UTC()}, at)
}

// NewRejected returns the [TypeRejected] event for a request on which
// nothing was submitted.
func NewRejected(o Origin, r Rejection, at time.Time) (event.Event, error) {
	c := o.correlation("")
	c.RequestID, c.RequestSource = clip(c.RequestID), clip(c.RequestSource)
	c.ServerID, c.ProjectID, c.Region = clip(c.ServerID), clip(c.ProjectID), clip(c.Region)
	return build(o, TypeRejected, "", &Rejected{Correlation: c, Rejection: r}, at)
}

// NewCompleted returns the [TypeCompleted] event for a request whose server
// is verified on the target: moved by jobID, or, with alreadyInPlace and no
// job, found there before any call.
func NewCompleted(o Origin, jobID string, alreadyInPlace bool, at time.Time) (event.Event, error) {
	return build(o, TypeCompleted, jobID, &Completed{Correlation: o.correlation(jobID), AlreadyInPlace: alreadyInPlace}, at)
}

// NewFailed returns the [TypeFailed] event for a request whose job failed.
func NewFailed(o Origin, jobID string, f Failure, at time.Time) (event.Event, error) {
	return build(o, TypeFailed, jobID, &Failed{Correlation: o.correlation(jobID), Failure: f}, at)
}

// NewTimedOut returns the [TypeTimedOut] event for a request whose deadline
// passed while jobID was last seen in lastStatus.
func NewTimedOut(o Origin, jobID string, deadline time.Time, lastStatus string, at time.Time) (event.Event, error) {
	return build(o, TypeTimedOut, jobID, &TimedOut{Correlation: o.correlation(jobID), Deadline: deadline.UTC(), LastStatus: lastStatus}, at)
}

// NewProgressed returns the [TypeProgressed] event of a power step of the
// request; jobID is the power job's. Its id is derived from the request
// key (or the job) and the step, so each step is announced once.
func NewProgressed(o Origin, step Step, jobID string, at time.Time) (event.Event, error) {
	o.Power = nil // on terminal events only
	return buildID(o, TypeProgressed, OutcomeID(TypeProgressed+"/"+string(step), jobID, o.Key()),
		&Progressed{Correlation: o.correlation(jobID), Step: step}, at)
}

// OutcomeID returns the deterministic CloudEvent id of an outcome: derived
// from the job id when there is one, else from the request key, and from
// the outcome type. It has the form of a UUID (version 8, RFC 9562).
func OutcomeID(eventType, jobID, requestKey string) string {
	basis := "request:" + requestKey
	if jobID != "" {
		basis = "job:" + jobID
	}
	sum := sha256.Sum256([]byte("coldmove/outcome/v1\x00" + eventType + "\x00" + basis))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x80 // version 8
	b[8] = (b[8] & 0x3f) | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// validator is a payload that can check itself.
type validator interface{ Validate() error }

func build(o Origin, eventType, jobID string, data validator, at time.Time) (event.Event, error) {
	return buildID(o, eventType, OutcomeID(eventType, jobID, o.Key()), data, at)
}

func buildID(o Origin, eventType, id string, data validator, at time.Time) (event.Event, error) {
	if err := data.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("events: build %s: %w", eventType, err)
	}
	e := event.New()
	e.SetID(id)
	e.SetSource(Source)
	e.SetType(eventType)
	if IsValidToken(o.ServerID) {
		e.SetSubject(o.ServerID)
	}
	e.SetTime(at.UTC())
	e.SetDataSchema(DataSchema(eventType))
	if err := e.SetData(ContentType, data); err != nil {
		return event.Event{}, fmt.Errorf("events: build %s: encode data: %w", eventType, err)
	}
	if tp, ts := traceContext(o.TraceParent, o.TraceState); tp != "" {
		e.SetExtension("traceparent", tp)
		if ts != "" {
			e.SetExtension("tracestate", ts)
		}
	}
	if err := e.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("events: build %s: %w", eventType, err)
	}
	return e, nil
}

func (o Origin) correlation(jobID string) Correlation {
	return Correlation{
		Power:         o.Power,
		RequestID:     o.RequestID,
		RequestSource: o.RequestSource,
		ServerID:      o.ServerID,
		ProjectID:     o.ProjectID,
		Region:        o.Region,
		Target:        o.Target,
		JobID:         jobID,
	}
}

// clip bounds a string echoed from a request to maxEcho bytes.
func clip(s string) string { return clipTo(s, maxEcho) }

// clipTo bounds s to n bytes, dropping a rune cut in two.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
