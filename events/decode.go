package events

import (
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// DecodeMessage is the one decoder for messages: it reads a CloudEvent in
// either content mode ([ParseMessage]) and decodes it as a placement
// request ([DecodeRequestAt]). A structured JSON body (a Lambda payload, an
// SQS body) is passed with a nil header. Errors are *[DecodeError].
func DecodeMessage(header map[string][]string, body []byte, now time.Time) (*Placement, error) {
	e, err := ParseMessage(header, body)
	if err != nil {
		return nil, err
	}
	return DecodeRequestAt(e, now)
}

// DecodeRequestAt decodes a CloudEvent as a [TypeRequested] placement
// request and validates it, judging the deadline against now. It fails
// with a *[DecodeError] wrapping exactly one of: [ErrNotCloudEvent],
// [ErrSpecVersion], [ErrInvalidEvent], [ErrUnsupportedType],
// [ErrDataTooLarge] or [ErrInvalidPayload] (with every field problem).
// The error's Origin holds whatever could be read, so that the rejection
// can be correlated with the request.
func DecodeRequestAt(e event.Event, now time.Time) (*Placement, error) {
	if e.Context == nil {
		return nil, decodeErr(ErrNotCloudEvent, Origin{}, "the event has no context", nil)
	}
	o := Origin{
		RequestID:     clip(e.ID()),
		RequestSource: clip(e.Source()),
		ServerID:      clip(e.Subject()),
	}
	if sv := e.SpecVersion(); sv != SpecVersion {
		return nil, decodeErr(ErrSpecVersion, o, fmt.Sprintf("specversion %q; only %s is read", sv, SpecVersion), nil)
	}
	tp, ts := trace(e)
	o.TraceParent, o.TraceState = tp, ts
	if err := e.Validate(); err != nil {
		return nil, decodeErr(ErrInvalidEvent, o, "", sdkProblems(err))
	}
	if e.Type() != TypeRequested {
		return nil, decodeErr(ErrUnsupportedType, o, fmt.Sprintf("type %q; requests are %s", clip(e.Type()), TypeRequested), nil)
	}
	if mt := e.DataMediaType(); !isJSONMedia(mt) {
		return nil, decodeErr(ErrInvalidPayload, o, "",
			[]Problem{{Field: "datacontenttype", Problem: fmt.Sprintf("is %q; must be %s", clip(mt), ContentType)}})
	}
	data := e.Data()
	if len(data) > MaxDataSize {
		return nil, decodeErr(ErrDataTooLarge, o, fmt.Sprintf("data is %d bytes; the limit is %d", len(data), MaxDataSize), nil)
	}
	req, err := parseRequest(data, now)
	// Keep what was read, so a rejection names the server and target.
	if req.ServerID != "" {
		o.ServerID = clip(req.ServerID)
	}
	o.ProjectID, o.Region, o.Target = clip(req.ProjectID), clip(req.Region), req.Target
	var ps []Problem
	if err != nil {
		ps = err.(*ValidationError).Problems
	}
	if s := e.Subject(); s != "" && req.ServerID != "" && s != req.ServerID {
		ps = append(ps, Problem{Field: "subject", Problem: "must equal data.server_id (or be absent)"})
	}
	if len(ps) > 0 {
		return nil, decodeErr(ErrInvalidPayload, o, "", ps)
	}
	return &Placement{
		ID:          e.ID(),
		Source:      e.Source(),
		Time:        e.Time(),
		TraceParent: tp,
		TraceState:  ts,
		Request:     req,
	}, nil
}

// trace returns the event's W3C trace context as [traceContext] keeps it.
func trace(e event.Event) (parent, state string) {
	ext := e.Extensions()
	tp, _ := ext["traceparent"].(string)
	ts, _ := ext["tracestate"].(string)
	return traceContext(tp, ts)
}
